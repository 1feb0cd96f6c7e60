"""`dsprogress status`: progress from the snapshot and the history, without any network.

A screen to keep open: coloured bars (plain under NO_COLOR), what is in progress and for how long,
the next three items, this week's completions. Every number comes from `sync.progress`; this
module only lays them out, to fit the terminal down to 50 columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from sync.checklist import Checklist, ChecklistItem
from sync.cli.context import load_cli_settings, load_configured_checklist
from sync.cli.output import console, echo_json, print_wrapped
from sync.config import Settings
from sync.errors import StateError
from sync.links import shown_url
from sync.model import ItemState, TickEvent
from sync.open_items import in_progress_items, next_up
from sync.progress import (
    Completion,
    build_item_order,
    build_timelines,
    completions_in_week,
    done_by_week,
    sort_keys,
    stored_status,
)
from sync.row_reads import describe_trash_check, parse_moment
from sync.snapshot import GroupProgress, Progress, Snapshot, load_snapshot
from sync.store import open_store, utc_now
from sync.weeks import build_week_window, week_containing
from sync.wording import format_day, format_in_progress, skipped_note

MAX_BAR = 24
MIN_BAR = 6
NEXT_COUNT = 3
MAX_LISTED = 5
"""This week's completions and items in progress listed by name; beyond it, a count."""


def render_bar(done: int, total: int, width: int = 20, *, colour: bool = False) -> str:
    """A bar of `width` cells, rounded down as percents are; with markup colours when asked."""
    filled = width * done // total if total > 0 else 0
    full, empty = "█" * filled, "░" * (width - filled)
    if not colour:
        return full + empty
    return (f"[green]{full}[/]" if full else "") + (f"[bright_black]{empty}[/]" if empty else "")


def plan_bar_width(terminal_width: int, name_width: int) -> int:
    """The bar's width so that name, bar, `done/total` and `%` fit on one line."""
    room = terminal_width - name_width - len(" 100/100 100%") - 2
    return max(MIN_BAR, min(MAX_BAR, room))


@dataclass(frozen=True)
class Started:
    key: str
    title: str
    where: str
    since: datetime | None
    notes: str


@dataclass(frozen=True)
class Listed:
    """What `status` lists, from the functions the digest lists its sections with."""

    started: list[Started]
    upcoming: list[ChecklistItem]
    completions: list[tuple[Completion, str, str | None]]  # (completion, title, level)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def status(as_json: bool) -> None:
    """Show your progress from the last sync, without any network.

    Bars overall, per level and per category; what is in progress and for how long; the next
    three items to start; this week's completions.
    """
    print_status(load_cli_settings(), as_json=as_json)


def print_status(settings: Settings, *, as_json: bool = False) -> None:
    """Print progress from the snapshot, the state and the history."""
    snapshot = load_snapshot(settings.state_dir)
    if snapshot is None:
        raise StateError(
            f"no snapshot yet in {settings.state_dir}",
            hint="Run `dsprogress sync` first (or `dsprogress init` to set everything up).",
        )
    checklist = load_configured_checklist(settings)
    now = utc_now()
    with open_store(settings.state_dir) as store:
        history = store.load_history()
        items = store.load_items()
        last_pull = store.last_successful_pull()
        trash_seen = describe_trash_check(
            store.count_remote_rows(), parse_moment(store.get_meta("last_full_read"))
        )
    listed = list_status(snapshot, checklist, items, history, settings, now)
    if as_json:
        weekly = done_by_week(items, settings.week_start)
        echo_json(_status_json(snapshot, listed, last_pull, weekly, trash_seen))
        return
    _print_screen(snapshot, listed, settings, now, trash_seen)


def list_status(
    snapshot: Snapshot,
    checklist: Checklist,
    items: Mapping[str, ItemState],
    history: Sequence[TickEvent],
    settings: Settings,
    now: datetime,
) -> Listed:
    """In progress, next up and this week's completions: the digest's lists, as of `now`."""
    week = week_containing(now, settings.zone, settings.week_start)
    window = build_week_window(week, settings.zone, settings.week_start)
    timelines = build_timelines(history, settings.zone, checklist)
    titles = {item.key: (item.title, item.level) for item in snapshot.items}
    status_of = stored_status(items)
    done = {c.key: c for c in completions_in_week(timelines, window)}
    completions = [
        (done[key], *titles.get(key, (timelines[key].title, None)))
        for key in sort_keys(done, build_item_order(checklist, items))
    ]
    started = []
    for key, since in in_progress_items(checklist, items, timelines, status_of, now):
        state = items.get(key)
        title, level = titles.get(key, (state.title if state else key, None))
        notes = " ".join(state.notes.split()) if state else ""
        started.append(Started(key, title, level or "own item", since, notes))
    return Listed(started, next_up(checklist, status_of, NEXT_COUNT), completions)


