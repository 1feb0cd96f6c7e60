"""PURE: plan a run as data, one small step after another, each a case table.

The checklist owns title, level, category, order and description; the learner owns Done, Status,
Done on, Notes and Evidence (the tool only derives one from the other, see `plan_learner`); the
state is what we saw last time. Identity is the Key, never the title. The steps:

1. `plan_identity`  which Key each row holds (adopt, restore a Key, migrate, report unknown Keys)
2. `plan_survivors` which row is each Key's (duplicates healed by a rule every machine shares)
3. observe          each survivor passes through `reconcile` (the only maker of tick events)
4. `plan_content`   what the checklist changes in Notion (push and sync)
5. `plan_learner`   what the tool derives in the learner's columns (every mode)
6. commit           what the state records: the observed states of the rows that remain
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sync.actions import (
    AddColumns,
    AdoptRow,
    AlignFields,
    CreatePage,
    FillDoneOn,
    HealDuplicate,
    MigrateKey,
    Mode,
    NotionAction,
    Plan,
    RecordTick,
    ReportDuplicate,
    ReportUnknownKey,
    RestoreKey,
    RetireItem,
    TrashDuplicate,
    TrashPage,
    UpdatePage,
)
from sync.checklist import Checklist, ChecklistItem
from sync.model import CUSTOM_PREFIX, ItemState, RemoteRow
from sync.reconcile import (
    DONE_OPTION,
    IN_PROGRESS_OPTION,
    Observation,
    reconcile_gone,
    reconcile_row,
    row_status,
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


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "item"


def _differs(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and isinstance(current, (int, float)):
        return float(current) != float(wanted)
    return bool(current != wanted)


# -- 1. identity ----------------------------------------------------------------------------------
@dataclass
class Identity:
    groups: dict[str, list[RemoteRow]] = field(default_factory=dict)  # key -> rows holding it
    actions: list[NotionAction] = field(default_factory=list)
    unknown: list[ReportUnknownKey] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # migrated key -> its old key


def plan_identity(
    checklist: Checklist,
    rows: Sequence[RemoteRow],
    state: Mapping[str, ItemState],
    used_keys: Set[str],
) -> Identity:
    """Which Key does each row hold?

    | the row's Key           | the state knows its page as | outcome                              |
    | K                       | K, or not at all            | K; migrated when the checklist       |
    |                         |                             | renamed K (its `migrations`)         |
    | empty, or not K         | K                           | restore-key: K back, the tick kept   |
    | empty, titled exactly   | not at all, nor K's page;   | restore-key: K back, the tick kept   |
    | as one checklist item K | no row holds K              | (a deleted Key column, a new state)  |
    | empty                   | not at all                  | adopt: the learner's own item        |
    |                         |                             | `custom.<title>`, never a used key   |
    | neither the checklist's | not at all, K unknown to    | report unknown-key: not adopted, not |
    | nor custom, not retired | the state                   | merged into another item             |
    """
    out = Identity()
    page_to_key = {s.page_id: key for key, s in state.items()}
    keyless: list[RemoteRow] = []
    for row in rows:
        known = page_to_key.get(row.page_id)
        if known is None and row.key is None:
            keyless.append(row)
            continue
        key = known if known is not None else str(row.key)
        resolved = key if key.startswith(CUSTOM_PREFIX) else checklist.resolve_key(key)
        if resolved is None and known is None and key not in state and not row.retired:
            # A Key nobody issued (edited in Notion, or from another checklist): ask, don't guess.
            out.unknown.append(ReportUnknownKey(row.page_id, key, row.title))
            continue
        target = resolved or key
        if row.key == key != target:
            # The checklist renamed this item: the row moves to the new key, its tick kept.
            out.actions.append(MigrateKey(row.page_id, key, target))
            out.renamed[target] = key
        elif row.key != target:
            # Keys belong to the checklist: the page we know under K gets K back, tick kept.
            out.actions.append(RestoreKey(row.page_id, target, row.key))
        out.groups.setdefault(target, []).append(row)
    by_title = plan_title_matches(checklist)
    held = set(out.groups) | set(state)  # keys a row holds, or whose page the state knows
    keyless_left: list[RemoteRow] = []
    for row in keyless:
        match = by_title.get(row.title)
        if match is None or match in held:
            keyless_left.append(row)
            continue
        # The Key column was deleted (and re-added empty) and no state knows the page: the row
        # titled exactly as one checklist item is that item's, its tick kept. Rows sharing the
        # title are duplicates of it, healed by the survivor rule; Identity stays the Key.
        out.actions.append(RestoreKey(row.page_id, match, None))
        out.groups.setdefault(match, []).append(row)
    taken = set(out.groups) | set(state) | set(used_keys)
    for row in sorted(keyless_left, key=_created_order):
        # A row the learner added without a Key: their own item, under a key never used before.
        base = f"{CUSTOM_PREFIX}{slugify(row.title)}"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        taken.add(key)
        out.actions.append(AdoptRow(row.page_id, key, row.title))
        out.groups[key] = [row]
    return out


def plan_title_matches(checklist: Checklist) -> dict[str, str]:
    """Title -> key for the checklist's items whose title no other item shares."""
    keys_by_title: dict[str, list[str]] = {}
    for item in checklist.ordered_items():
        keys_by_title.setdefault(item.title, []).append(item.key)
    return {title: keys[0] for title, keys in keys_by_title.items() if len(keys) == 1}


