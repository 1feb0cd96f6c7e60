"""PURE: plan a sync as data, and check the plan for reasons to halt before any write.

`plan_sync` compares the checklist (owner of title, level, category, order, description), the rows
in Notion (the learner owns Done, Status, Done on, Notes, Evidence) and the state store (what we saw
last time), and returns the actions that bring them in line. Identity is the Key, never the title.
Nothing here performs I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sync.checklist import Checklist, ChecklistItem
from sync.model import CUSTOM_PREFIX, FIELD_BY_NAME, ItemState, RemoteRow, TickEvent

Mode = Literal["push", "pull", "sync"]
CHECKLIST_FIELDS = ("title", "level", "category", "order", "description")


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
class FillDoneOn:
    page_id: str
    key: str
    day: date
    verb = "fill-done-on"


@dataclass(frozen=True)
class RecordTick:
    event: TickEvent
    verb = "tick"


@dataclass(frozen=True)
class ReportDuplicate:
    key: str
    kept_page_id: str
    other_page_ids: tuple[str, ...]
    verb = "duplicate"


NotionAction = (
    AddColumns
    | CreatePage
    | UpdatePage
    | AdoptRow
    | MigrateKey
    | RetireItem
    | TrashPage
    | FillDoneOn
)
Action = NotionAction | RecordTick | ReportDuplicate


@dataclass(frozen=True)
class Plan:
    """What a run will do. `rows` maps each key to the row that holds it after the plan."""

    mode: Mode
    notion_actions: tuple[NotionAction, ...] = ()
    ticks: tuple[RecordTick, ...] = ()
    duplicates: tuple[ReportDuplicate, ...] = ()
    rows: Mapping[str, RemoteRow] = field(default_factory=dict)
    retiring: int = 0

    @property
    def actions(self) -> tuple[Action, ...]:
        return (*self.notion_actions, *self.ticks, *self.duplicates)

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


def build_item_values(item: ChecklistItem) -> dict[str, Any]:
    """The checklist-owned values of an item as they should stand in Notion."""
    return {
        "title": item.title,
        "level": item.level,
        "category": item.category,
        "order": item.order,
        "description": item.description,
    }


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "item"


def _pick_winner(rows: Sequence[RemoteRow], known_page_id: str | None) -> RemoteRow:
    """Among rows sharing a key: the learner's data wins, then the one we know, then the oldest."""

    def rank(row: RemoteRow) -> tuple[int, int, str, str]:
        created = row.created_time.isoformat() if row.created_time else ""
        return (
            0 if row.has_learner_data else 1,
            0 if row.page_id == known_page_id else 1,
            created,
            row.page_id,
        )

    return sorted(rows, key=rank)[0]


