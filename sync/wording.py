"""PURE: the words that `dsprogress status` and the digest both say, so they say them alike.

Days and numbers, plurals, how long an item has been in progress, and the note on skipped items.
No clock and no I/O: every moment is an argument.
"""

from __future__ import annotations

from datetime import date

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_day(day: date) -> str:
    """`Mon 23 Nov 2026`, the same in every locale."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_number(value: float) -> str:
    """`2`, `1.5`, `0.25`: no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def plural(count: int | float, word: str) -> str:
    shown = format_number(count) if isinstance(count, float) else str(count)
    return f"{shown} {word}" if count == 1 else f"{shown} {word}s"


def format_duration(days: int | None) -> str:
    """`for 3 days`, `for 2 weeks`; `started today` under a day; `for a while` when unknown."""
    if days is None:
        return "for a while"
    if days < 1:
        return "started today"
    if days < 14:
        return f"for {plural(days, 'day')}"
    return f"for {plural(days // 7, 'week')}"


def format_in_progress(days: int | None, since: date | None) -> str:
    """How long an item has been in progress: `for 10 days, since Thu 26 Nov 2026`,
    `started today`, `for a while` (a run whose start no sync saw)."""
    text = format_duration(days)
    if since is None or days is None or days < 1:
        return text
    return f"{text}, since {format_day(since)}"


def skipped_note(skipped: int) -> str | None:
    """The line under the totals when items are skipped (they leave the total, as retired items
    do); None when nothing is skipped."""
    return f"{plural(skipped, 'skipped item')} not counted." if skipped else None
