"""A run's report in the learner's words: what happened to their items, not the engine's verbs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from sync.actions import AdoptRow, HealDuplicate, Plan, ReportDuplicate, ReportUnknownKey
from sync.cli.output import console, err_console, is_quiet, print_wrapped
from sync.config import DEFAULT_BASE_URL
from sync.links import shown_url
from sync.model import TickEvent

if TYPE_CHECKING:
    from sync.engine import SyncReport

MAX_NAMED = 3
"""Up to this many titles are named in a summary; beyond it, only the count."""


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _named(titles: Sequence[str]) -> str:
    if not titles or len(titles) > MAX_NAMED:
        return ""
    return " (" + ", ".join(f"'{t}'" for t in titles) + ")"


def build_tick_phrases(events: Sequence[TickEvent], adopted: set[str]) -> list[str]:
    """What the learner did in Notion since the last pull, counted once per item."""
    done: list[str] = []
    already: list[str] = []
    started: list[str] = []
    skipped: list[str] = []
    reopened: list[str] = []
    for event in events:
        if event.key in adopted:
            continue  # an own item picked up is told once, as picked up
        if event.from_status is None:
            if event.to_status == "done":
                already.append(event.title)
            continue  # a first sight of a not-started item is no news
        bucket = {
            "done": done,
            "in_progress": started,
            "skipped": skipped,
            "not_started": reopened,
        }[event.to_status]
        bucket.append(event.title)
    phrases = []
    if done:
        phrases.append(_plural(len(done), "item") + " done" + _named(done))
    if started:
        phrases.append(f"{len(started)} in progress{_named(started)}")
    if skipped:
        phrases.append(f"{len(skipped)} skipped{_named(skipped)}")
    if reopened:
        phrases.append(f"{len(reopened)} back to not started{_named(reopened)}")
    if already:
        phrases.append(f"{len(already)} already done")
    return phrases


def build_summary(report: SyncReport) -> str:
    """One line: what changed, for the learner ("3 items done, 1 in progress, ...")."""
    plan: Plan = report.plan
    counts = report.counts()
    adoptions = [a for a in plan.notion_actions if isinstance(a, AdoptRow)]
    phrases: list[str] = []
    if counts["create"]:
        phrases.append(_plural(counts["create"], "item") + " added to Notion")
    events = [t.event for t in plan.ticks] + report.late_ticks
    phrases += build_tick_phrases(events, {a.key for a in adoptions})
    if adoptions:
        titles = [a.title for a in adoptions]
        if len(titles) == 1:
            phrases.append(f"your own item '{titles[0]}' picked up")
        else:
            phrases.append(f"{len(titles)} own items picked up{_named(titles)}")
    if counts["update"]:
        phrases.append(_plural(counts["update"], "item") + " updated from the checklist")
    if counts["migrate"]:
        phrases.append(_plural(counts["migrate"], "renamed item") + " kept their ticks")
    if counts["retire"]:
        phrases.append(_plural(counts["retire"], "item") + " no longer in the checklist (retired)")
    if counts["trash"]:
        phrases.append(_plural(counts["trash"], "retired page") + " moved to Notion's Trash")
    if counts["fill-done-on"]:
        phrases.append("Done on filled in for " + _plural(counts["fill-done-on"], "item"))
    if counts["restore-key"]:
        phrases.append(_plural(counts["restore-key"], "Key") + " put back")
    if counts["heal"]:
        phrases.append(_plural(counts["heal"], "duplicated item") + " merged into one row")
    return ", ".join(phrases) if phrases else "no changes"


def render_report_line(report: SyncReport) -> str:
    verb = "Would do" if report.dry_run else f"{report.mode.capitalize()} done"
    return (
        f"{verb}: {build_summary(report)} "
        f"({_plural(report.requests, 'request')}, {report.duration:.1f} s)"
    )


def print_report(report: SyncReport, base_url: str = DEFAULT_BASE_URL) -> None:
    if report.dry_run:
        console.print(f"[bold]Plan ({report.mode}, dry run: nothing written)[/]")
        if report.created_database:
            console.print("  create-database  the checklist database under the parent page")
        for action in report.plan.actions:
            console.print(f"  {escape(render_plan_line(action))}")
        if report.plan.is_noop and not report.created_database:
            console.print("  nothing to do")
    _print_database_story(report, shown_url(report.database_url, base_url))
    print_wrapped(escape(render_report_line(report)), "", 2)  # wrapped between words
    for line in render_findings(report.plan):
        err_console.print(f"[yellow]Note:[/] {escape(line)}")


def _print_database_story(report: SyncReport, url: str | None) -> None:
    """What happened to the state and the database, told before the run's summary (in the
    order it happened: the database is found or created before items are written)."""
    if report.state_moved_aside is not None:
        err_console.print(
            f"The state file was damaged: moved it to {escape(str(report.state_moved_aside))} "
            "(kept, not deleted) and rebuilt the state from Notion."
        )
    if report.switched_from is not None:
        console.print(
            f"NOTION_DATABASE_ID names another database than {report.switched_from}: the state "
            f"folder {'would follow' if report.dry_run else 'now follows'} "
            f"{url or report.database_id}, rebuilt from it (the history is kept)."
        )
    if report.found_database and url:
        console.print(f"Found your checklist database: {url}")
    if report.created_database and url and not report.dry_run:
        console.print(f"Created the checklist database: {url}")
    if report.cockpit_added and not report.created_database:
        console.print("Added the Progress tab (charts of your progress) to the checklist database.")


def render_findings(plan: Plan) -> list[str]:
    """What the run healed, and what it left for the learner to fix (one line each)."""
    lines = []
    for found in plan.reports:
        if isinstance(found, HealDuplicate):
            merged = ", ".join(found.merged) or "nothing to merge"
            lines.append(
                f"{found.key} had {len(found.trashed_page_ids) + 1} rows: kept the oldest "
                f"({found.kept_page_id}; merged: {merged}) and moved the others to Notion's Trash "
                "(restorable there)."
            )
        elif isinstance(found, ReportDuplicate):
            lines.append(
                f"{found.key} has {len(found.other_page_ids) + 1} rows whose "
                f"{' and '.join(found.conflicts)} differ: kept them all. In Notion, keep the "
                f"value you want in the oldest row ({found.kept_page_id}) and delete the others."
            )
        elif isinstance(found, ReportUnknownKey):
            lines.append(
                f'the row "{found.title}" has the Key "{found.key}", which is not in the '
                "checklist: clear its Key to make it your own item, or set it to a checklist key."
            )
    return lines


def print_snapshot_line(report: SyncReport) -> None:
    if report.snapshot_path and not is_quiet():
        console.print(f"Snapshot: {report.snapshot_path}")


def render_plan_line(action: Any) -> str:
    from sync.engine import describe_action

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


def print_database_after_interrupt(state_dir: Path) -> None:
    """After Ctrl-C: where the (maybe half-filled) database is, so it is not lost from sight."""
    from sync.store import open_store

    try:
        with open_store(state_dir) as store:
            url = store.get_meta("database_url")
    except Exception:  # the state may be what was interrupted; the reminder is best effort
        return
    if url:
        err_console.print(f"Your checklist database: {url}", soft_wrap=True)
        err_console.print("Run `dsprogress sync` to finish where this stopped.")
