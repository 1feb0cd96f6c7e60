"""The text of one setting, parsed: an interval (`1h30m`), the digest's schedule (`mon 08:00`),
a pasted secret (invisible characters a copy adds). Each parser raises `ValueError` with words the
settings' report shows next to the variable's name (`sync.config`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTERVAL_PART = re.compile(r"(\d+)\s*([smhd])")
MAX_INTERVAL_SECONDS = 365 * 86400

# Characters a paste can carry that nobody sees: zero-width space/joiners, word joiner, BOM,
# soft hyphen.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


def parse_interval(value: str) -> int:
    """Parse `30s`, `15m`, `1h30m` or `2h` into seconds. A bare number is refused: its unit is
    a guess (seconds? minutes?) that silently makes a sync every 5 seconds out of `5`."""
    text = value.strip().lower().replace(" ", "")
    if text.isdigit():
        raise ValueError(f"{value.strip()!r} has no unit; write e.g. {text}s, {text}m or {text}h")
    pos = 0
    seconds = 0
    for match in _INTERVAL_PART.finditer(text):
        if match.start() != pos:
            break
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        seconds += int(match.group(1)) * unit
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{value[:40]!r} is not an interval; use e.g. 30s, 15m, 1h or 1h30m")
    if seconds < 1:
        raise ValueError("must be at least 1 second")
    if seconds > MAX_INTERVAL_SECONDS:
        raise ValueError("must be at most 365d")
    return seconds


@dataclass(frozen=True)
class DigestSchedule:
    """When the weekly digest is due: day names (never numbers) and a local time."""

    days: tuple[str, ...]
    hour: int
    minute: int

    @property
    def cron_day_of_week(self) -> str:
        return ",".join(self.days)

    def __str__(self) -> str:
        return f"{','.join(self.days)} {self.hour:02d}:{self.minute:02d}"


def parse_schedule(value: str) -> DigestSchedule:
    """Parse `mon 08:00`, `monday 8:30`, `fri,sun 18:00` or `daily 07:00`."""
    parts = value.strip().lower().split()
    if len(parts) != 2:
        raise ValueError(f"{value!r} is not a schedule; use a day and a time, e.g. 'mon 08:00'")
    day_text, time_text = parts
    days: list[str] = []
    for day in day_text.split(","):
        if day in ("daily", "*"):
            days.extend(DAY_NAMES)
            continue
        short = day[:3]
        if day not in DAY_NAMES and day not in _FULL_DAY_NAMES:
            raise ValueError(f"unknown day {day!r}; use mon, tue, wed, thu, fri, sat or sun")
        days.append(short)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", time_text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{time_text!r} is not a time; use HH:MM in 24-hour form, e.g. 08:00")
    ordered = tuple(d for d in DAY_NAMES if d in days)
    return DigestSchedule(ordered, int(match.group(1)), int(match.group(2)))


def clean_secret(value: str) -> tuple[str, bool]:
    """The secret without surrounding whitespace and invisible characters (zero-width space,
    BOM, ...), which a copy from a web page or a chat often adds; and whether any was removed."""
    cleaned = "".join(ch for ch in value if ch not in INVISIBLE).strip()
    return cleaned, cleaned != value


def check_token_text(token: str) -> None:
    """A token must fit in an HTTP header: printable ASCII without spaces."""
    if any(not ("!" <= ch <= "~") for ch in token):
        raise ValueError(
            "contains a space, a line break or a non-ASCII character, which a token never has; "
            "copy the token again"
        )
