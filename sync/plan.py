"""PURE: plan a run as data, one small step after another, each a case table.

The checklist owns title, level, category, order and description; the learner owns Done, Status,
Done on, Notes and Evidence (the tool only derives one from the other, see `plan_learner`); the
state is what we saw last time. Identity is the Key, never the title. The steps:

1. `plan_identity`  which Key each row holds (adopt, restore a Key, migrate, report unknown Keys)
2. `plan_survivors` which row is each Key's (duplicates healed by a rule every machine shares)
                    (steps 1 and 2 live in `sync.plan_identity`)
3. observe          each survivor passes through `reconcile` (the only maker of tick events)
4. `plan_content`   what the checklist changes in Notion (push and sync)
5. `plan_learner`   what the tool derives in the learner's columns (every mode)
6. commit           what the state records: the observed states of the rows that remain
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any

from sync.actions import (
    AddColumns,
    AlignFields,
    CreatePage,
    FillDoneOn,
    Mode,
    NotionAction,
    Plan,
    RecordTick,
    RetireItem,
    TrashDuplicate,
    TrashPage,
    UpdatePage,
)
from sync.checklist import Checklist, ChecklistItem
from sync.model import CUSTOM_PREFIX, ItemState, RemoteRow, TickEvent
from sync.plan_identity import Identity, Survivors, plan_identity, plan_survivors
from sync.reconcile import (
    DONE_OPTION,
    IN_PROGRESS_OPTION,
    Observation,
    reconcile_gone,
    reconcile_row,
)
from sync.row_base import RowBase, build_base_text

CHECKLIST_FIELDS = ("title", "level", "category", "order", "description")


def build_item_values(item: ChecklistItem) -> dict[str, Any]:
    """The checklist-owned values of an item as they should stand in Notion."""
    return {
        "title": item.title,
        "level": item.level,
        "category": item.category,
        "order": item.order,
        "description": item.description,
    }


def _differs(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and isinstance(current, (int, float)):
        return float(current) != float(wanted)
    return bool(current != wanted)


# -- 4. content -----------------------------------------------------------------------------------
def plan_content(
    checklist: Checklist, rows: Mapping[str, RemoteRow], *, prune: bool
) -> tuple[list[NotionAction], int]:
    """What does the checklist change in Notion? (push and sync; returns actions, retiring)

    | in the checklist | a row holds the Key        | outcome                                   |
    | yes              | no                         | create (after the write-ahead record)     |
    | yes              | yes, its fields differ     | update them (and un-retire the row)       |
    | yes              | yes, the same              | nothing                                   |
    | no               | yes, an own item (custom.) | nothing: the learner's                    |
    | no               | yes, with --prune          | trash (asks first)                        |
    | no               | yes, not retired           | retire (never deleted)                    |
    | no               | yes, retired               | nothing                                   |
    """
    actions: list[NotionAction] = []
    retiring = 0
    for item in checklist.ordered_items():
        wanted = build_item_values(item)
        existing = rows.get(item.key)
        if existing is None:
            actions.append(CreatePage(item.key, {**wanted, "key": item.key}))
            continue
        changes = {f: v for f, v in wanted.items() if _differs(getattr(existing, f), v)}
        if existing.retired:
            changes["retired"] = False
        if changes:
            actions.append(UpdatePage(existing.page_id, item.key, changes))
    for key, row in rows.items():
        if key.startswith(CUSTOM_PREFIX) or checklist.item(key) is not None:
            continue
        if prune:
            actions.append(TrashPage(row.page_id, key, row.title))
        elif not row.retired:
            retiring += 1
            actions.append(RetireItem(row.page_id, key, row.title))
    return actions, retiring


# -- 5. learner -----------------------------------------------------------------------------------
def plan_learner(
    key: str, row: RemoteRow, observed: Observation, today: date
) -> list[NotionAction]:
    """What does the tool derive in the learner's columns, so Done and Status tell one story?
    At most one write a row: the derived fields and the row's new Sync base in one request.

    | resolved status       | the row holds                   | outcome                           |
    | done                  | Done off                        | tick Done (Status Done won)       |
    | done                  | Status not Done                 | Status Done (the tick won)        |
    | done, new since the   | Done on empty                   | fill Done on with today           |
    | base (or this state)  |                                 |                                   |
    | done, seen first by a | Done on empty, no base          | nothing: done before tracking     |
    | rebuilt state         |                                 |                                   |
    | not done              | Done on                         | untick (Status won)               |
    | not done              | Status Done                     | Status back: In progress if it    |
    |                       |                                 | was, else Not started             |
    | not done              | the Done on the tool filled     | clear it (a re-tick gets a new one)|
    | not done              | a Done on the learner set       | nothing: never the tool's to clear|
    | any, coherent         | a base whose done-ness differs  | the base alone, brought up to date|
    | any, coherent         | no base, nothing to derive      | nothing (the base comes lazily)   |
    """
    state = observed.state
    done = state.status == "done"
    changes: dict[str, Any] = {}
    if done:
        if not row.done:
            changes["done"] = True
        if row.status_option != DONE_OPTION:
            changes["status"] = DONE_OPTION
    else:
        if row.done:
            changes["done"] = False
        if row.status_option == DONE_OPTION:
            changes["status"] = (
                IN_PROGRESS_OPTION if state.status == "in_progress" else "Not started"
            )
        if row.done_on is not None and row.done_on == state.tool_done_on:
            changes["done_on"] = None
    filled = today if observed.fill_done_on else None
    base = observed.base
    if not changes and filled is None and (base is None or base.done == done):
        return []
    changes["base"] = build_base_text(_next_base(row, observed, changes, filled))
    if filled is not None:
        return [FillDoneOn(row.page_id, key, filled, changes)]
    return [AlignFields(row.page_id, key, changes)]


def _next_base(
    row: RemoteRow, observed: Observation, changes: Mapping[str, Any], filled: date | None
) -> RowBase:
    """The coherent state the derived write leaves in the row."""
    state, base = observed.state, observed.base
    done = state.status == "done"
    done_on = filled if filled is not None else changes.get("done_on", row.done_on)
    tool_filled = filled is not None or (
        state.tool_done_on is not None and state.tool_done_on == done_on
    )
    was_in_progress = done and (
        row.status_option == IN_PROGRESS_OPTION  # ticked while in progress
        or (
            base is not None
            and (base.was_in_progress if base.done else base.status == IN_PROGRESS_OPTION)
        )
        or state.in_progress_since is not None  # this state saw it in progress
    )
    return RowBase(
        done=done,
        status=changes.get("status", row.status_option),
        was_in_progress=was_in_progress,
        done_on=done_on,
        filled=tool_filled,
    )


def _identity_actions(identity: Identity, survivors: Survivors) -> list[NotionAction]:
    """Merges first (a later answer about a survivor shows the merged row), then the Keys, then
    the duplicates to the trash (a Key is not put back on a page about to go)."""
    going = {a.page_id for a in survivors.actions if isinstance(a, TrashDuplicate)}
    return [
        *(a for a in survivors.actions if not isinstance(a, TrashDuplicate)),
        *(a for a in identity.actions if getattr(a, "page_id", None) not in going),
        *(a for a in survivors.actions if isinstance(a, TrashDuplicate)),
    ]


def _forgotten(
    state: Mapping[str, ItemState],
    observed: Mapping[str, Observation],
    kept: Set[str],
    *,
    now: datetime,
    last_run: datetime | None,
) -> list[TickEvent]:
    """Commit: the state records each remaining key as observed, and a created key from the
    create's answer; a key no row holds any more is forgotten, its history ending not started."""
    last_seen = {**state, **{k: o.state for k, o in observed.items()}}
    return [
        event
        for key in sorted(set(last_seen) - kept)
        for event in reconcile_gone(key, last_seen[key], at=now, window_start=last_run)
    ]