def _status_json(
    snapshot: Snapshot,
    listed: Listed,
    last_pull: datetime | None,
    weekly: Sequence[tuple[date, int]],
    trash_seen: datetime | None,
) -> Any:
    return {
        "synced_at": snapshot.synced_at.isoformat(),
        "last_successful_sync": last_pull.isoformat() if last_pull else None,
        "trashed_rows_noticed_until": trash_seen.isoformat() if trash_seen else None,
        "database_url": snapshot.database_url,
        "progress": snapshot.progress.model_dump(),
        "levels": [g.model_dump() for g in snapshot.levels],
        "done_by_week": [{"week_of": first.isoformat(), "done": count} for first, count in weekly],
        "categories": [g.model_dump() for g in snapshot.categories],
        "in_progress": [
            {
                "key": s.key,
                "title": s.title,
                "level": None if s.where == "own item" else s.where,
                "since": s.since.isoformat() if s.since else None,
                "notes": s.notes,
            }
            for s in listed.started
        ],
        "next_up": [
            {"key": i.key, "title": i.title, "level": i.level, "category": i.category}
            for i in listed.upcoming
        ],
        "this_week": [
            {"key": c.key, "title": title, "level": level, "completed_on": c.day.isoformat()}
            for c, title, level in listed.completions
        ],
    }


def _print_screen(
    snapshot: Snapshot,
    listed: Listed,
    settings: Settings,
    now: datetime,
    trash_seen: datetime | None,
) -> None:
    console.print(f"[bold]{escape(snapshot.checklist_title)}[/]")
    console.print(_progress_table(snapshot.progress, snapshot.levels, snapshot.categories))
    note = skipped_note(snapshot.progress.skipped)
    if note:
        console.print(f"[dim]{escape(note)}[/]")
    _print_started(listed.started, now, settings)
    if listed.upcoming:
        console.print("[bold]Next up[/]")
        _print_list(
            (f"{number}.", f"{escape(item.title)} [dim]({escape(item.level)})[/]")
            for number, item in enumerate(listed.upcoming, start=1)
        )
    completions = listed.completions
    if completions:
        console.print(f"[bold]This week:[/] {len(completions)} done")
        _print_list(
            ("[green]✓[/]", f"{escape(title)} [dim]({escape(where or 'own item')})[/]")
            for _, title, where in completions[:MAX_LISTED]
        )
        if len(completions) > MAX_LISTED:
            console.print(f"  [dim]… and {len(completions) - MAX_LISTED} more[/]")
    else:
        console.print("[bold]This week:[/] nothing ticked yet")
    synced = snapshot.synced_at.astimezone(settings.zone)
    local_sync = f"{format_day(synced.date())} {synced:%H:%M %Z}"
    console.print(f"[dim]Last sync: {local_sync}[/]")
    if trash_seen is not None:  # a table over one page: trashed rows show at the full read
        seen = trash_seen.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M %Z")
        console.print(f"[dim]Rows trashed in Notion noticed up to: {seen} (`sync --full`)[/]")
    url = shown_url(snapshot.database_url, settings.notion_base_url)
    if url:
        console.print(f"[dim]Notion:[/] {url}")  # one line: a link stays whole


def _progress_table(
    overall: Progress, levels: list[GroupProgress], categories: list[GroupProgress]
) -> Table:
    rows: list[tuple[str, Progress, bool]] = [("Overall", overall, True)]
    for level in levels:
        rows.append((level.name, level, True))
        for category in categories:
            if category.name.startswith(f"{level.name} / "):
                rows.append(("  " + category.name.split(" / ", 1)[1], category, False))
    width = console.width
    longest = max(len(name) for name, _, _ in rows)
    name_width = min(longest, max(12, width - MIN_BAR - len(" 100/100 100%") - 2))
    bar_width = plan_bar_width(width, name_width)
    colour = console.color_system is not None
    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=name_width)
    table.add_column(no_wrap=True, width=bar_width)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(no_wrap=True, justify="right")
    for name, numbers, bold in rows:
        table.add_row(
            f"[bold]{escape(name)}[/]" if bold else escape(name),
            render_bar(numbers.done, numbers.total, bar_width, colour=colour),
            f"{numbers.done}/{numbers.total}",
            f"{numbers.percent}%",
        )
    return table


def _print_list(rows: Iterable[tuple[str, str]]) -> None:
    """List lines `  ◐ text` whose long text wraps under itself, not under the marker, so the
    screen stays readable down to 50 columns."""
    from rich.text import Text

    for marker, markup in rows:
        pad = " " * (3 - Text.from_markup(marker).cell_len)
        print_wrapped(markup, f"{pad}{marker} ", 4, console)


def _print_started(started: list[Started], now: datetime, settings: Settings) -> None:
    if not started:
        return
    console.print(f"[bold]In progress:[/] {len(started)}")
    rows = []
    for item in started[:MAX_LISTED]:
        days = max(0, (now - item.since).days) if item.since else None
        since = item.since.astimezone(settings.zone).date() if item.since else None
        rows.append(
            (
                "[yellow]◐[/]",
                f"{escape(item.title)} [dim]({escape(item.where)}, "
                f"{format_in_progress(days, since)})[/]",
            )
        )
        if item.notes:
            rows.append(("", f"[dim]Notes:[/] {escape(item.notes)}"))
    _print_list(rows)
    if len(started) > MAX_LISTED:
        console.print(f"  [dim]… and {len(started) - MAX_LISTED} more[/]")
