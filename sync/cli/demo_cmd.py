"""`dsprogress demo`: see the whole loop work against a local sandbox."""

from __future__ import annotations

from pathlib import Path

import click

from sync.cli.output import console
from sync.cli.status_cmd import print_status
from sync.cli.sync_cmd import print_report, progress_bar
from sync.demo import run_demo


@click.command()
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's state here (default: a new temporary folder).",
)
def demo(state_dir: Path | None) -> None:
    """Run the whole loop against a local Notion sandbox, no account needed.

    Syncs the checklist, ticks items as a learner would in Notion, syncs again and shows the
    progress. Nothing touches your real workspace or your own state folder.
    """
    with progress_bar(console.is_terminal) as progress:
        folder = run_demo(
            lambda line: console.print(line, highlight=False),
            print_report,
            print_status,
            state_dir=state_dir,
            progress=progress,
        )
    console.print(f"\nSnapshot: {folder / 'snapshot.json'}")
    console.print("Next: connect your real workspace with `dsprogress init` (see the README).")
