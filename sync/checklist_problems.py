"""Problems in a checklist file, in the author's words: one line per YAML or pydantic error.

PURE helpers for `sync.checklist.parse_checklist`: a YAML loader that refuses duplicated fields,
translations of YAML marks and pydantic errors into readable lines, and the problems between
records (duplicate keys and orders, unknown levels and categories, migrations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sync.checklist_migrations import check_migrations

if TYPE_CHECKING:
    from sync.checklist import ChecklistItem, Level, Migration

# pydantic error types -> what the field must be, in the YAML author's words
_EXPECTED = {"int_type": "a whole number", "string_type": "text", "bool_type": "true or false"}
_EXPECTED |= dict.fromkeys(("tuple_type", "list_type"), "a list")
_EXPECTED |= dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), "a mapping")


def show_value(value: object) -> str:
    """A value as the user wrote it in YAML, kept short."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = f'"{value}"' if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_name(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part == "[key]":
            name += " (a key)"
        elif not name:
            name = part
        else:
            name += f'["{part}"]'
    return name


def _describe(error: ErrorDetails) -> str:
    """One readable phrase for one pydantic error: `order must be a whole number, got "abc"`."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _field_name(loc[:-1])
        return f'unknown field "{loc[-1]}"' + (f" in {parent}" if parent else "")
    field = _field_name(loc)
    subject = field or "it"
    if kind == "missing":
        return f"{subject} is required but missing"
    if kind == "too_short":
        return f"{subject} must not be empty"
    if kind in _EXPECTED:
        must = f"must be {_EXPECTED[kind]}, got {show_value(error['input'])}"
        return f"{field} {must}" if field else must
    if kind == "value_error":
        reason = error.get("ctx", {}).get("error")
        return f"{subject} {reason}" if field else str(reason)
    message = error["msg"]
    return f"{subject}: {message[:1].lower()}{message[1:]}"


def validate_into(
    model: type[BaseModel], data: object, label: str, problems: list[str]
) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            prefix = f"{label}: " if label else ""
            problems.append(prefix + _describe(error))
        return None


MAX_NESTING = 20  # a checklist nests four levels deep; anything far deeper is not one
TOO_DEEP = f"lists or mappings nest more than {MAX_NESTING} levels deep; a checklist never does"


def nesting_depth(value: Any) -> int:
    """How deeply lists and mappings nest in `value` (iteratively: no recursion limit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen: set[int] = set()
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)) and id(item) not in seen:
            seen.add(id(item))  # YAML anchors share objects: visit each once
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


# libyaml's parser when PyYAML was built with it (4x faster on a large checklist), else pure Python.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses a field given twice in one mapping (YAML keeps only the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":str"):
                line = key_node.start_mark.line + 1
                if key_node.value in first_line:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f'"{key_node.value}" appears twice (first on line '
                        f"{first_line[key_node.value]})",
                        key_node.start_mark,
                    )
                first_line[key_node.value] = line
        return yaml.constructor.SafeConstructor.construct_mapping(self, node, deep=deep)


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        kind = (
            "YAML error"
            if isinstance(exc, yaml.constructor.ConstructorError)
            else "YAML syntax error"
        )
        if mark is not None:
            return f"line {mark.line + 1}: {kind}: {reason} (column {mark.column + 1})"
        return f"{kind}: {reason}"
    return f"YAML syntax error: {exc}"


# ------------------------------------------------------------------- between the records


def item_label(index: int, key: object) -> str:
    return f"items[{index}] ({key})" if isinstance(key, str) and key else f"items[{index}]"


def structure_problems(
    levels: Sequence[tuple[int, Level]],
    items: Sequence[tuple[int, ChecklistItem]],
    migrations: Sequence[tuple[int, Migration]],
    version: int | None,
    *,
    keys: Sequence[tuple[int, str]],
    check_membership: bool = True,
) -> list[str]:
    """Problems between records: duplicates, unknown levels/categories, migrations.

    Records pair with their index in the file. `keys` holds every item's key, including items
    that are otherwise invalid, so duplicates are found regardless. With `check_membership` False
    (some level is itself invalid) items are not checked against the levels: only noise then.
    """
    problems: list[str] = []
    categories: dict[str, tuple[str, ...]] = {}
    for index, level in levels:
        if level.name in categories:
            problems.append(f'levels[{index}] ({level.name}): duplicate level name "{level.name}"')
        else:
            categories[level.name] = level.categories

    first_with_key: dict[str, int] = {}
    for index, key in keys:
        if key in first_with_key:
            problems.append(
                f'{item_label(index, key)}: duplicate key "{key}" '
                f"(also items[{first_with_key[key]}])"
            )
        else:
            first_with_key[key] = index

    first_with_order: dict[tuple[str, str, int], str] = {}  # -> label of the first item
    for index, item in items if check_membership else ():
        label = item_label(index, item.key)
        if item.level not in categories:
            known = ", ".join(categories)
            problems.append(f'{label}: unknown level "{item.level}"; the levels are {known}')
            continue
        if item.category not in categories[item.level]:
            known = ", ".join(categories[item.level])
            problems.append(
                f'{label}: unknown category "{item.category}" for level {item.level}; '
                f"its categories are {known}"
            )
            continue
        slot = (item.level, item.category, item.order)
        if slot in first_with_order:
            problems.append(
                f"{label}: order {item.order} is already used in {item.level} / {item.category} "
                f"by {first_with_order[slot]}"
            )
        else:
            first_with_order[slot] = label
    problems.extend(check_migrations(migrations, set(first_with_key), version))
    return problems
