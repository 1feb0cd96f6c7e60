"""PURE: what a data-source query asks for, and how a cut-short query is read in full.

- `filter_properties`: under Notion-Version 2026-12-01 a query returns only the title property
  unless it names the others. Every query names every column the tool reads, derived from the one
  schema spec (`sync.model.FIELDS`, resolved to this data source's property ids by
  `sync.notion.mapping.resolve_columns`): a column added to the spec is read with no change here.
  Ids are sent as the official JavaScript SDK sends them (`decodeURIComponent`, then encoded
  once by the HTTP client): `%3AUPp` goes on the wire as `%3AUPp`, not `%253AUPp`.
- A query returns at most 10,000 rows; past that Notion answers `has_more: false` with
  `request_status: {type: "incomplete", incomplete_reason: "query_result_limit_reached"}`. Such an
  answer is never taken for the whole table (rows missing from a full read would look trashed,
  a Key missing from a look-up would be created twice): the query is read again in windows of
  creation time (oldest first, each window starting at the last row's minute) until a window
  is complete. When one minute alone holds more rows than a query returns, it cannot be read
  whole: the run halts before writing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sync.errors import SafetyHaltError
from sync.model import FIELDS
from sync.notion.mapping import Columns

CREATED_ASCENDING: list[dict[str, str]] = [{"timestamp": "created_time", "direction": "ascending"}]
INCOMPLETE_HINT = (
    "Nothing was written. Notion returns at most 10,000 rows for one query; move rows you no "
    "longer need out of the checklist database (or archive it and start a new one), then run "
    "again."
)


def build_read_properties(columns: Columns) -> list[str]:
    """The `filter_properties` of every query: the property id of each column of ours the data
    source has (the title's included), in the spec's order, as the official SDK sends them."""
    return [unquote(columns.ids[spec.field]) for spec in FIELDS if spec.field in columns.ids]


def build_key_filter(key_column: str, key: str) -> dict[str, Any]:
    return {"property": key_column, "rich_text": {"equals": key}}


def is_incomplete(answer: Mapping[str, Any]) -> bool:
    """Whether Notion cut the query short (`request_status.type` is `incomplete`)."""
    status = answer.get("request_status")
    return isinstance(status, Mapping) and status.get("type") == "incomplete"


@dataclass
class QueryWindow:
    """Where the next window of a cut-short query starts (None: at the oldest row)."""

    base: dict[str, Any] | None
    what: str
    since: str | None = None

    def filter(self) -> dict[str, Any] | None:
        if self.since is None:
            return self.base
        window = {"timestamp": "created_time", "created_time": {"on_or_after": self.since}}
        return window if self.base is None else {"and": [self.base, window]}

    def advance(self, last_created: str | None) -> None:
        """The window after one Notion cut short at `last_created` (its newest row's time)."""
        if last_created is None or last_created == self.since:
            raise SafetyHaltError(
                f"Notion answered only part of the rows while {self.what} "
                "(query_result_limit_reached), and more rows than one query returns were "
                "created in the same minute, so they cannot be read whole; nothing was written",
                hint=INCOMPLETE_HINT,
            )
        self.since = last_created
