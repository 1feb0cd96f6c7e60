"""Date values as Notion answers them (recorded): date-only kept, date-times cut to the minute
with the zone's offset applied and `time_zone: null`."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.sandbox.ids import JSON
from sync.sandbox.validate import invalid, require_object, require_str

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
