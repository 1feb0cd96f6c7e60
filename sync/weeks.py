"""Weeks in the learner's time zone: labels like `2026-W48` and their exact UTC windows.

A week is labelled by its ISO year and week number. With Monday-start weeks (the default) the
window is the ISO week itself; with Sunday-start weeks it begins the Sunday before the ISO Monday,
so `2026-W48` is Sun 22 Nov - Sat 28 Nov 2026. A window runs from local midnight of its first day
to local midnight of the next week's first day, each converted to UTC on its own, so a week that
crosses a daylight-saving change is 167 or 169 hours long and still starts and ends at midnight.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

WeekStart = Literal["mon", "sun"]
MIN_YEAR = 1970  # every week label and its neighbours stay within the dates Python can show
MAX_YEAR = 9000
_WEEK_LABEL = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class WeekId:
    """An ISO year and week number; `str()` gives `2026-W48`."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(
                f"{self.year} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}"
            )
        last = date(self.year, 12, 28).isocalendar().week
        if not 1 <= self.week <= last:
            raise ValueError(f"{self.year} has weeks 1 to {last}, not {self.week}")

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def shift(self, weeks: int) -> WeekId:
        """The week `weeks` later (negative: earlier)."""
        iso = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return WeekId(iso.year, iso.week)


@dataclass(frozen=True)
class WeekWindow:
    """One week as the half-open interval [start, end) in UTC, with its local calendar days."""

    week: WeekId
    zone: str
    week_start: WeekStart
    first_day: date
    start: datetime
    end: datetime

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    @property
    def start_local(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.zone))

    @property
    def end_local(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.zone))

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def parse_week(text: str) -> WeekId:
    """Parse `2026-W48` (also `2026W48`, `2026-w5`); raise ValueError with the expected form."""
    match = _WEEK_LABEL.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a week; use the ISO form YYYY-Www, e.g. 2026-W48")
    return WeekId(int(match.group(1)), int(match.group(2)))


def first_day_of(week: WeekId, week_start: WeekStart) -> date:
    """The local calendar day a week begins on."""
    return week.monday - timedelta(days=1) if week_start == "sun" else week.monday


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, in UTC.

    Where midnight itself is skipped by a clock change, the day begins at the first instant after
    the gap (zoneinfo reads the missing wall time with the offset in force before the change).
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def build_week_window(week: WeekId, zone: ZoneInfo, week_start: WeekStart = "mon") -> WeekWindow:
    first = first_day_of(week, week_start)
    return WeekWindow(
        week=week,
        zone=zone.key,
        week_start=week_start,
        first_day=first,
        start=local_midnight(first, zone),
        end=local_midnight(first + timedelta(days=7), zone),
    )


def week_of_day(day: date, week_start: WeekStart = "mon") -> WeekId:
    """The week a local calendar day belongs to."""
    iso = (day + timedelta(days=1) if week_start == "sun" else day).isocalendar()
    return WeekId(iso.year, iso.week)


def week_containing(moment: datetime, zone: ZoneInfo, week_start: WeekStart = "mon") -> WeekId:
    """The week an aware instant falls in, seen from `zone`."""
    if moment.tzinfo is None:
        raise ValueError("week_containing needs an aware datetime")
    return week_of_day(moment.astimezone(zone).date(), week_start)


def last_complete_week(now: datetime, zone: ZoneInfo, week_start: WeekStart = "mon") -> WeekId:
    """The most recent week that has fully ended at `now`: the one a weekly digest reports on."""
    return week_containing(now, zone, week_start).shift(-1)


def weeks_between(first: WeekId, last: WeekId) -> int:
    """How many weeks `last` is after `first` (0 for the same week)."""
    return (last.monday - first.monday).days // 7


def format_utc_offset(moment: datetime) -> str:
    """`UTC+01:00`, `UTC-05:00`, `UTC` for a zero offset."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def format_day_range(first: date, last: date) -> str:
    """A week's days as people write them: `23–29 Nov`, `30 Nov – 6 Dec`, `28 Dec – 3 Jan 2027`."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b}"
    return f"{first.day} {first:%b} {first.year} – {last.day} {last:%b} {last.year}"


def format_week(window: WeekWindow) -> str:
    """`2026-W48 (23–29 Nov)`: the ISO code with the days it covers."""
    return f"{window.week} ({format_day_range(window.first_day, window.last_day)})"
