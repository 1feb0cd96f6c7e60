"""`dsprogress demo`: see the whole loop work against a local sandbox."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from sync.checklist import Checklist
from sync.cli.live import run_display
from sync.cli.output import console, err_console, is_quiet
from sync.cli.report import print_report
from sync.cli.status_cmd import print_status
from sync.config import Settings
from sync.demo import run_demo
from sync.engine import SyncReport, run_sync


def _sync_and_show(settings: Settings, checklist: Checklist) -> SyncReport:
    with run_display(err_console, "Writing to Notion", enabled=True, quiet=is_quiet()) as display:
        report = run_sync(settings, checklist, mode="sync", **display.hooks())
    print_report(report, settings.notion_base_url)
    return report


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
    folder = run_demo(
        lambda line: console.print(escape(line), highlight=False),
        _sync_and_show,
        print_status,
        state_dir=state_dir,
    )
    console.print(f"\nSnapshot: {folder / 'snapshot.json'}")
    console.print("Next: connect your real workspace with `dsprogress init` (see the README).")
