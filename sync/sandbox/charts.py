"""Chart and dashboard views: their validation, widgets, and the series a chart shows.

Shapes follow the request and answer types of Notion's OpenAPI description as the official
JavaScript SDK carries them (`ChartViewConfigRequest`, `ChartAggregationRequest`,
`GroupByConfigRequest`, `WidgetPlacementRequest`, `DashboardViewConfigResponse`). No chart or
dashboard traffic was recorded: docs/sandbox.md lists what is guessed (messages, labels).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from sync.sandbox.ids import JSON, new_id
from sync.sandbox.query import build_filter, find_property
from sync.sandbox.store import Workspace
from sync.sandbox.validate import (
    MISSING,
    NotionError,
    invalid,
    require_object,
    require_str,
    validation,
)
from sync.sandbox.values import value_text

CHART_TYPES = ("column", "bar", "line", "donut", "number")
AGGREGATORS = (
    "count",
    "count_values",
    "sum",
    "average",
    "median",
    "min",
    "max",
    "range",
    "unique",
    "empty",
    "not_empty",
    "percent_empty",
    "percent_not_empty",
    "checked",
    "unchecked",
    "percent_checked",
    "percent_unchecked",
    "earliest_date",
    "latest_date",
    "date_range",
)
# Which property types an aggregator takes (absent: any type).
_AGGREGATOR_TYPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("checked", "unchecked", "percent_checked", "percent_unchecked"), ("checkbox",)
    ),
    **dict.fromkeys(("sum", "average", "median", "min", "max", "range"), ("number", "formula")),
    **dict.fromkeys(
        ("earliest_date", "latest_date", "date_range"),
        ("date", "created_time", "last_edited_time"),
    ),
}
_GROUP_TYPES: dict[str, tuple[str, ...]] = {
    "select": ("select", "multi_select"),
    "multi_select": ("select", "multi_select"),
    "status": ("status",),
    "checkbox": ("checkbox",),
    "date": ("date",),
    "created_time": ("created_time",),
    "last_edited_time": ("last_edited_time",),
    "number": ("number",),
    "text": ("title", "rich_text", "url", "email", "phone_number"),
}
DATE_GRANULARITY = ("relative", "day", "week", "month", "year")
GROUP_SORTS = ("manual", "ascending", "descending")
REFUSED_MESSAGE = "Chart and dashboard views are not available for this workspace."


def check_refusal(ws: Workspace, view_type: str) -> None:
    """The control switch (`POST /__sandbox/views/refuse`): refuse charts and/or dashboards."""
    if view_type in (ws.state.get("refuse_views") or ()):
        raise validation(str(ws.state.get("refuse_message") or REFUSED_MESSAGE))


def check_chart(source: JSON, given: JSON) -> None:
    """A chart's configuration, field by field, as Notion validates a request body."""
    path = "body.configuration"
    chart_type = given.get("chart_type", MISSING)
    if chart_type not in CHART_TYPES:
        raise invalid(f"{path}.chart_type", _one_of(CHART_TYPES), chart_type)
    if chart_type == "number":
        if given.get("value") is None:
            raise invalid(f"{path}.value", "defined", given.get("value", MISSING))
        _check_aggregation(source, given["value"], f"{path}.value")
    else:
        if given.get("y_axis") is not None:
            _check_aggregation(source, given["y_axis"], f"{path}.y_axis")
        if given.get("x_axis") is not None:
            check_group_by(source, given["x_axis"], f"{path}.x_axis")
    if given.get("cumulative") and chart_type != "line":
        raise validation(f"{path}.cumulative is only supported for line charts.")
    caption = given.get("caption")
    if caption is not None:
        require_str(caption, f"{path}.caption")


def _check_aggregation(source: JSON, raw: Any, path: str) -> None:
    spec = require_object(raw, path)
    aggregator = spec.get("aggregator", MISSING)
    if aggregator not in AGGREGATORS:
        raise invalid(f"{path}.aggregator", _one_of(AGGREGATORS), aggregator)
    if aggregator == "count":
        return
    if spec.get("property_id") is None:
        raise invalid(f"{path}.property_id", "defined", spec.get("property_id", MISSING))
    prop = _property(source, spec["property_id"], f"{path}.property_id")
    allowed = _AGGREGATOR_TYPES.get(aggregator)
    if allowed is not None and prop["type"] not in allowed:
        raise validation(
            f"Aggregator `{aggregator}` cannot be used with property `{prop['name']}` of type "
            f"`{prop['type']}`."
        )


