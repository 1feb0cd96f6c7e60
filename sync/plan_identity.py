"""PURE: steps 1 and 2 of the plan (see `sync.plan`): which Key each row holds, and which row is
each Key's. Both work from Notion's data and the state alone, so every machine computes them alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

from sync.actions import (
    AdoptRow,
    HealDuplicate,
    MigrateKey,
    NotionAction,
    ReportDuplicate,
    ReportUnknownKey,
    RestoreKey,
    TrashDuplicate,
    UpdatePage,
)
from sync.checklist import Checklist
from sync.model import CUSTOM_PREFIX, ItemState, RemoteRow
from sync.reconcile import DONE_OPTION, row_status


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "item"


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
    keyless_left = _restore_by_title(out, keyless, checklist, state)
    _adopt(out, keyless_left, set(out.groups) | set(state) | set(used_keys))
    return out


def _restore_by_title(
    out: Identity,
    keyless: Sequence[RemoteRow],
    checklist: Checklist,
    state: Mapping[str, ItemState],
) -> list[RemoteRow]:
    """Give a keyless row titled exactly as one unheld checklist item that item's Key; the rest."""
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
    return keyless_left


def _adopt(out: Identity, keyless: Sequence[RemoteRow], taken: set[str]) -> None:
    """A row the learner added without a Key: their own item, under a key never used before."""
    for row in sorted(keyless, key=_created_order):
        base = f"{CUSTOM_PREFIX}{slugify(row.title)}"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        taken.add(key)
        out.actions.append(AdoptRow(row.page_id, key, row.title))
        out.groups[key] = [row]


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