# -- the whole plan -------------------------------------------------------------------------------
def plan_sync(
    checklist: Checklist,
    rows: Sequence[RemoteRow],
    state: Mapping[str, ItemState],
    *,
    mode: Mode,
    now: datetime,
    today: date,
    last_run: datetime | None = None,
    tracking: bool = True,
    missing_columns: Sequence[str] = (),
    prune: bool = False,
    used_keys: Set[str] = frozenset(),
) -> Plan:
    """Plan one run. `today` is the learner's local day (for Done on); `now` stamps observations.

    `last_run` is when the previous successful run finished (an event's window starts there);
    `tracking` says this state folder has tracked the database before (false for a new, lost or
    rebuilt state: its first sights are marked `rebuilt`). `used_keys` are keys the history has
    seen: an own row is never given a key that once meant another item.
    """
    notion: list[NotionAction] = [AddColumns(tuple(missing_columns))] if missing_columns else []
    identity = plan_identity(checklist, rows, state, used_keys)
    survivors = plan_survivors(identity.groups)
    notion += _identity_actions(identity, survivors)
    observed = {
        key: reconcile_row(
            key,
            row,
            state.get(key) or state.get(identity.renamed.get(key, key)),
            at=now,
            window_start=last_run,
            rebuilt=not tracking,
            in_checklist=checklist.item(key) is not None,
        )
        for key, row in survivors.rows.items()
    }
    retiring = 0
    if mode in ("push", "sync"):
        content, retiring = plan_content(checklist, survivors.rows, prune=prune)
        notion += content
    trashed = {a.key for a in notion if isinstance(a, TrashPage)}
    for key, row in survivors.rows.items():
        if key not in trashed:
            notion += plan_learner(key, row, observed[key], today)
    created = {a.key for a in notion if isinstance(a, CreatePage)}
    kept = set(survivors.rows) - trashed | created | set(identity.renamed.values())
    gone = _forgotten(state, observed, kept, now=now, last_run=last_run)
    return Plan(
        mode=mode,
        notion_actions=tuple(notion),
        ticks=tuple(
            RecordTick(e) for e in [e for k in sorted(observed) for e in observed[k].events] + gone
        ),
        reports=(*survivors.reports, *identity.unknown),
        rows=survivors.rows,
        states={k: o.state for k, o in observed.items() if k not in trashed},
        retiring=retiring,
    )
