"""PURE: does a data source's schema match our columns, and what would repair it.

`check_schema` lists the problems (a column of ours missing, or retyped) and notes (renamed
columns, the learner's own columns). `build_schema_repair` says what `doctor --fix` sends: a column
retyped under our name is renamed aside (its values kept) and ours is added back; a missing one is
added back. The learner's own columns are never in a repair. Learner-owned values that went with a
column come back from the state of the last sync (`build_restore_values`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.checklist import Checklist
from sync.model import FIELD_BY_NAME, STATUS_OPTIONS, ItemState
from sync.notion.mapping import (
    LEVEL_COLORS,
    STATUS_COLORS,
    build_schema_property,
    build_select_options,
    resolve_columns,
)

_STATUS_NAMES = {status: name for name, status in STATUS_OPTIONS.items()}


@dataclass(frozen=True)
class SchemaCheck:
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    broken: tuple[str, ...]  # our fields without a usable column


def check_schema(properties: Mapping[str, Any], recorded_ids: Mapping[str, str]) -> SchemaCheck:
    """Compare the data source's properties with our columns (found by recorded id, then name)."""
    columns = resolve_columns(properties, recorded_ids)
    problems = [
        f'the column "{FIELD_BY_NAME[f].default_name}" ({FIELD_BY_NAME[f].type}) is missing'
        for f in columns.missing
    ]
    problems += [
        f'the column "{column}" is a {actual} property; dsprogress needs {FIELD_BY_NAME[f].type}'
        for f, column, actual in columns.retyped
    ]
    notes = [
        f'"{FIELD_BY_NAME[f].default_name}" is now called "{name}" (fine)'
        for f, name in columns.names.items()
        if name != FIELD_BY_NAME[f].default_name and FIELD_BY_NAME[f].type != "title"
    ]
    ours = set(columns.names.values()) | {name for _, name, _ in columns.retyped}
    own = sorted(name for name in properties if name not in ours)
    if own:
        notes.append(f"your own columns, left alone: {', '.join(own)}")
    broken = tuple(columns.missing) + tuple(f for f, _, _ in columns.retyped)
    return SchemaCheck(tuple(problems), tuple(notes), broken)


@dataclass(frozen=True)
class SchemaRepair:
    renames: dict[str, dict[str, str]]  # property id -> {"name": new name}
    additions: dict[str, dict[str, Any]]  # column name -> schema entry
    recorded_ids: dict[str, str]  # the recorded ids to resolve with after the repair
    restore: tuple[str, ...]  # learner fields whose values come back from the state
    lines: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.renames and not self.additions


def build_schema_repair(
    properties: Mapping[str, Any],
    recorded_ids: Mapping[str, str],
    select_options: Mapping[str, list[dict[str, str]]] | None = None,
) -> SchemaRepair:
    """What `--fix` sends: renames aside for columns retyped under our name, then additions."""
    broken = check_schema(properties, recorded_ids).broken
    kept_ids = {f: i for f, i in recorded_ids.items() if f not in broken}
    # Without the broken ids, a column of the right type under our default name is adopted.
    columns = resolve_columns(properties, kept_ids)
    taken = set(properties)
    renames: dict[str, dict[str, str]] = {}
    lines: list[str] = []
    for _, column, actual in columns.retyped:
        aside = _free_name(f"{column} (old {actual})", taken)
        taken.add(aside)
        renames[str(properties[column].get("id"))] = {"name": aside}
        lines.append(f'renamed the {actual} column "{column}" to "{aside}" (its values kept)')
    additions: dict[str, dict[str, Any]] = {}
    to_add = (*columns.missing, *(f for f, _, _ in columns.retyped))
    for field_name in to_add:
        spec = FIELD_BY_NAME[field_name]
        options = (select_options or {}).get(field_name)
        additions[spec.default_name] = build_schema_property(spec, options)
        lines.append(f'added the column "{spec.default_name}" ({spec.type})')
    restore = tuple(f for f in to_add if FIELD_BY_NAME[f].owner == "learner")
    return SchemaRepair(renames, additions, kept_ids, restore, tuple(lines))


def _free_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    return candidate


def build_restore_values(item: ItemState, fields: tuple[str, ...]) -> dict[str, Any]:
    """The learner's values from the state for the given fields, only those that are set."""
    values: dict[str, Any] = {}
    for name in fields:
        if name == "done" and item.status == "done":
            values["done"] = True
        elif name == "status" and item.status != "not_started":
            values["status"] = _STATUS_NAMES[item.status]
        elif name == "done_on" and item.done_on is not None:
            values["done_on"] = item.done_on
        elif name == "notes" and item.notes:
            values["notes"] = item.notes
        elif name == "evidence" and item.evidence:
            values["evidence"] = item.evidence
    return values


def build_select_defaults(checklist: Checklist) -> dict[str, list[dict[str, str]]]:
    return {
        "status": build_select_options(list(STATUS_OPTIONS), STATUS_COLORS),
        "level": build_select_options(checklist.level_names(), LEVEL_COLORS),
        "category": build_select_options(checklist.category_names(), ("default",)),
    }
