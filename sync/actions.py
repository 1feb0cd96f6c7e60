"""PURE: a plan as data — the actions a run takes, the plan that holds them, and halts.

Each action is a frozen noun with one log verb that the report, `--dry-run` and tests use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sync.model import ItemState, RemoteRow, TickEvent

Mode = Literal["push", "pull", "sync"]


@dataclass(frozen=True)
class AddColumns:
    fields: tuple[str, ...]
    verb = "add-columns"


@dataclass(frozen=True)
class CreatePage:
    key: str
    values: Mapping[str, Any]
    verb = "create"


@dataclass(frozen=True)
class UpdatePage:
    page_id: str
    key: str
    changes: Mapping[str, Any]
    verb = "update"


@dataclass(frozen=True)
class AdoptRow:
    page_id: str
    key: str
    title: str
    verb = "adopt"


@dataclass(frozen=True)
class RestoreKey:
    """A row the state knows under `key` whose Key was cleared or edited gets its Key back."""

    page_id: str
    key: str
    found: str | None
    verb = "restore-key"


@dataclass(frozen=True)
class MigrateKey:
    page_id: str
    old_key: str
    new_key: str
    verb = "migrate"


@dataclass(frozen=True)
class RetireItem:
    page_id: str
    key: str
    title: str
    verb = "retire"


@dataclass(frozen=True)
class TrashPage:
    page_id: str
    key: str
    title: str
    verb = "trash"


@dataclass(frozen=True)
class TrashDuplicate:
    """A duplicate row whose learner fields are merged into the survivor goes to Notion's trash
    (restorable there)."""

    page_id: str
    key: str
    kept_page_id: str
    verb = "trash-duplicate"


@dataclass(frozen=True)
class FillDoneOn:
    """The tool's derived write for a new tick: Done on filled with `day`, in the same request
    as the rest of the derived `changes` (Done and Status made to agree, the row's Sync base)."""

    page_id: str
    key: str
    day: date
    changes: Mapping[str, Any] = field(default_factory=dict)
    verb = "fill-done-on"


@dataclass(frozen=True)
class AlignFields:
    """The tool's derived write in the learner's columns: Status and Done made to agree, or a
    Done on the tool filled cleared by an untick; with the row's new Sync base, alone when only
    the base is behind the row's done-ness."""

    page_id: str
    key: str
    changes: Mapping[str, Any]
    verb = "align"


@dataclass(frozen=True)
class HealDuplicate:
    """Rows sharing a Key: the learner's fields merged into the survivor, the others trashed."""

    key: str
    kept_page_id: str
    trashed_page_ids: tuple[str, ...]
    merged: Mapping[str, Any]
    verb = "heal"


@dataclass(frozen=True)
class RecordTick:
    event: TickEvent
    verb = "tick"


@dataclass(frozen=True)
class ReportDuplicate:
    """Rows sharing a Key that cannot be merged without losing something of the learner's."""

    key: str
    kept_page_id: str
    other_page_ids: tuple[str, ...]
    conflicts: tuple[str, ...] = ()
    verb = "duplicate"


@dataclass(frozen=True)
class ReportUnknownKey:
    """A row whose Key is neither a checklist key nor an own item's, on a page the state does
    not know: not adopted, not merged, left for the learner to fix."""

    page_id: str
    key: str
    title: str
    verb = "unknown-key"


NotionAction = (
    AddColumns
    | CreatePage
    | UpdatePage
    | AdoptRow
    | RestoreKey
    | MigrateKey
    | RetireItem
    | TrashPage
    | TrashDuplicate
    | FillDoneOn
    | AlignFields
)
Report = RecordTick | HealDuplicate | ReportDuplicate | ReportUnknownKey
Action = NotionAction | Report


@dataclass(frozen=True)
class Plan:
    """What a run will do.

    `rows` maps each key to the row that holds it after the plan; `states` is what the state
    will record for each key once the plan's writes are applied (before their answers are seen).
    """

    mode: Mode
    notion_actions: tuple[NotionAction, ...] = ()
    ticks: tuple[RecordTick, ...] = ()
    reports: tuple[HealDuplicate | ReportDuplicate | ReportUnknownKey, ...] = ()
    rows: Mapping[str, RemoteRow] = field(default_factory=dict)
    states: Mapping[str, ItemState] = field(default_factory=dict)
    retiring: int = 0

    @property
    def actions(self) -> tuple[Action, ...]:
        return (*self.notion_actions, *self.ticks, *self.reports)

    def count(self, verb: str) -> int:
        return sum(1 for action in self.actions if action.verb == verb)

    @property
    def is_noop(self) -> bool:
        return not self.notion_actions and not self.ticks


@dataclass(frozen=True)
class Halt:
    """A reason not to write anything; `forceable` halts yield to --force."""

    reason: str
    hint: str
    forceable: bool
