"""`dsprogress push | pull | sync`: one run of the engine, reported for people or as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sync.cli.context import load_cli_settings, load_configured_checklist
from sync.cli.output import console, echo_json, err_console
from sync.engine import SyncReport, describe_action, run_sync
from sync.plan import Mode, TrashPage

PROGRESS_MIN_ACTIONS = 10


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
    return func


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("Writing to Notion", total=None)

        def advance(done: int, total: int, verb: str) -> None:
            if total >= PROGRESS_MIN_ACTIONS:
                bar.update(task, completed=done, total=total)

        yield advance


def _run(
    mode: Mode, dry_run: bool, force: bool, as_json: bool, prune: bool = False, yes: bool = False
) -> None:
    settings = load_cli_settings()
    checklist = load_configured_checklist(settings)

    def confirm(trash: list[TrashPage]) -> bool:
        if yes:
            return True
        if as_json:
            return False
        for action in trash:
            err_console.print(f"  trash {escape(action.key)}: {escape(action.title)}")
        return click.confirm(f"Move these {len(trash)} retired pages to Notion's Trash?")

    with progress_bar(not as_json and not dry_run and err_console.is_terminal) as progress:
        report = run_sync(
            settings,
            checklist,
            mode=mode,
            dry_run=dry_run,
            force=force,
            prune=prune,
            confirm_prune=confirm,
            progress=progress,
        )
    if as_json:
        echo_json(build_report_json(report))
    else:
        print_report(report)


def build_report_json(report: SyncReport) -> dict[str, Any]:
    return {
        "mode": report.mode,
        "dry_run": report.dry_run,
        "database_id": report.database_id,
        "database_url": report.database_url,
        "created_database": report.created_database,
        "counts": report.counts(),
        "actions": [describe_action(a) for a in report.plan.actions],
        "requests": report.requests,
        "retries": report.retries,
        "duration_seconds": report.duration,
        "snapshot": str(report.snapshot_path) if report.snapshot_path else None,
    }


def print_report(report: SyncReport) -> None:
    if report.dry_run:
        console.print(f"[bold]Plan ({report.mode}, dry run: nothing written)[/]")
        if report.created_database:
            console.print("  create-database  the checklist database under the parent page")
        for action in report.plan.actions:
            console.print(f"  {escape(_describe_line(action))}")
        if report.plan.is_noop and not report.created_database:
            console.print("  nothing to do")
    counts = report.counts()
    parts = [f"{n} {verb}" for verb, n in counts.items() if n]
    summary = ", ".join(parts) if parts else "no changes"
    verb = "Would do" if report.dry_run else "Done"
    console.print(
        f"{verb}: {summary} ({report.requests} requests, {report.duration:.1f}s)", highlight=False
    )
    for duplicate in (a for a in report.plan.duplicates):
        err_console.print(
            f"[yellow]Warning:[/] {len(duplicate.other_page_ids)} extra row(s) carry the key "
            f"{escape(duplicate.key)}; kept {duplicate.kept_page_id}, left the others alone "
            "(delete them in Notion when you like)."
        )
    if report.created_database and report.database_url and not report.dry_run:
        console.print(f"Created the checklist database: {report.database_url}")
    if report.snapshot_path:
        console.print(f"Snapshot: {report.snapshot_path}")


def _describe_line(action: Any) -> str:
    data = describe_action(action)
    verb = data.pop("action")
    key = data.pop("key", None) or data.get("event", {}).get("key", "")
    if verb == "tick":
        event = data["event"]
        return f"tick         {key}: {event['from'] or 'first seen'} -> {event['to']}"
    if verb == "update":
        return f"update       {key}: {', '.join(data['changes'])}"
    if verb == "migrate":
        return f"migrate      {data['old_key']} -> {data['new_key']}"
    if verb == "add-columns":
        return f"add-columns  {', '.join(data['fields'])}"
    if verb == "duplicate":
        return f"duplicate    {key}: keeping {data['kept_page_id']}"
    title = data.get("values", {}).get("title") or data.get("title") or data.get("day") or ""
    return f"{verb:<12} {key}: {title}"


@click.command()
@_options
@click.option(
    "--prune", is_flag=True, help="Move retired items' pages to Notion's Trash (asks first)."
)
@click.option("--yes", is_flag=True, help="Confirm --prune without asking.")
def push(dry_run: bool, force: bool, as_json: bool, prune: bool, yes: bool) -> None:
    """Push the checklist into Notion: create the database, add and update items.

    Items removed from the checklist are marked retired, never deleted; --prune moves them to
    Notion's Trash after a confirmation.
    """
    _run("push", dry_run, force, as_json, prune=prune, yes=yes)


@click.command()
@_options
def pull(dry_run: bool, force: bool, as_json: bool) -> None:
    """Pull ticks from Notion into the snapshot and the dated history."""
    _run("pull", dry_run, force, as_json)


@click.command(name="sync")
@_options
def sync_command(dry_run: bool, force: bool, as_json: bool) -> None:
    """Push, then pull, in one run (what the scheduler does)."""
    _run("sync", dry_run, force, as_json)
