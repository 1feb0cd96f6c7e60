"""The views created with the checklist database: pure request bodies, checked for shape."""

from __future__ import annotations

from typing import Any

from sync.model import FIELDS
from sync.notion.views import (
    BOARD_NAME,
    DEFAULT_LEVEL_ICON,
    NEXT_UP_NAME,
    TABLE_NAME,
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
