"""The views created with the checklist database: pure request bodies, checked for shape."""

from __future__ import annotations

from typing import Any

from sync.model import FIELDS
from sync.notion.cockpit import (
    DASHBOARD_NAME,
    PLACEMENTS,
    WIDGETS,
    build_dashboard_body,
    build_widget_body,
    can_build,
)
from sync.notion.views import (
    BOARD_NAME,
    DEFAULT_LEVEL_ICON,
    NEXT_UP_NAME,
    TABLE_NAME,
    TOOL_FIELDS,
    build_level_view_name,
    build_view_bodies,
)

DATABASE_ID = "11111111-1111-4111-8111-111111111111"
DATA_SOURCE_ID = "22222222-2222-4222-8222-222222222222"
IDS = {spec.field: f"id-{spec.field}" for spec in FIELDS}
LEVELS = [("Entry", "🌱"), ("Intermediate", "🚀"), ("Advanced", None)]
# The body fields notion-client 3.1's views.create forwards (api_endpoints.ViewsEndpoint.create).
SDK_CREATE_FIELDS = {
    "data_source_id",
    "name",
    "type",
    "database_id",
    "view_id",
    "filter",
    "sorts",
    "quick_filters",
    "create_database",
    "configuration",
    "position",
    "placement",
}


def bodies() -> dict[str, dict[str, Any]]:
    return {b["name"]: b for b in build_view_bodies(DATABASE_ID, DATA_SOURCE_ID, IDS, LEVELS)}


def test_views_in_tab_order() -> None:
    names = [b["name"] for b in build_view_bodies(DATABASE_ID, DATA_SOURCE_ID, IDS, LEVELS)]
    assert names == [
        BOARD_NAME,
        TABLE_NAME,
        NEXT_UP_NAME,
        "🌱 Entry",
        "🚀 Intermediate",
        f"{DEFAULT_LEVEL_ICON} Advanced",
    ]


def test_every_body_is_a_valid_create_request() -> None:
    for body in bodies().values():
        assert set(body) <= SDK_CREATE_FIELDS
        assert body["database_id"] == DATABASE_ID
        assert body["data_source_id"] == DATA_SOURCE_ID
        assert body["type"] in ("board", "table")
        assert body["configuration"]["type"] == body["type"]


def test_board_is_grouped_by_level_in_checklist_order() -> None:
    board = bodies()[BOARD_NAME]
    group_by = board["configuration"]["group_by"]
    assert group_by == {
        "type": "select",
        "property_id": IDS["level"],
        "sort": {"type": "manual"},
        "hide_empty_groups": True,
    }
    assert board["filter"] == {"property": IDS["retired"], "checkbox": {"equals": False}}


def test_table_is_grouped_by_category_and_sorted_by_order() -> None:
    table = bodies()[TABLE_NAME]
    assert table["configuration"]["group_by"]["property_id"] == IDS["category"]
    assert table["sorts"][-1] == {"property": IDS["order"], "direction": "ascending"}


def test_next_up_shows_unticked_items_in_checklist_order() -> None:
    next_up = bodies()[NEXT_UP_NAME]
    conditions = next_up["filter"]["and"]
    assert {"property": IDS["done"], "checkbox": {"equals": False}} in conditions
    # Status decides too: an item marked Done or Skipped by Status is not next.
    assert {"property": IDS["status"], "select": {"does_not_equal": "Done"}} in conditions
    assert {"property": IDS["status"], "select": {"does_not_equal": "Skipped"}} in conditions
    assert {"property": IDS["retired"], "checkbox": {"equals": False}} in conditions
    assert [s["property"] for s in next_up["sorts"]] == [
        IDS["level"],
        IDS["category"],
        IDS["order"],
    ]


def test_a_view_per_level_with_its_icon() -> None:
    entry = bodies()["🌱 Entry"]
    assert {"property": IDS["level"], "select": {"equals": "Entry"}} in entry["filter"]["and"]
    assert entry["configuration"]["group_by"]["property_id"] == IDS["category"]


