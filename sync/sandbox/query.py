"""Data source queries: filters, sorts and cursor pagination.

Default order (no sorts) is newest first, as recorded. Empty values sort last in both directions.
Text comparisons: `equals` is exact; contains / starts_with / ends_with ignore case.
Dates compare in UTC; a date-only filter value compares whole days. Timestamp filters compare the
minute-rounded times the API shows, so an edit at 10:00:30 does NOT match `on_or_after 10:00:20`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from sync.sandbox.dates import RELATIVE_CONDITIONS, relative_days
from sync.sandbox.ids import JSON, minute_floor, new_id, normalize_id
from sync.sandbox.richtext import plain_text
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    MISSING,
    invalid,
    invalid_cursor,
    require_list,
    require_object,
    require_str,
    validation,
)
from sync.sandbox.values import value_text

TEXT_TYPES = ("title", "rich_text", "url", "email", "phone_number")
TIMESTAMP_TYPES = ("created_time", "last_edited_time")
# Which filter keys a property type accepts.
_FILTER_KEYS: dict[str, tuple[str, ...]] = {
    **{kind: TEXT_TYPES for kind in TEXT_TYPES},
    "checkbox": ("checkbox",),
    "select": ("select",),
    "multi_select": ("multi_select",),
    "number": ("number",),
    "date": ("date",),
    "created_time": ("created_time", "date"),
    "last_edited_time": ("last_edited_time", "date"),
    "created_by": ("created_by", "people"),
    "last_edited_by": ("last_edited_by", "people"),
}
Predicate = Callable[[JSON], bool]


def find_property(data_source: JSON, name_or_id: str) -> JSON | None:
    properties: dict[str, JSON] = data_source["properties"]
    if name_or_id in properties:
        return properties[name_or_id]
    return next((p for p in properties.values() if p["name"] == name_or_id), None)


def _single_condition(raw: Any, path: str) -> tuple[str, Any]:
    conditions = require_object(raw, path)
    if len(conditions) != 1:
        raise invalid(path, "an object with exactly one condition", conditions)
    ((name, value),) = conditions.items()
    return name, value


def _moment(raw: Any, path: str) -> tuple[datetime, bool]:
    """A date or date-time string as an aware UTC datetime, and whether it was date-only."""
    text = require_str(raw, path)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc), True
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise invalid(path, "a valid ISO 8601 date string", text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc), False


def _date_predicate(
    ws: Workspace,
    condition: str,
    value: Any,
    path: str,
    getter: Callable[[JSON], datetime | None],
    *,
    to_minute: bool = False,
) -> Predicate:
    """A date condition; `to_minute`: a date-time given is cut to the minute first, as Notion
    does when it stores one (recorded: `equals 06:57:51` matched a date written at 06:57:51)."""
    if condition in ("is_empty", "is_not_empty"):
        wanted = condition == "is_empty"
        return lambda page: (getter(page) is None) == wanted
    if condition in RELATIVE_CONDITIONS:
        low, high = relative_days(condition, ws.now())

        def relative(page: JSON) -> bool:
            moment = getter(page)
            return moment is not None and low <= moment.date() <= high

        return relative
    if condition not in ("equals", "before", "after", "on_or_before", "on_or_after"):
        raise invalid(path, "a date filter condition", condition)
    target, whole_day = _moment(value, f"{path}.{condition}")
    if to_minute:
        target = target.replace(second=0, microsecond=0)

    def compare(page: JSON) -> bool:
        moment = getter(page)
        if moment is None:
            return False
        left: Any = moment.date() if whole_day else moment
        right: Any = target.date() if whole_day else target
        return bool(
            {
                "equals": left == right,
                "before": left < right,
                "after": left > right,
                "on_or_before": left <= right,
                "on_or_after": left >= right,
            }[condition]
        )

    return compare


def _stored_date(prop: JSON) -> Callable[[JSON], datetime | None]:
    def getter(page: JSON) -> datetime | None:
        value = page["values"].get(prop["id"])
        if not value or not value.get("start"):
            return None
        return _moment(value["start"], "start")[0]

    return getter


def _timestamp(kind: str) -> Callable[[JSON], datetime | None]:
    return lambda page: datetime.fromtimestamp(minute_floor(page[kind]), tz=timezone.utc)


def _text_predicate(
    condition: str, value: Any, path: str, getter: Callable[[JSON], str]
) -> Predicate:
    if condition in ("is_empty", "is_not_empty"):
        wanted = condition == "is_empty"
        return lambda page: (getter(page) == "") == wanted
    needle = require_str(value, f"{path}.{condition}")
    folded = needle.casefold()
    tests: dict[str, Callable[[str], bool]] = {
        "equals": lambda text: text == needle,
        "does_not_equal": lambda text: text != needle,
        "contains": lambda text: folded in text.casefold(),
        "does_not_contain": lambda text: folded not in text.casefold(),
        "starts_with": lambda text: text.casefold().startswith(folded),
        "ends_with": lambda text: text.casefold().endswith(folded),
    }
    if condition not in tests:
        raise invalid(path, "a text filter condition", condition)
    test = tests[condition]
    return lambda page: test(getter(page))


def _property_predicate(ws: Workspace, data_source: JSON, spec: JSON, path: str) -> Predicate:
    name = require_str(spec["property"], f"{path}.property")
    prop = find_property(data_source, name)
    if prop is None:
        raise validation(f"Could not find property with name or id: {name}")
    keys = [k for k in spec if k not in ("property", "type")]
    if len(keys) != 1:
        raise invalid(path, "a property filter with exactly one filter type", spec)
    key, kind = keys[0], prop["type"]
    if key not in _FILTER_KEYS.get(kind, ()):
        raise validation(f"database property {kind} does not match filter {key}")
    condition, value = _single_condition(spec[key], f"{path}.{key}")
    cpath = f"{path}.{key}"
    stored: Callable[[JSON], Any] = lambda page: page["values"].get(prop["id"])  # noqa: E731
    if kind in TEXT_TYPES:
        return _text_predicate(condition, value, cpath, lambda page: value_text(prop, stored(page)))
    if kind == "checkbox":
        if condition not in ("equals", "does_not_equal") or not isinstance(value, bool):
            raise invalid(f"{cpath}.{condition}", "a boolean", value)
        return lambda page: (bool(stored(page)) == value) == (condition == "equals")
    if kind in ("select", "multi_select"):
        return _option_predicate(prop, condition, value, cpath)
    if kind == "number":
        return _number_predicate(condition, value, cpath, stored)
    if kind == "date":
        return _date_predicate(ws, condition, value, cpath, _stored_date(prop), to_minute=True)
    if kind in TIMESTAMP_TYPES:
        return _date_predicate(ws, condition, value, cpath, _timestamp(kind))
    user_field = "created_by" if kind == "created_by" else "last_edited_by"
    if condition not in ("contains", "does_not_contain"):
        raise invalid(cpath, "a people filter condition", condition)
    user_id = normalize_id(require_str(value, f"{cpath}.{condition}"))
    return lambda page: (page[user_field] == user_id) == (condition == "contains")


def _option_predicate(prop: JSON, condition: str, value: Any, path: str) -> Predicate:
    def names(page: JSON) -> list[str]:
        text = value_text(prop, page["values"].get(prop["id"]))
        return [n for n in text.split(", ") if n] if text else []

    if condition in ("is_empty", "is_not_empty"):
        wanted = condition == "is_empty"
        return lambda page: (not names(page)) == wanted
    name = require_str(value, f"{path}.{condition}")
    single = prop["type"] == "select"
    allowed = ("equals", "does_not_equal") if single else ("contains", "does_not_contain")
    if condition not in allowed:
        raise invalid(path, f"a {prop['type']} filter condition", condition)
    positive = condition in ("equals", "contains")
    return lambda page: (name in names(page)) == positive


def _number_predicate(
    condition: str, value: Any, path: str, stored: Callable[[JSON], Any]
) -> Predicate:
    if condition in ("is_empty", "is_not_empty"):
        wanted = condition == "is_empty"
        return lambda page: (stored(page) is None) == wanted
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"{path}.{condition}", "a number", value)
    tests: dict[str, Callable[[float], bool]] = {
        "equals": lambda n: n == value,
        "does_not_equal": lambda n: n != value,
        "greater_than": lambda n: n > value,
        "less_than": lambda n: n < value,
        "greater_than_or_equal_to": lambda n: n >= value,
        "less_than_or_equal_to": lambda n: n <= value,
    }
    if condition not in tests:
        raise invalid(path, "a number filter condition", condition)
    test = tests[condition]
    if condition == "does_not_equal":  # recorded: empty rows are included
        return lambda page: stored(page) is None or test(stored(page))
    return lambda page: stored(page) is not None and test(stored(page))


def build_filter(
    ws: Workspace, data_source: JSON, raw: Any, path: str = "body.filter"
) -> Predicate:
    spec = require_object(raw, path)
    for compound in ("and", "or"):
        if compound in spec:
            parts = require_list(spec[compound], f"{path}.{compound}")
            predicates = [
                build_filter(ws, data_source, part, f"{path}.{compound}[{i}]")
                for i, part in enumerate(parts)
            ]
            if compound == "and":
                return lambda page: all(p(page) for p in predicates)
            return lambda page: any(p(page) for p in predicates)
    if "timestamp" in spec:
        kind = require_str(spec["timestamp"], f"{path}.timestamp")
        if kind not in TIMESTAMP_TYPES:
            raise invalid(f"{path}.timestamp", "`created_time` or `last_edited_time`", kind)
        condition, value = _single_condition(spec.get(kind), f"{path}.{kind}")
        return _date_predicate(ws, condition, value, f"{path}.{kind}", _timestamp(kind))
    if "property" in spec:
        return _property_predicate(ws, data_source, spec, path)
    raise invalid(path, "a property, timestamp or compound filter", spec)


def _sort_key(data_source: JSON, spec: JSON, path: str) -> tuple[Callable[[JSON], Any], bool]:
    direction = spec.get("direction", "ascending")
    if direction not in ("ascending", "descending"):
        raise invalid(f"{path}.direction", '`"ascending"` or `"descending"`', direction)
    descending = direction == "descending"
    if "timestamp" in spec:
        kind = spec["timestamp"]
        if kind not in TIMESTAMP_TYPES:
            raise invalid(f"{path}.timestamp", "`created_time` or `last_edited_time`", kind)
        return (lambda page: minute_floor(page[kind])), descending
    name = require_str(spec.get("property", MISSING), f"{path}.property")
    prop = find_property(data_source, name)
    if prop is None:
        raise validation(f"Could not find sort property with name or id: {name}")
    kind = prop["type"]

    def key(page: JSON) -> Any:
        stored = page["values"].get(prop["id"])
        if kind in TEXT_TYPES:
            text = value_text(prop, stored)
            return text.casefold() if text else None
        if kind == "checkbox":
            return bool(stored)
        if kind in ("select", "multi_select"):
            ids = [stored] if kind == "select" else list(stored or [])
            order = [o["id"] for o in prop["config"].get("options", [])]
            positions = [order.index(i) for i in ids if i in order]
            return positions[0] if positions else None
        if kind == "date":
            return _stored_date(prop)(page)
        if kind in TIMESTAMP_TYPES:
            return minute_floor(page[kind])
        if kind in ("created_by", "last_edited_by"):
            return page[kind]
        return stored

    return key, descending


def sort_pages(data_source: JSON, pages: list[JSON], raw_sorts: Any) -> list[JSON]:
    ordered = sorted(pages, key=lambda page: page["seq"], reverse=True)
    if raw_sorts is MISSING or raw_sorts is None:
        return ordered
    sorts = require_list(raw_sorts, "body.sorts")
    keys = [
        _sort_key(data_source, require_object(s, f"body.sorts[{i}]"), f"body.sorts[{i}]")
        for i, s in enumerate(sorts)
    ]
    for key, descending in reversed(keys):
        present = [(key(page), page) for page in ordered]
        filled = [pair for pair in present if pair[0] is not None]
        empty = [page for value, page in present if value is None]
        filled.sort(key=lambda pair: pair[0], reverse=descending)
        ordered = [page for _, page in filled] + empty
    return ordered


def plain_title(page: JSON) -> str:
    return plain_text(page["values"].get("title"))


def _cursor_item_id(start_cursor: Any, *, opaque: bool) -> str | None:
    """The id of the item a cursor names; None when there is no cursor."""
    if start_cursor is MISSING or start_cursor is None:
        return None
    if not isinstance(start_cursor, str) or (opaque and not start_cursor.startswith("s:")):
        raise invalid_cursor(start_cursor)
    item_id = normalize_id(start_cursor.rsplit(":", 1)[-1])
    if item_id is None:
        raise invalid_cursor(start_cursor)
    return item_id


def paginate_newest_first(
    ws: Workspace, row_ids: list[str], keep: Predicate, start_cursor: Any, page_size: int
) -> tuple[list[JSON], str | None, bool]:
    """One page of a query in the default order (newest first), as `paginate` would cut it from
    every kept row, but reading only the rows this page needs: `row_ids` is in creation order."""
    start = len(row_ids) - 1
    item_id = _cursor_item_id(start_cursor, opaque=True)
    if item_id is not None:
        try:
            start = row_ids.index(item_id)
        except ValueError:
            raise invalid_cursor(start_cursor) from None
        if not keep(ws.pages[item_id]):
            raise invalid_cursor(start_cursor)
    chunk: list[JSON] = []
    for index in range(start, -1, -1):
        page = ws.pages[row_ids[index]]
        if not keep(page):
            continue
        if len(chunk) == page_size:
            return chunk, f"s:{new_id()}:{page['id']}", True
        chunk.append(page)
    return chunk, None, False


def paginate(
    items: list[JSON], start_cursor: Any, page_size: int, *, opaque: bool
) -> tuple[list[JSON], str | None, bool]:
    """One page of results. Cursors name the next item: the bare id (block children) or an
    opaque `s:<token>:<id>` (queries, search). A cursor whose item is gone is refused."""
    start = 0
    item_id = _cursor_item_id(start_cursor, opaque=opaque)
    if item_id is not None:
        index = next((i for i, item in enumerate(items) if item["id"] == item_id), None)
        if index is None:
            raise invalid_cursor(start_cursor)
        start = index
    chunk = items[start : start + page_size]
    has_more = start + page_size < len(items)
    next_cursor: str | None = None
    if has_more:
        next_id = items[start + page_size]["id"]
        next_cursor = f"s:{new_id()}:{next_id}" if opaque else next_id
    return chunk, next_cursor, has_more