def check_group_by(source: JSON, raw: Any, path: str) -> None:
    spec = require_object(raw, path)
    kind = spec.get("type", MISSING)
    if kind not in _GROUP_TYPES:
        raise invalid(f"{path}.type", _one_of(tuple(_GROUP_TYPES)), kind)
    if spec.get("property_id") is None:
        raise invalid(f"{path}.property_id", "defined", spec.get("property_id", MISSING))
    prop = _property(source, spec["property_id"], f"{path}.property_id")
    if prop["type"] not in _GROUP_TYPES[kind]:
        raise validation(
            f"Cannot group by property `{prop['name']}` of type `{prop['type']}` as `{kind}`."
        )
    sort = spec.get("sort", MISSING)
    if not isinstance(sort, dict) or sort.get("type") not in GROUP_SORTS:
        raise invalid(f"{path}.sort", "an object with a `type` of " + _one_of(GROUP_SORTS), sort)
    if kind in ("date", "created_time", "last_edited_time"):
        granularity = spec.get("group_by", MISSING)
        if granularity not in DATE_GRANULARITY:
            raise invalid(f"{path}.group_by", _one_of(DATE_GRANULARITY), granularity)
        start = spec.get("start_day_of_week", 1)
        if start not in (0, 1) or isinstance(start, bool):
            raise invalid(f"{path}.start_day_of_week", "`0` or `1`", start)


def _property(source: JSON, raw: Any, path: str) -> JSON:
    property_id = require_str(raw, path)
    prop = find_property(source, property_id)
    if prop is None:
        raise validation(f"Could not find property with name or id: {property_id}")
    return prop


def _one_of(values: tuple[str, ...]) -> str:
    return "one of " + ", ".join(f"`{v}`" for v in values)


# -- dashboards and widgets ----------------------------------------------------------------


def check_placement(raw: Any, dashboard: JSON) -> tuple[str, int | None]:
    """(`new_row` or `existing_row`, row index) of a widget's `placement`."""
    if raw is None or raw is MISSING:
        return "new_row", None
    spec = require_object(raw, "body.placement")
    kind = spec.get("type", MISSING)
    if kind not in ("new_row", "existing_row"):
        raise invalid("body.placement.type", "one of `new_row`, `existing_row`", kind)
    index = spec.get("row_index", MISSING)
    if index is MISSING and kind == "new_row":
        return kind, None
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise invalid("body.placement.row_index", "a number ≥ `0`", index)
    rows = dashboard["configuration"]["rows"]
    if kind == "existing_row" and index >= len(rows):
        raise validation(f"Row index {index} is out of range: the dashboard has {len(rows)} rows.")
    return kind, index


def place_widget(dashboard: JSON, widget_id: str, kind: str, index: int | None) -> None:
    rows: list[JSON] = dashboard["configuration"]["rows"]
    if kind == "existing_row" and index is not None:
        rows[index]["widgets"].append({"id": new_id(), "view_id": widget_id})
    else:
        made: JSON = {"id": new_id(), "widgets": [{"id": new_id(), "view_id": widget_id}]}
        rows.insert(len(rows) if index is None else min(index, len(rows)), made)
    _number_rows(rows)


def remove_widget(dashboard: JSON, widget_id: str) -> None:
    rows: list[JSON] = dashboard["configuration"]["rows"]
    for row in rows:
        row["widgets"] = [w for w in row["widgets"] if w["view_id"] != widget_id]
    dashboard["configuration"]["rows"] = [row for row in rows if row["widgets"]]
    _number_rows(dashboard["configuration"]["rows"])


def _number_rows(rows: list[JSON]) -> None:
    """Widths (of 12) and row indexes, as answers carry them: side by side shares a row."""
    for row_index, row in enumerate(rows):
        for widget in row["widgets"]:
            widget["width"] = 12 // len(row["widgets"])
            widget["row_index"] = row_index


# -- what a chart shows --------------------------------------------------------------------


