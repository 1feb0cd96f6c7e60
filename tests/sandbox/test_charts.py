"""Chart and dashboard views in the sandbox, through the official SDK's `views.*`: validation in
Notion's message style, dashboards and their widgets, the series a chart shows, the refusal switch.
"""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIErrorCode, APIResponseError, Client

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import SandboxDatabase

Body = dict[str, Any]


def chart(db: SandboxDatabase, configuration: Body, **extra: Any) -> Body:
    return {
        "data_source_id": db.data_source_id,
        "database_id": db.database_id,
        "name": "A chart",
        "type": "chart",
        "configuration": {"type": "chart", **configuration},
        **extra,
    }


def message_of(notion: Client, body: Body) -> str:
    with pytest.raises(APIResponseError) as caught:
        notion.views.create(**body)
    assert caught.value.status == 400 and caught.value.code == APIErrorCode.ValidationError
    return str(caught.value)


def test_an_unknown_aggregator_is_a_validation_error(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    ids = sandbox_db.property_ids
    body = chart(
        sandbox_db,
        {"chart_type": "number", "value": {"aggregator": "mean", "property_id": ids["Hours"]}},
    )
    message = message_of(notion, body)
    assert message.startswith(
        "body failed validation: body.configuration.value.aggregator should be one of `count`"
    )
    assert message.endswith(', instead was `"mean"`.')


def test_a_missing_property_id_is_a_validation_error(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    body = chart(sandbox_db, {"chart_type": "number", "value": {"aggregator": "percent_checked"}})
    assert message_of(notion, body) == (
        "body failed validation: body.configuration.value.property_id should be defined, "
        "instead was `undefined`."
    )


def test_a_property_of_the_wrong_type_is_a_validation_error(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    ids = sandbox_db.property_ids
    body = chart(
        sandbox_db,
        {
            "chart_type": "number",
            "value": {"aggregator": "percent_checked", "property_id": ids["Hours"]},
        },
    )
    assert "`percent_checked` cannot be used with property `Hours` of type `number`" in (
        message_of(notion, body)
    )
    by_date_as_select = chart(
        sandbox_db,
        {
            "chart_type": "column",
            "x_axis": {"type": "select", "property_id": ids["Done on"], "sort": {"type": "manual"}},
            "y_axis": {"aggregator": "count"},
        },
    )
    assert "Cannot group by property `Done on` of type `date`" in message_of(
        notion, by_date_as_select
    )


def test_a_date_group_needs_a_granularity_and_a_sort(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    ids = sandbox_db.property_ids
    x_axis: Body = {"type": "date", "property_id": ids["Done on"], "group_by": "week"}
    body = chart(
        sandbox_db, {"chart_type": "line", "x_axis": x_axis, "y_axis": {"aggregator": "count"}}
    )
    assert "body.configuration.x_axis.sort should be" in message_of(notion, body)
    x_axis = {**x_axis, "sort": {"type": "ascending"}, "group_by": "fortnight"}
    body = chart(
        sandbox_db, {"chart_type": "line", "x_axis": x_axis, "y_axis": {"aggregator": "count"}}
    )
    assert "body.configuration.x_axis.group_by should be one of" in message_of(notion, body)


def test_a_dashboard_takes_widgets_in_rows_and_answers_in_notions_shapes(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    ids = sandbox_db.property_ids
    dashboard = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        database_id=sandbox_db.database_id,
        name="Progress",
        type="dashboard",
    )
    assert dashboard["data_source_id"] is None
    assert dashboard["configuration"] == {"type": "dashboard", "rows": []}
    number = {
        "chart_type": "number",
        "value": {"aggregator": "percent_checked", "property_id": ids["Done"]},
    }
    first = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        view_id=dashboard["id"],
        name="Done",
        type="chart",
        configuration={"type": "chart", **number},
        placement={"type": "new_row"},
    )
    assert first["dashboard_view_id"] == dashboard["id"]
    second = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        view_id=dashboard["id"],
        name="Left",
        type="list",
        placement={"type": "existing_row", "row_index": 0},
    )
    with pytest.raises(APIResponseError) as caught:
        notion.views.create(
            data_source_id=sandbox_db.data_source_id,
            view_id=dashboard["id"],
            name="Nowhere",
            type="list",
            placement={"type": "existing_row", "row_index": 3},
        )
    assert "out of range" in str(caught.value)
    rows = notion.views.retrieve(dashboard["id"])["configuration"]["rows"]
    assert [
        [(w["view_id"], w["width"], w["row_index"]) for w in row["widgets"]] for row in rows
    ] == [[(first["id"], 6, 0), (second["id"], 6, 0)]]
    # Widgets are not tabs: the database lists its tabs.
    listed = {v["id"] for v in notion.views.list(database_id=sandbox_db.database_id)["results"]}
    assert dashboard["id"] in listed and first["id"] not in listed
    # A deleted widget leaves its row; a deleted dashboard takes its widgets along.
    notion.views.delete(second["id"])
    rows = notion.views.retrieve(dashboard["id"])["configuration"]["rows"]
    assert [[w["width"] for w in row["widgets"]] for row in rows] == [[12]]
    notion.views.delete(dashboard["id"])
    with pytest.raises(APIResponseError) as gone:
        notion.views.retrieve(first["id"])
    assert gone.value.status == 404


def test_the_chart_endpoint_shows_the_series_after_the_views_filter(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    ids = sandbox_db.property_ids
    rows = [
        ("a", True, "Beginner", "2026-11-02"),  # a Monday
        ("b", True, "Beginner", "2026-11-08"),  # the Sunday of the same ISO week
        ("c", False, "Beginner", None),
        ("d", True, "Advanced", "2026-11-10"),
        ("e", True, None, "2026-11-10"),
        ("f", False, "Advanced", None),  # left out by the filter below
    ]
    for title, done, level, done_on in rows:
        properties: Body = {"Done": {"checkbox": done}}
        if level:
            properties["Level"] = {"select": {"name": level}}
        if done_on:
            properties["Done on"] = {"date": {"start": done_on}}
        if title == "f":
            properties["Notes"] = {"rich_text": [{"text": {"content": "skip"}}]}
        sandbox.control.add_row(sandbox_db.data_source_id, title, properties)
    kept = {"property": ids["Notes"], "rich_text": {"does_not_equal": "skip"}}
    per_level = notion.views.create(
        **chart(
            sandbox_db,
            {
                "chart_type": "column",
                "x_axis": {
                    "type": "select",
                    "property_id": ids["Level"],
                    "sort": {"type": "manual"},
                    "hide_empty_groups": True,
                },
                "y_axis": {"aggregator": "percent_checked", "property_id": ids["Done"]},
            },
            filter=kept,
        )
    )
    assert sandbox.control.chart(per_level["id"])["labels"] == ["Beginner", "Advanced", "No Level"]
    assert sandbox.control.chart(per_level["id"])["values"] == pytest.approx(
        [200 / 3, 100.0, 100.0]
    )
    weekly = notion.views.create(
        **chart(
            sandbox_db,
            {
                "chart_type": "line",
                "x_axis": {
                    "type": "date",
                    "property_id": ids["Done on"],
                    "group_by": "week",
                    "start_day_of_week": 1,
                    "sort": {"type": "ascending"},
                    "hide_empty_groups": True,
                },
                "y_axis": {"aggregator": "count"},
                "cumulative": True,
            },
            filter={"property": ids["Done"], "checkbox": {"equals": True}},
        )
    )
    series = sandbox.control.chart(weekly["id"])
    assert (series["labels"], series["values"]) == (["2026-11-02", "2026-11-09"], [2.0, 4.0])
    sunday = notion.views.update(
        weekly["id"],
        configuration={
            "type": "chart",
            "chart_type": "line",
            "x_axis": {
                "type": "date",
                "property_id": ids["Done on"],
                "group_by": "week",
                "start_day_of_week": 0,
                "sort": {"type": "ascending"},
            },
            "y_axis": {"aggregator": "count"},
        },
    )
    series = sandbox.control.chart(sunday["id"])
    assert (series["labels"], series["values"]) == (
        ["2026-11-01", "2026-11-08"],
        [1.0, 3.0],
    )


def test_the_refusal_switch_refuses_charts_and_dashboards_only(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.refuse_charts(message="Charts are not on your plan.")
    body = chart(sandbox_db, {"chart_type": "number", "value": {"aggregator": "count"}})
    assert message_of(notion, body) == "Charts are not on your plan."
    dashboard = {**body, "type": "dashboard"}
    del dashboard["configuration"]
    assert message_of(notion, dashboard) == "Charts are not on your plan."
    table = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        database_id=sandbox_db.database_id,
        name="Still fine",
        type="table",
    )
    assert table["type"] == "table"
    sandbox.control.refuse_charts(False)
    assert notion.views.create(**body)["type"] == "chart"