def test_bookkeeping_columns_are_hidden() -> None:
    for body in bodies().values():
        shown = {p["property_id"]: p["visible"] for p in body["configuration"]["properties"]}
        tool = ("key", "retired", "base")  # the tool's bookkeeping, its Sync base too
        assert all(shown[IDS[f]] is False for f in tool if f in IDS)
        assert all(shown[i] for f, i in IDS.items() if f not in tool and i in shown)


def test_a_damaged_schema_gives_no_views() -> None:
    damaged = {f: i for f, i in IDS.items() if f != "level"}
    assert build_view_bodies(DATABASE_ID, DATA_SOURCE_ID, damaged, LEVELS) == []


def test_level_view_name() -> None:
    assert build_level_view_name("Entry", " 🌱 ") == "🌱 Entry"
    assert build_level_view_name("Expert", None) == f"{DEFAULT_LEVEL_ICON} Expert"


# -- the Progress dashboard (sync/notion/cockpit.py) ---------------------------------------------


DASHBOARD_ID = "33333333-3333-4333-8333-333333333333"


def widgets() -> dict[str, dict[str, Any]]:
    return {name: build_widget_body(name, DASHBOARD_ID, DATA_SOURCE_ID, IDS) for name in WIDGETS}


def test_the_tools_own_columns_come_from_the_model() -> None:
    assert tuple(spec.field for spec in FIELDS if spec.owner == "tool") == TOOL_FIELDS
    assert {"key", "retired"} <= set(TOOL_FIELDS)


def test_the_dashboard_is_a_tab_without_configuration() -> None:
    body = build_dashboard_body(DATABASE_ID, DATA_SOURCE_ID)
    assert body["type"] == "dashboard" and body["name"] == DASHBOARD_NAME
    assert "configuration" not in body and body["data_source_id"] == DATA_SOURCE_ID
    assert set(body) <= SDK_CREATE_FIELDS


def test_widgets_go_into_the_dashboard_with_a_placement() -> None:
    for name, body in widgets().items():
        assert set(body) <= SDK_CREATE_FIELDS
        assert body["view_id"] == DASHBOARD_ID and "database_id" not in body
        assert body["placement"] == PLACEMENTS[name].body()
    # Row 0 holds two widgets side by side; the others get rows of their own.
    assert [widgets()[n]["placement"]["type"] for n in WIDGETS] == [
        "new_row",
        "existing_row",
        "new_row",
        "new_row",
    ]


def test_every_chart_leaves_out_retired_and_skipped_rows() -> None:
    excluded = [
        {"property": IDS["retired"], "checkbox": {"equals": False}},
        {"property": IDS["status"], "select": {"does_not_equal": "Skipped"}},
    ]
    for name in ("overall", "levels", "weekly"):
        body = widgets()[name]
        assert body["type"] == "chart"
        for condition in excluded:
            assert condition in body["filter"]["and"], name


def test_the_charts_aggregate_done() -> None:
    overall, levels, weekly = (
        widgets()[n]["configuration"] for n in ("overall", "levels", "weekly")
    )
    done_pct = {"aggregator": "percent_checked", "property_id": IDS["done"]}
    assert overall["chart_type"] == "number" and overall["value"] == done_pct
    assert levels["chart_type"] == "column" and levels["y_axis"] == done_pct
    assert levels["x_axis"]["property_id"] == IDS["level"]
    assert weekly["chart_type"] == "line" and weekly["cumulative"] is True
    assert weekly["x_axis"]["group_by"] == "week" and weekly["x_axis"]["sort"]
    assert weekly["x_axis"]["start_day_of_week"] == 1
    sunday = build_widget_body("weekly", DASHBOARD_ID, DATA_SOURCE_ID, IDS, week_starts_sunday=True)
    assert sunday["configuration"]["x_axis"]["start_day_of_week"] == 0


def test_the_next_up_list_hides_every_tool_column() -> None:
    body = widgets()["next_up"]
    assert body["type"] == "list"
    hidden = {p["property_id"] for p in body["configuration"]["properties"] if not p["visible"]}
    assert hidden == {IDS[f] for f in TOOL_FIELDS}


def test_no_cockpit_without_the_columns_it_needs() -> None:
    assert can_build(IDS)
    assert not can_build({k: v for k, v in IDS.items() if k != "done_on"})
