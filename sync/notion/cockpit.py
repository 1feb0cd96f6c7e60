"""PURE: the Progress dashboard (the "cockpit"): `POST /v1/views` bodies for the tab and its
widgets.

A dashboard is a tab of the database (`type: "dashboard"`, no configuration); each widget is a
view created with the dashboard's `view_id` and a `placement`. The layout is decided at creation
(an update cannot move a widget): row 0 holds the overall percent and the percent per level side
by side, row 1 the completions by week, row 2 the Next up list.

Every chart leaves out Retired and Skipped rows, as `status` counts (`sync.progress`). Every
table or list widget hides the tool's own columns: the fields of `model.FIELDS` owned by "tool".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sync.notion.views import TOOL_FIELDS, build_next_up_filter

DASHBOARD_NAME = "Progress"
# Widget names in creation order; the mark records each one's view id under this name.
WIDGETS = ("overall", "levels", "weekly", "next_up")
TITLES = {
    "overall": "Done overall",
    "levels": "Done per level",
    "weekly": "Completions by week",
    "next_up": "Next up",
}
_REQUIRED = ("done", "status", "level", "retired", "done_on", "title")
_NEXT_UP_SHOWN = ("title", "level", "category", "status")


@dataclass(frozen=True)
class Placement:
    kind: Literal["new_row", "existing_row"]
    row_index: int | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.row_index is not None:
            out["row_index"] = self.row_index
        return out


# Where each widget goes; the first of a row makes the row (new rows are appended).
PLACEMENTS = {
    "overall": Placement("new_row"),
    "levels": Placement("existing_row", 0),
    "weekly": Placement("new_row"),
    "next_up": Placement("new_row"),
}


def can_build(column_ids: Mapping[str, str]) -> bool:
    """Whether the columns the cockpit needs are all there."""
    return all(field in column_ids for field in _REQUIRED)


def build_dashboard_body(database_id: str, data_source_id: str) -> dict[str, Any]:
    """The Progress tab, last in the tab bar."""
    return {
        "database_id": database_id,
        "data_source_id": data_source_id,
        "name": DASHBOARD_NAME,
        "type": "dashboard",
        "position": {"type": "end"},
    }


def build_chart_filter(ids: Mapping[str, str]) -> dict[str, Any]:
    """The rows `status` counts: not retired, not Skipped."""
    return {
        "and": [
            {"property": ids["retired"], "checkbox": {"equals": False}},
            {"property": ids["status"], "select": {"does_not_equal": "Skipped"}},
        ]
    }


def build_widget_body(
    name: str,
    dashboard_id: str,
    data_source_id: str,
    ids: Mapping[str, str],
    *,
    week_starts_sunday: bool = False,
    placement: Placement | None = None,
) -> dict[str, Any]:
    """The `POST /v1/views` body of one widget (`name` in WIDGETS)."""
    base: dict[str, Any] = {
        "view_id": dashboard_id,
        "data_source_id": data_source_id,
        "name": TITLES[name],
        "placement": (placement or PLACEMENTS[name]).body(),
    }
    if name == "next_up":
        return {
            **base,
            "type": "list",
            "filter": build_next_up_filter(ids),
            "sorts": [
                {"property": ids[f], "direction": "ascending"}
                for f in ("level", "category", "order")
                if f in ids
            ],
            "configuration": {"type": "list", "properties": build_list_properties(ids)},
        }
    if name not in ("overall", "levels", "weekly"):
        raise ValueError(f"unknown widget {name!r}")
    chart_filter, configuration = _build_chart(name, ids, week_starts_sunday)
    return {**base, "type": "chart", "filter": chart_filter, "configuration": configuration}


def _build_chart(
    name: str, ids: Mapping[str, str], week_starts_sunday: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(filter, configuration) of a chart widget."""
    counted = build_chart_filter(ids)
    done_pct = {"aggregator": "percent_checked", "property_id": ids["done"]}
    if name == "overall":
        return counted, {
            "type": "chart",
            "chart_type": "number",
            "value": done_pct,
            "caption": "Skipped and retired items are left out, as in `dsprogress status`.",
        }
    if name == "levels":
        return counted, {
            "type": "chart",
            "chart_type": "column",
            "x_axis": {
                "type": "select",
                "property_id": ids["level"],
                "sort": {"type": "manual"},
                "hide_empty_groups": True,
            },
            "y_axis": done_pct,
            "show_data_labels": True,
            "caption": "Your own items have no Level: they are the “No Level” column.",
        }
    done_rows = {
        "and": [
            *counted["and"],
            {"property": ids["done"], "checkbox": {"equals": True}},
            {"property": ids["done_on"], "date": {"is_not_empty": True}},
        ]
    }
    return done_rows, {
        "type": "chart",
        "chart_type": "line",
        "x_axis": {
            "type": "date",
            "property_id": ids["done_on"],
            "group_by": "week",
            "start_day_of_week": 0 if week_starts_sunday else 1,
            "sort": {"type": "ascending"},
            "hide_empty_groups": True,
        },
        "y_axis": {"aggregator": "count"},
        "cumulative": True,
        "caption": "Items done, by the week of their Done on (added up).",
    }


def build_list_properties(ids: Mapping[str, str]) -> list[dict[str, Any]]:
    """A list widget's columns: a few shown, the tool's own columns hidden."""
    shown = [{"property_id": ids[f], "visible": True} for f in _NEXT_UP_SHOWN if f in ids]
    hidden = [{"property_id": ids[f], "visible": False} for f in TOOL_FIELDS if f in ids]
    return shown + hidden
