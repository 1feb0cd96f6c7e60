"""Dates as Notion handles them (recorded): values answered with date-only kept and date-times cut
to the minute with the zone's offset applied and `time_zone: null`; relative filter ranges."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.sandbox.ids import JSON
from sync.sandbox.validate import invalid, require_object, require_str

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Relative date conditions (recorded, today = 2026-06-27): whole days from today, both ends
# included; a month or a year is a calendar one (past_month took 05-27, next_year 2027-06-27).
_RELATIVE = {
    "past_week": (0, 0, -7),
    "past_month": (0, -1, 0),
    "past_year": (-1, 0, 0),
    "next_week": (0, 0, 7),
    "next_month": (0, 1, 0),
    "next_year": (1, 0, 0),
}
RELATIVE_CONDITIONS = (*_RELATIVE, "this_week")


def _normalize_moment(raw: Any, path: str, zone: ZoneInfo | None) -> str:
    """One end of a date value as Notion answers it (see `normalize_date`)."""
    text = require_str(raw, path)
    if _DATE_ONLY.match(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            raise invalid(path, "a valid ISO 8601 date string", text) from None
        return text
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise invalid(path, "a valid ISO 8601 date string", text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or timezone.utc)
    else:
        moment = moment.astimezone(zone or timezone.utc)
    return moment.replace(second=0, microsecond=0).isoformat(timespec="milliseconds")


def normalize_date(raw: Any, path: str) -> JSON:
    """A date value as Notion returns it (recorded): a date-only value stays as written; a
    date-time is read in the given `time_zone` (UTC without one, its own offset when it has
    one), cut to the minute and answered with the zone's offset and `time_zone: null`:
    `{"start": "2026-06-27T06:57:51.46", "time_zone": "Europe/London"}` comes back as
    `2026-06-27T06:57:00.000+01:00`."""
    value = require_object(raw, path)
    zone_raw = value.get("time_zone")
    zone: ZoneInfo | None = None
    if zone_raw is not None:
        name = require_str(zone_raw, f"{path}.time_zone")
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid(f"{path}.time_zone", "a valid IANA time zone", name) from None
    start = _normalize_moment(value.get("start"), f"{path}.start", zone)
    end_raw = value.get("end")
    end = None if end_raw is None else _normalize_moment(end_raw, f"{path}.end", zone)
    return {"start": start, "end": end, "time_zone": None}


def _shift(day: date, years: int, months: int, days: int) -> date:
    """`day` moved by calendar years and months (the day clamped to the month's end) and days."""
    month_index = day.year * 12 + day.month - 1 + years * 12 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last)) + timedelta(days=days)


def relative_days(condition: str, now: float) -> tuple[date, date]:
    """The first and last day a relative condition (`past_week`, `this_week`...) takes."""
    today = datetime.fromtimestamp(now, tz=timezone.utc).date()
    if condition == "this_week":  # Monday to Sunday (ISO weeks)
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    other = _shift(today, *_RELATIVE[condition])
    return (other, today) if other < today else (today, other)