def _created_order(row: RemoteRow) -> tuple[str, str]:
    """Notion's created_time (minute-rounded), then the page id: the same order on every machine."""
    return (row.created_time.isoformat() if row.created_time else "", row.page_id)


# -- 2. survivors ---------------------------------------------------------------------------------
@dataclass
class Survivors:
    rows: dict[str, RemoteRow] = field(default_factory=dict)  # key -> its row, merged
    actions: list[NotionAction] = field(default_factory=list)
    reports: list[HealDuplicate | ReportDuplicate] = field(default_factory=list)


def plan_survivors(groups: Mapping[str, Sequence[RemoteRow]]) -> Survivors:
    """Which row is each Key's? A rule every machine computes alike from Notion's data alone.

    | rows holding the Key | learner fields of the others       | outcome                      |
    | 1                    | -                                  | that row                     |
    | 2+                   | merge without loss (done wins,     | the earliest created, then   |
    |                      | notes joined, one evidence)        | lowest page id survives with |
    |                      |                                    | the merge; the others trashed|
    | 2+                   | would lose something (two Status   | merge what merges; keep all; |
    |                      | choices or evidence links)         | report what to do            |
    """
    out = Survivors()
    for key, group in sorted(groups.items()):
        ordered = sorted(group, key=_created_order)
        survivor, others = ordered[0], ordered[1:]
        if not others:
            out.rows[key] = survivor
            continue
        merged, conflicts = merge_learner_fields(survivor, others)
        if merged:
            out.actions.append(UpdatePage(survivor.page_id, key, merged))
        out.rows[key] = replace(survivor, **_row_fields(merged))
        other_ids = tuple(r.page_id for r in others)
        if conflicts:
            out.reports.append(ReportDuplicate(key, survivor.page_id, other_ids, conflicts))
            continue
        out.actions.extend(TrashDuplicate(r.page_id, key, survivor.page_id) for r in others)
        out.reports.append(HealDuplicate(key, survivor.page_id, other_ids, merged))
    return out


def merge_learner_fields(
    survivor: RemoteRow, others: Sequence[RemoteRow]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The learner's fields of `others` folded into `survivor`: the changes, and what conflicts."""
    rows = [survivor, *others]
    changes: dict[str, Any] = {}
    conflicts: list[str] = []
    if any(row_status(r) == "done" for r in rows):  # done wins
        if not survivor.done:
            changes["done"] = True
        if survivor.status_option != DONE_OPTION:
            changes["status"] = DONE_OPTION
    else:
        chosen = {r.status_option for r in rows if r.status_option not in (None, "Not started")}
        if len(chosen) > 1:
            conflicts.append("Status")
        elif chosen and survivor.status_option not in chosen:
            changes["status"] = next(iter(chosen))
    days = sorted(r.done_on for r in rows if r.done_on is not None)
    if days and survivor.done_on != days[0]:
        changes["done_on"] = days[0]  # the earliest claim of completion
    notes = survivor.notes
    for other in others:
        if other.notes and other.notes not in notes:
            notes = f"{notes}\n\n{other.notes}" if notes else other.notes
    if notes != survivor.notes:
        changes["notes"] = notes
    links = {r.evidence for r in rows if r.evidence}
    if len(links) > 1:
        conflicts.append("Evidence")
    elif links and not survivor.evidence:
        changes["evidence"] = next(iter(links))
    return changes, tuple(conflicts)


def _row_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Field values as `RemoteRow` attributes (Status is `status_option` there)."""
    return {("status_option" if k == "status" else k): v for k, v in values.items()}


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
    # Merges first (a later answer about a survivor shows the merged row), then the Keys, then
    # the duplicates to the trash (a Key is not put back on a page about to go).
    going = {a.page_id for a in survivors.actions if isinstance(a, TrashDuplicate)}
    notion += [a for a in survivors.actions if not isinstance(a, TrashDuplicate)]
    notion += [a for a in identity.actions if getattr(a, "page_id", None) not in going]
    notion += [a for a in survivors.actions if isinstance(a, TrashDuplicate)]
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
    # Commit: the state records each remaining key as observed, and a created key from the
    # create's answer; a key no row holds any more is forgotten, its history ending not started.
    created = {a.key for a in notion if isinstance(a, CreatePage)}
    kept = set(survivors.rows) - trashed | created | set(identity.renamed.values())
    last_seen = {**state, **{k: o.state for k, o in observed.items()}}
    gone = [
        event
        for key in sorted(set(last_seen) - kept)
        for event in reconcile_gone(key, last_seen[key], at=now, window_start=last_run)
    ]
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
