"""The nouns of a sync: what Notion holds, what we remember, and what changed.

Everything here is frozen and free of I/O. Identity is always an item's `key`, never its title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Status = Literal["not_started", "in_progress", "done", "skipped"]
STATUSES: tuple[Status, ...] = ("not_started", "in_progress", "done", "skipped")

# The select options of the Status column and the status each one means.
STATUS_OPTIONS: dict[str, Status] = {
    "Not started": "not_started",
    "In progress": "in_progress",
    "Done": "done",
    "Skipped": "skipped",
}
CUSTOM_PREFIX = "custom."

# Who writes each column: the checklist (content), the learner (in Notion), the tool (bookkeeping).
Owner = Literal["checklist", "learner", "tool"]


@dataclass(frozen=True)
class FieldSpec:
    """One of our columns: its name for us, its default name in Notion, its type and owner."""

    field: str  # our name for the column
    default_name: str  # the column's name in a new database
    type: str  # Notion property type
    owner: Owner


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("title", "Name", "title", "checklist"),
    FieldSpec("key", "Key", "rich_text", "tool"),
    FieldSpec("done", "Done", "checkbox", "learner"),
    FieldSpec("status", "Status", "select", "learner"),
    FieldSpec("level", "Level", "select", "checklist"),
    FieldSpec("category", "Category", "select", "checklist"),
    FieldSpec("order", "Order", "number", "checklist"),
    FieldSpec("description", "Description", "rich_text", "checklist"),
    FieldSpec("done_on", "Done on", "date", "learner"),
    FieldSpec("notes", "Notes", "rich_text", "learner"),
    FieldSpec("evidence", "Evidence", "url", "learner"),
    FieldSpec("retired", "Retired", "checkbox", "tool"),
    # The last coherent state the tool wrote to the row (sync/row_base.py): every machine's memory.
    FieldSpec("base", "Sync base (leave as is)", "rich_text", "tool"),
)
FIELD_BY_NAME = {spec.field: spec for spec in FIELDS}


@dataclass(frozen=True)
class RemoteRow:
    """One row of the Notion database, as read (pure data, mapped from the page JSON)."""

    page_id: str
    url: str
    key: str | None
    title: str
    level: str | None = None
    category: str | None = None
    order: float | None = None
    description: str = ""
    done: bool = False
    status_option: str | None = None
    done_on: date | None = None
    notes: str = ""
    evidence: str | None = None
    retired: bool = False
    last_edited_time: datetime | None = None
    created_time: datetime | None = None
    base: str = ""  # the Sync base column's text (see sync/row_base.py)


@dataclass(frozen=True)
class ItemState:
    """What the state store remembers of an item after the last sync.

    `done_raw` and `status_raw` are the Done checkbox and the Status option as last observed (None
    before the first observation), so the field the learner changed since can win. `tool_done_on`
    is the Done on value the tool wrote, while the row still holds it (an untick clears it; a date
    the learner set is never the tool's). `in_progress_since` is kept while the item is done, so
    an untick can move Status back to In progress.
    """

    key: str
    page_id: str
    title: str
    level: str | None
    category: str | None
    order: float | None
    status: Status
    done_on: date | None = None
    notes: str = ""
    evidence: str | None = None
    url: str = ""
    custom: bool = False
    retired: bool = False
    in_progress_since: datetime | None = None
    done_raw: bool | None = None
    status_raw: str | None = None
    tool_done_on: date | None = None


@dataclass(frozen=True)
class TickEvent:
    """A change of an item's status observed in Notion (append-only history).

    `from_status` is None for the first observation of an item by this state folder. The change
    happened between `window_start` (the previous successful pull, None at first) and
    `observed_at`; Notion's minute-rounded `last_edited_time` is kept only as `edited_hint`.

    `done_on` is the row's Done on when the event reaches "done" and the learner (not the tool)
    set it: the completion's date, which wins over the observation window. `rebuilt` marks a
    first observation made by a state folder that did not know the item's past (a new, lost or
    rebuilt state): a done item observed so without a `done_on` was done before tracking began.
    """

    key: str
    title: str
    level: str | None
    category: str | None
    from_status: Status | None
    to_status: Status
    observed_at: datetime
    window_start: datetime | None = None
    edited_hint: datetime | None = None
    done_on: date | None = None
    rebuilt: bool = False

    @property
    def done_before_tracking(self) -> bool:
        """A rebuilt state's first sight of a done item without the learner's Done on: the item
        was done before tracking began (a starting point, not a completion)."""
        return self.rebuilt and self.to_status == "done" and self.done_on is None


@dataclass(frozen=True)
class RunRecord:
    """One push/pull/sync run as stored."""

    run_id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None
    ok: bool
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
