"""PURE translation between Notion's JSON and our rows: the schema we own, page properties.

Columns are found by the property id recorded in the state first (so a column the learner renamed
is followed), then by its default name. Writes are keyed by the column's current name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sync.errors import NotionUnavailableError
from sync.model import FIELD_BY_NAME, FIELDS, STATUS_OPTIONS, FieldSpec, RemoteRow

MAX_TEXT = 2000
MAX_RICH_TEXT_ITEMS = 100


STATUS_COLORS = {"Not started": "gray", "In progress": "blue", "Done": "green", "Skipped": "brown"}
LEVEL_COLORS = ("green", "blue", "purple", "orange", "pink", "red", "yellow", "brown")


def build_schema_property(
    spec: FieldSpec, options: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The schema entry Notion expects for one of our columns."""
    if spec.type == "select":
        return {"select": {"options": options or []}}
    if spec.type == "number":
        return {"number": {"format": "number"}}
    return {spec.type: {}}


def build_select_options(
    names: list[str], colors: tuple[str, ...] | dict[str, str]
) -> list[dict[str, str]]:
    if isinstance(colors, dict):
        return [{"name": n, "color": colors.get(n, "default")} for n in names]
    return [{"name": n, "color": colors[i % len(colors)]} for i, n in enumerate(names)]


def build_database_schema(levels: list[str], categories: list[str]) -> dict[str, Any]:
    """`initial_data_source.properties` for a new checklist database."""
    options = {
        "status": build_select_options(list(STATUS_OPTIONS), STATUS_COLORS),
        "level": build_select_options(levels, LEVEL_COLORS),
        "category": build_select_options(categories, ("default",)),
    }
    return {
        spec.default_name: build_schema_property(spec, options.get(spec.field)) for spec in FIELDS
    }


@dataclass(frozen=True)
class Columns:
    """Where each of our fields lives in the data source, as of this run."""

    names: dict[str, str] = field(default_factory=dict)  # field -> current column name
    ids: dict[str, str] = field(default_factory=dict)  # field -> property id
    missing: tuple[str, ...] = ()  # fields with no column (to re-add)
    retyped: tuple[tuple[str, str, str], ...] = ()  # (field, column name, its type now)


def resolve_columns(properties: Mapping[str, Any], recorded_ids: Mapping[str, str]) -> Columns:
    """Match our fields to the data source's `properties` (name -> {id, type, ...})."""
    with _readable("the database schema"):
        return _resolve_columns(properties, recorded_ids)


def _resolve_columns(properties: Mapping[str, Any], recorded_ids: Mapping[str, str]) -> Columns:
    by_id = {str(p.get("id")): name for name, p in properties.items()}
    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    missing: list[str] = []
    retyped: list[tuple[str, str, str]] = []
    taken: set[str] = set()
    for spec in FIELDS:
        name = None
        if spec.type == "title":
            name = next((n for n, p in properties.items() if p.get("type") == "title"), None)
        if name is None and spec.field in recorded_ids:
            name = by_id.get(recorded_ids[spec.field])
        if name is None and spec.default_name in properties:
            name = spec.default_name
        if name is None or name in taken:
            missing.append(spec.field)
            continue
        actual = str(properties[name].get("type"))
        if actual != spec.type:
            retyped.append((spec.field, name, actual))
            continue
        taken.add(name)
        names[spec.field] = name
        ids[spec.field] = str(properties[name].get("id"))
    return Columns(names, ids, tuple(missing), tuple(retyped))


# -- reading page values ------------------------------------------------------------------------
def plain_text(items: list[dict[str, Any]] | None) -> str:
    return "".join(str(item.get("plain_text", "")) for item in items or [])


def _value(page: Mapping[str, Any], columns: Columns, name: str) -> Any:
    column = columns.names.get(name)
    if column is None:
        return None
    prop = page.get("properties", {}).get(column)
    if not isinstance(prop, dict):
        return None
    return prop.get(prop.get("type", ""))


def parse_timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@contextmanager
def _readable(what: str) -> Iterator[None]:
    """An answer of the wrong shape (a property that is not an object, a date that is not a
    date, ...) is Notion failing, like a 5xx: reported as unavailable, never half-read."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise NotionUnavailableError(
            f"Notion sent {what} in a shape dsprogress cannot read ({type(exc).__name__})",
            hint="Try again later: nothing is lost, the next run reads Notion again. If it "
            "persists, run `dsprogress doctor`.",
        ) from exc


def parse_row(page: Mapping[str, Any], columns: Columns) -> RemoteRow:
    """A row of ours from a page object returned by query/create/update."""
    with _readable("a row"):
        return _parse_row(page, columns)


def _parse_row(page: Mapping[str, Any], columns: Columns) -> RemoteRow:
    select_status = _value(page, columns, "status")
    level = _value(page, columns, "level")
    category = _value(page, columns, "category")
    order = _value(page, columns, "order")
    done_on = _value(page, columns, "done_on")
    key = plain_text(_value(page, columns, "key")).strip() or None
    return RemoteRow(
        page_id=str(page["id"]),
        url=str(page.get("url", "")),
        key=key,
        title=plain_text(_value(page, columns, "title")),
        level=level.get("name") if isinstance(level, dict) else None,
        category=category.get("name") if isinstance(category, dict) else None,
        order=float(order) if isinstance(order, (int, float)) else None,
        description=plain_text(_value(page, columns, "description")),
        done=bool(_value(page, columns, "done")),
        status_option=select_status.get("name") if isinstance(select_status, dict) else None,
        done_on=_parse_day(done_on.get("start")) if isinstance(done_on, dict) else None,
        notes=plain_text(_value(page, columns, "notes")),
        evidence=_value(page, columns, "evidence") or None,
        retired=bool(_value(page, columns, "retired")),
        last_edited_time=parse_timestamp(page.get("last_edited_time")),
        created_time=parse_timestamp(page.get("created_time")),
        base=plain_text(_value(page, columns, "base")),
    )


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    return date.fromisoformat(value[:10])


# -- writing page values ------------------------------------------------------------------------
def build_rich_text(text: str) -> list[dict[str, Any]]:
    """Rich text within Notion's limits: chunks of 2,000 characters, at most 100 of them."""
    chunks = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)][:MAX_RICH_TEXT_ITEMS]
    return [{"type": "text", "text": {"content": chunk}} for chunk in chunks]


_SELECT_FORBIDDEN = re.compile(r",")


def clean_select_name(name: str) -> str:
    """Notion rejects commas in select option names and caps them at 100 characters."""
    return _SELECT_FORBIDDEN.sub(" ", name).strip()[:100]


def build_property_value(field_name: str, value: Any) -> dict[str, Any]:
    spec = FIELD_BY_NAME[field_name]
    if spec.type == "title":
        return {"title": build_rich_text(str(value))}
    if spec.type == "rich_text":
        return {"rich_text": build_rich_text(str(value or ""))}
    if spec.type == "checkbox":
        return {"checkbox": bool(value)}
    if spec.type == "select":
        return {"select": None if value is None else {"name": clean_select_name(str(value))}}
    if spec.type == "number":
        return {"number": value}
    if spec.type == "date":
        return {"date": None if value is None else {"start": value.isoformat()}}
    if spec.type == "url":
        return {"url": value or None}
    raise ValueError(f"unsupported field type {spec.type}")


def build_page_properties(values: Mapping[str, Any], columns: Columns) -> dict[str, Any]:
    """Page `properties` for the given field values, keyed by each column's current name."""
    return {
        columns.names[name]: build_property_value(name, value)
        for name, value in values.items()
        if name in columns.names
    }