def chart_series(ws: Workspace, view: JSON) -> JSON:
    """The labels and values a chart view shows from the current rows, after its filter."""
    if view["type"] != "chart":
        raise NotionError(400, "validation_error", f"View {view['id']} is not a chart.")
    source = ws.data_sources[view["data_source_id"]]
    keep = build_filter(ws, source, view["filter"]) if view.get("filter") else None
    rows = [
        page
        for page in (ws.pages[i] for i in source["row_ids"])
        if not page["in_trash"] and (keep is None or keep(page))
    ]
    config = view["configuration"]
    if config["chart_type"] == "number":
        value = _aggregate(source, config["value"], rows)
        return {"chart_type": "number", "labels": [view["name"]], "values": [value]}
    groups = _groups(source, config.get("x_axis"), rows)
    labels = [label for label, _ in groups]
    values = [
        _aggregate(source, config.get("y_axis") or {"aggregator": "count"}, g) for _, g in groups
    ]
    if config.get("cumulative"):
        running = 0.0
        values = [running := running + v for v in values]
    return {"chart_type": config["chart_type"], "labels": labels, "values": values}


def _groups(source: JSON, x_axis: JSON | None, rows: list[JSON]) -> list[tuple[str, list[JSON]]]:
    if x_axis is None:
        return [("", rows)]
    prop = find_property(source, x_axis["property_id"])
    assert prop is not None
    empty_label = f"No {prop['name']}"
    groups: dict[str, list[JSON]] = {}
    if prop["type"] in ("select", "multi_select"):
        order = [o["name"] for o in prop["config"].get("options", [])]
        for name in order:
            groups[name] = []
        for page in rows:
            text = value_text(prop, page["values"].get(prop["id"]))
            for name in [n for n in text.split(", ") if n] or [empty_label]:
                groups.setdefault(name, []).append(page)
    elif prop["type"] == "date":
        start_day = x_axis.get("start_day_of_week", 1)
        keyed: dict[str, list[JSON]] = {}
        undated: list[JSON] = []
        for page in rows:
            stored = page["values"].get(prop["id"]) or {}
            if not stored.get("start"):
                undated.append(page)
                continue
            day = date.fromisoformat(str(stored["start"])[:10])
            keyed.setdefault(_period(day, x_axis.get("group_by", "week"), start_day), []).append(
                page
            )
        descending = (x_axis.get("sort") or {}).get("type") == "descending"
        groups = dict(sorted(keyed.items(), reverse=descending))
        if undated:
            groups[empty_label] = undated
    else:
        for page in rows:
            label = value_text(prop, page["values"].get(prop["id"])) or empty_label
            groups.setdefault(label, []).append(page)
    if x_axis.get("hide_empty_groups"):
        return [(label, members) for label, members in groups.items() if members]
    return list(groups.items())


def _period(day: date, granularity: str, start_day: int) -> str:
    """A date group's label: the ISO date its period starts on (weeks on `start_day_of_week`)."""
    if granularity == "week":
        back = (day.weekday() + 1) % 7 if start_day == 0 else day.weekday()
        return (day - timedelta(days=back)).isoformat()
    if granularity == "month":
        return day.replace(day=1).isoformat()
    if granularity == "year":
        return day.replace(month=1, day=1).isoformat()
    return day.isoformat()


def _aggregate(source: JSON, spec: JSON, rows: list[JSON]) -> float:
    aggregator = spec["aggregator"]
    if aggregator == "count":
        return float(len(rows))
    prop = find_property(source, spec["property_id"])
    assert prop is not None
    values = [page["values"].get(prop["id"]) for page in rows]
    checked = sum(1 for v in values if v is True)
    filled = sum(1 for v in values if v not in (None, "", [], False))
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    whole = len(values)
    simple: dict[str, float] = {
        "checked": checked,
        "unchecked": whole - checked,
        "percent_checked": _share(checked, whole),
        "percent_unchecked": _share(whole - checked, whole),
        "empty": whole - filled,
        "not_empty": filled,
        "percent_empty": _share(whole - filled, whole),
        "percent_not_empty": _share(filled, whole),
        "sum": math.fsum(numbers),
        "average": math.fsum(numbers) / len(numbers) if numbers else 0.0,
        "min": min(numbers, default=0.0),
        "max": max(numbers, default=0.0),
    }
    if aggregator not in simple:
        raise NotionError(501, "not_implemented", f"The sandbox does not chart `{aggregator}`.")
    return float(simple[aggregator])


def _share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0
