"""`dsprogress history`: the dated history of your items, as pulled from Notion (no network)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from sync.cli.context import load_cli_settings, parse_week_option
from sync.cli.output import console, echo_json
from sync.errors import StateError
from sync.model import Status, TickEvent

if TYPE_CHECKING:
    from sync.weeks import WeekWindow

STATUS_WORDS: dict[Status, tuple[str, str]] = {
    "done": ("✓", "done"),
    "in_progress": ("◐", "in progress"),
    "skipped": ("–", "skipped"),
    "not_started": ("○", "not started"),
}


def is_news(event: TickEvent) -> bool:
    """Worth a line: every change, but not the first sight of an item nobody has started."""
    return event.from_status is not None or event.to_status != "not_started"


def event_json(event: TickEvent) -> dict[str, Any]:
    return {
        "key": event.key,
        "title": event.title,
        "level": event.level,
        "category": event.category,
        "from": event.from_status,
        "to": event.to_status,
        "observed_at": event.observed_at.isoformat(),
        "window_start": event.window_start.isoformat() if event.window_start else None,
        "done_on": event.done_on.isoformat() if event.done_on else None,
        "rebuilt": event.rebuilt,
    }


def render_event_line(event: TickEvent, zone: tzinfo) -> str:
    """`2026-11-24 21:15  ✓ done  Dense layers (Entry), done on 2026-11-20`: when the sync saw
    the change, and for a completion the day it counts for (its Done on, as the digest dates
    it)."""
    mark, word = STATUS_WORDS[event.to_status]
    when = event.observed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    where = event.level or "own item"
    line = f"{when}  {mark} {word:<11}  {event.title} ({where})"
    if event.done_before_tracking:
        line += ", done before tracking began"
    if event.to_status == "done" and not event.done_before_tracking:
        day = event.done_on or event.observed_at.astimezone(zone).date()
        line += f", done on {day.isoformat()}"
    return line


def is_in_week(event: TickEvent, window: WeekWindow) -> bool:
    """Seen during the week, or a completion whose Done on is one of its days (the digest of
    that week counts it)."""
    if window.contains(event.observed_at):
        return True
    return event.done_on is not None and window.first_day <= event.done_on <= window.last_day


@click.command()
@click.option(
    "--week",
    metavar="YYYY-Www",
    callback=parse_week_option,
    help="Only this ISO week, e.g. 2026-W48 (in your time zone): the changes seen in it and "
    "the items done on one of its days, as that week's digest counts them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print every event as JSON.")
def history(week: Any, as_json: bool) -> None:
    """Show the dated history: when each item was seen done, in progress or skipped.

    Each line is a change pulled from Notion, at the time the sync saw it; a completion also
    shows the day it counts for (its Done on), which is how the digest dates it. --json prints
    every event, first sightings included.
    """
    from sync.store import STATE_FILE, open_store
    from sync.weeks import build_week_window, format_week

    settings = load_cli_settings()
    if not (settings.state_dir / STATE_FILE).exists():
        raise StateError(
            f"no history yet in {settings.state_dir}",
            hint="Run `dsprogress sync` first (or `dsprogress init` to set everything up).",
        )
    window = build_week_window(week, settings.zone, settings.week_start) if week else None
    with open_store(settings.state_dir) as store:
        events = store.load_history()
    if window is not None:
        events = [event for event in events if is_in_week(event, window)]
    if as_json:
        echo_json([event_json(e) for e in events])
        return
    shown = [e for e in events if is_news(e)]
    scope = f" in {format_week(window)}" if window else ""
    print_history(shown, settings.zone, scope)


def print_history(events: Sequence[TickEvent], zone: tzinfo, scope: str) -> None:
    if not events:
        later = "" if scope else " yet: tick items in Notion, then `dsprogress sync`"
        console.print(escape(f"No changes recorded{scope}{later}."))
        return
    count = f"{len(events)} change{'s' * (len(events) != 1)}{scope}"
    console.print(
        f"[bold]{escape(count)}[/] [dim](seen at, in {escape(str(zone))}; done on: the day a "
        "completion counts for)[/]"
    )
    for event in events:
        console.print(escape(render_event_line(event, zone)), highlight=False)