def _differs(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and isinstance(current, (int, float)):
        return float(current) != float(wanted)
    return bool(current != wanted)


def plan_sync(
    checklist: Checklist,
    rows: Sequence[RemoteRow],
    state: Mapping[str, ItemState],
    *,
    mode: Mode,
    now: datetime,
    today: date,
    last_pull: datetime | None = None,
    missing_columns: Sequence[str] = (),
    prune: bool = False,
    used_keys: Set[str] = frozenset(),
) -> Plan:
    """Plan one run. `today` is the learner's local day (for Done on); `now` stamps tick events.

    `used_keys` are keys the history has seen: an own row is never given a key that once meant
    another item (a trashed row may come back).
    """
    push = mode in ("push", "sync")
    pull = mode in ("pull", "sync")
    notion: list[NotionAction] = []
    if missing_columns:
        notion.append(AddColumns(tuple(missing_columns)))

    page_to_key = {s.page_id: key for key, s in state.items()}
    known_keys = {r.key for r in rows if r.key}
    candidates: dict[str, list[RemoteRow]] = {}
    keyless: list[RemoteRow] = []
    migrations: dict[str, tuple[str, str]] = {}  # page_id -> (old, new)
    for row in rows:
        if row.key is None:
            keyless.append(row)
            continue
        key = row.key
        if not key.startswith(CUSTOM_PREFIX) and checklist.item(key) is None:
            resolved = checklist.resolve_key(key)
            if resolved is not None and resolved != key:
                migrations[row.page_id] = (key, resolved)
                key = resolved
        candidates.setdefault(key, []).append(row)

    # Rows without a Key: our own page whose Key was cleared, or the learner's own item.
    for row in sorted(keyless, key=lambda r: (r.created_time or now, r.page_id)):
        if row.page_id in page_to_key:
            key = page_to_key[row.page_id]
            notion.append(UpdatePage(row.page_id, key, {"key": key}))
        else:
            base = f"{CUSTOM_PREFIX}{slugify(row.title)}"
            key, n = base, 2
            while key in known_keys or key in candidates or key in state or key in used_keys:
                key, n = f"{base}-{n}", n + 1
            notion.append(AdoptRow(row.page_id, key, row.title))
        known_keys.add(key)
        candidates.setdefault(key, []).append(row)

    chosen: dict[str, RemoteRow] = {}
    duplicates: list[ReportDuplicate] = []
    for key, group in sorted(candidates.items()):
        known = state[key].page_id if key in state else None
        winner = _pick_winner(group, known)
        chosen[key] = winner
        others = tuple(r.page_id for r in group if r.page_id != winner.page_id)
        if others:
            duplicates.append(ReportDuplicate(key, winner.page_id, others))
        if winner.page_id in migrations:
            old, new = migrations[winner.page_id]
            notion.append(MigrateKey(winner.page_id, old, new))

    retiring = 0
    if push:
        for item in checklist.ordered_items():
            wanted = build_item_values(item)
            existing = chosen.get(item.key)
            if existing is None:
                notion.append(CreatePage(item.key, {**wanted, "key": item.key}))
                continue
            changes = {f: v for f, v in wanted.items() if _differs(getattr(existing, f), v)}
            if existing.retired:
                changes["retired"] = False
            if changes:
                notion.append(UpdatePage(existing.page_id, item.key, changes))
        for key, row in chosen.items():
            if key.startswith(CUSTOM_PREFIX) or checklist.item(key) is not None:
                continue
            if prune:
                notion.append(TrashPage(row.page_id, key, row.title))
            elif not row.retired:
                retiring += 1
                notion.append(RetireItem(row.page_id, key, row.title))

    ticks: list[RecordTick] = []
    for key, row in sorted(chosen.items(), key=lambda kv: kv[0]):
        before = state.get(key)
        previous = before.status if before is not None else None
        first_sight = before is None
        if (
            (pull or first_sight)
            and row.status == "done"
            and row.done_on is None
            and previous != "done"
        ):
            notion.append(FillDoneOn(row.page_id, key, today))
        # The first sight of an item is its baseline (in any mode); changes come with a pull, or
        # with any run when another page now holds the key (the history stays one chain).
        moved = before is not None and before.page_id != row.page_id
        if before is None or ((pull or moved) and previous != row.status):
            ticks.append(
                RecordTick(
                    TickEvent(
                        key=key,
                        title=row.title,
                        level=row.level,
                        category=row.category,
                        from_status=previous,
                        to_status=row.status,
                        observed_at=now,
                        window_start=last_pull if previous is not None else None,
                        edited_hint=row.last_edited_time,
                    )
                )
            )
    return Plan(
        mode=mode,
        notion_actions=tuple(notion),
        ticks=tuple(ticks),
        duplicates=tuple(duplicates),
        rows=chosen,
        retiring=retiring,
    )


def _holds_learner_value(state: ItemState, field_name: str) -> bool:
    if field_name == "done":
        return state.status == "done"
    if field_name == "status":
        return state.status != "not_started"
    if field_name == "done_on":
        return state.done_on is not None
    if field_name == "notes":
        return bool(state.notes)
    if field_name == "evidence":
        return bool(state.evidence)
    return False


def find_lost_learner_columns(
    missing_columns: Sequence[str], state: Mapping[str, ItemState]
) -> list[str]:
    """Learner-owned columns that are gone from Notion while the state still holds their values.

    Re-adding such a column empty and pulling would record every tick as undone.
    """
    return [
        field_name
        for field_name in missing_columns
        if any(_holds_learner_value(s, field_name) for s in state.values())
    ]


def check_plan(
    plan: Plan,
    *,
    remote_row_count: int,
    remembered: int,
    retire_threshold: float,
    retyped: Sequence[tuple[str, str, str]] = (),
    lost_learner_columns: Sequence[str] = (),
    force: bool = False,
) -> list[Halt]:
    """Reasons to stop before any write. Forceable halts are dropped when `force` is set."""
    halts: list[Halt] = []
    for field_name in lost_learner_columns:
        column = FIELD_BY_NAME[field_name].default_name
        halts.append(
            Halt(
                f'your "{column}" column is gone from the database, and the last sync still '
                "holds its values",
                "Run `dsprogress doctor --fix`: it adds the column back and restores your values "
                "from the last sync.",
                forceable=False,
            )
        )
    for field_name, column, actual in retyped:
        expected = FIELD_BY_NAME[field_name].type
        halts.append(
            Halt(
                f'the column "{column}" is a {actual} property; dsprogress needs it to be '
                f"{expected}",
                f'In Notion, change "{column}" back to {expected} (or rename it so dsprogress '
                "adds its own), or run `dsprogress doctor --fix`.",
                forceable=False,
            )
        )
    if remote_row_count == 0 and remembered > 0:
        halts.append(
            Halt(
                f"Notion returned no rows, but the state remembers {remembered} items "
                "(were they trashed, or is this the wrong database?)",
                "Check the database in Notion (and its Trash); rerun with --force to recreate "
                "every item.",
                forceable=True,
            )
        )
    checklist_rows = sum(1 for k in plan.rows if not k.startswith(CUSTOM_PREFIX))
    if checklist_rows and plan.retiring > retire_threshold * checklist_rows:
        halts.append(
            Halt(
                f"{plan.retiring} of {checklist_rows} rows would be retired (more than "
                f"{retire_threshold:.0%}); is DSPROGRESS_CHECKLIST the right checklist?",
                "Check the checklist file (and its migrations); "
                "rerun with --force if you meant it.",
                forceable=True,
            )
        )
    return [h for h in halts if not (force and h.forceable)]
