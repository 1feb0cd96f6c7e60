"""`dsprogress push | pull | sync`: one run of the engine, reported for people or as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape

from sync.actions import Mode, TrashPage
from sync.cli.context import load_cli_settings, load_configured_checklist
from sync.cli.live import run_display
from sync.cli.output import echo_json, err_console, is_quiet
from sync.cli.report import print_database_after_interrupt, print_report, print_snapshot_line
from sync.cli.stop import stop_on_sigterm
from sync.engine import SyncReport, describe_action, run_sync


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--json", "as_json", is_flag=True, help="Print a machine-readable report on stdout."
    )(func)
    func = click.option(
        "--force", is_flag=True, help="Proceed past a safety halt (e.g. Notion returned no rows)."
    )(func)
    func = click.option(
        "--dry-run", is_flag=True, help="Print the plan and write nothing, in Notion or locally."
    )(func)
    func = click.option(
        "--full",
        is_flag=True,
        help="Read every row, not only those edited since the last run (notices rows trashed "
        "in Notion; done anyway every DSPROGRESS_FULL_READ_INTERVAL).",
    )(func)
    return func


def _run(
    mode: Mode,
    dry_run: bool,
    force: bool,
    as_json: bool,
    full: bool,
    prune: bool = False,
    yes: bool = False,
) -> None:
    settings = load_cli_settings()
    checklist = load_configured_checklist(settings)

    def confirm(trash: list[TrashPage]) -> bool:
        if yes:
            return True
        if as_json:
            return False
        display.stop()
        for action in trash:
            err_console.print(f"  trash {escape(action.key)}: {escape(action.title)}")
        return click.confirm(f"Move these {len(trash)} retired pages to Notion's Trash?")

    with stop_on_sigterm() as stop:  # SIGTERM: stop at the next action boundary, exit 143
        try:
            with run_display(
                err_console,
                "Writing to Notion",
                enabled=not as_json and not dry_run,
                quiet=is_quiet(),
            ) as display:
                report = run_sync(
                    settings,
                    checklist,
                    mode=mode,
                    dry_run=dry_run,
                    force=force,
                    prune=prune,
                    confirm_prune=confirm,
                    full=full,
                    **stop.guard_hooks(display.hooks()),
                )
        except KeyboardInterrupt:
            print_database_after_interrupt(settings.state_dir)
            raise
        if as_json:
            echo_json(build_report_json(report))
        else:
            print_report(report, settings.notion_base_url)
            print_snapshot_line(report)


def build_report_json(report: SyncReport) -> dict[str, Any]:
    return {
        "mode": report.mode,
        "dry_run": report.dry_run,
        "database_id": report.database_id,
        "database_url": report.database_url,
        "created_database": report.created_database,
        "found_database": report.found_database,
        "switched_from": report.switched_from,
        "state_moved_aside": str(report.state_moved_aside) if report.state_moved_aside else None,
        "counts": report.counts(),
        "actions": [describe_action(a) for a in report.plan.actions],
        "requests": report.requests,
        "read": report.read,
        "rows_read": report.rows_read,
        "retries": report.retries,
        "duration_seconds": report.duration,
        "snapshot": str(report.snapshot_path) if report.snapshot_path else None,
    }


@click.command()
@_options
@click.option(
    "--prune", is_flag=True, help="Move retired items' pages to Notion's Trash (asks first)."
)
@click.option("--yes", is_flag=True, help="Confirm --prune without asking.")
def push(dry_run: bool, force: bool, as_json: bool, full: bool, prune: bool, yes: bool) -> None:
    """Push the checklist into Notion: create the database, add and update items.

    Items removed from the checklist are marked retired, never deleted; --prune moves them to
    Notion's Trash after a confirmation.
    """
    _run("push", dry_run, force, as_json, full, prune=prune, yes=yes)


@click.command()
@_options
def pull(dry_run: bool, force: bool, as_json: bool, full: bool) -> None:
    """Pull ticks from Notion into the snapshot and the dated history."""
    _run("pull", dry_run, force, as_json, full)


@click.command(name="sync")
@_options
def sync_command(dry_run: bool, force: bool, as_json: bool, full: bool) -> None:
    """Push, then pull, in one run (what the scheduler does)."""
    _run("sync", dry_run, force, as_json, full)
