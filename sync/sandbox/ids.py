"""Ids, timestamps and URLs in the forms Notion's API uses (Notion-Version 2025-09-03)."""

from __future__ import annotations

import random
import re
import string
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

JSON = dict[str, Any]
"""A JSON object as parsed by `json.loads`: the sandbox stores and answers these."""

# The form the API answered with in July 2026 (recorded by notion-sdk-py): app.notion.com/p/.
NOTION_HOST = "https://app.notion.com/p"

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_DASHED = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# Printable ASCII without quotes and space: the alphabet real property ids are drawn from
# (recorded ids include `%3Djxv`, `m%5DG%7C`, `c%7D~G`, `Pjg_`).
_PROPERTY_ID_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[\\]^_`{|}~"


def new_id() -> str:
    """A fresh dashed v4 UUID, the form of every Notion object id."""
    return str(uuid.uuid4())


def normalize_id(raw: str) -> str | None:
    """The dashed lower-case form of an id given with or without dashes; None if Notion rejects it.

    Notion accepts 32 hex digits, dashed or not, whose variant nibble is 8, 9, a or b (the nil
    id passes too and simply is not found): `12345678-1234-1234-1234-123456789abc` is refused.
    """
    if _DASHED.match(raw):
        digits = raw.replace("-", "")
    elif _HEX32.match(raw):
        digits = raw
    else:
        return None
    digits = digits.lower()
    if digits != "0" * 32 and digits[16] not in "89ab":
        return None
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def compact_id(object_id: str) -> str:
    """The 32-hex form used in Notion URLs."""
    return object_id.replace("-", "")


def new_property_id(rng: random.Random, taken: set[str]) -> str:
    """A short URL-encoded property id such as `gQ%3Ex`, unique among `taken`, never `title`."""
    while True:
        raw = "".join(rng.choice(_PROPERTY_ID_ALPHABET) for _ in range(4))
        property_id = quote(raw, safe="")
        if property_id not in taken and property_id != "title":
            return property_id


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def minute_time(ts: float) -> str:
    """Page, block and data source timestamps: rounded down to the minute, `Z` suffix."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:00.000Z")


def minute_floor(ts: float) -> float:
    """The epoch seconds that `minute_time(ts)` shows."""
    return float(int(ts // 60) * 60)


def ms_time(ts: float) -> str:
    """Database and view timestamps: milliseconds kept, `+00:00` offset."""
    moment = _utc(ts)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def iso_now(ts: float) -> str:
    """A full-precision UTC timestamp, for the control endpoint only."""
    return _utc(ts).isoformat().replace("+00:00", "Z")


def page_url(title: str, page_id: str) -> str:
    """`https://app.notion.com/p/<Title-slug>-<32hex>`, or without the slug for an empty title."""
    slug = re.sub(r"[^\w]+", "-", title).strip("-")
    if slug:
        return f"{NOTION_HOST}/{slug}-{compact_id(page_id)}"
    return f"{NOTION_HOST}/{compact_id(page_id)}"


def database_url(database_id: str) -> str:
    """Databases and their data sources share `https://app.notion.com/p/<32hex of the database>`."""
    return f"{NOTION_HOST}/{compact_id(database_id)}"


def view_url(database_id: str, view_id: str) -> str:
    return f"{database_url(database_id)}?v={compact_id(view_id)}"
