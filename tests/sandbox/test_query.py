"""Data source queries: filters, sorts, pagination, filter_properties."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.helpers import collect_paginated_api

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import (
    SandboxDatabase,
    create_checklist_database,
    make_notion_client,
    plain,
    text,
)

ROWS: list[dict[str, Any]] = [
    {
        "key": "py.basics",
        "title": "Python basics",
        "done": True,
        "status": "Done",
        "hours": 10,
        "date": "2026-01-05",
        "url": "https://a.example",
    },
    {
        "key": "py.pandas",
        "title": "Learn Pandas",
        "done": True,
        "status": "Doing",
        "hours": 4.5,
        "date": "2026-02-01T09:30:00Z",
        "url": None,
    },
    {
        "key": "stats.prob",
        "title": "Probability",
        "done": False,
        "status": "Todo",
        "hours": 0,
        "date": None,
        "url": None,
    },
    {
        "key": "ml.linreg",
        "title": "Linear regression",
        "done": False,
        "status": None,
        "hours": None,
        "date": "2026-03-10",
        "url": None,
    },
    {
        "key": "ml.trees",
        "title": "Decision trees",
        "done": False,
        "status": "Doing",
        "hours": 7,
        "date": None,
        "url": "https://b.example",
    },
]


def row_properties(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": {"title": text(row["title"])},
        "Key": {"rich_text": text(row["key"])},
        "Done": {"checkbox": row["done"]},
        "Status": {"select": {"name": row["status"]} if row["status"] else None},
        "Hours": {"number": row["hours"]},
        "Done on": {"date": {"start": row["date"]} if row["date"] else None},
        "Evidence": {"url": row["url"]},
    }


def create_rows(notion: Client, db: SandboxDatabase) -> dict[str, str]:
    """The ROWS, created in order; returns key -> page id."""
    ids = {}
    for row in ROWS:
        page = notion.pages.create(
            parent={"data_source_id": db.data_source_id}, properties=row_properties(row)
        )
        ids[row["key"]] = page["id"]
    return ids


@pytest.fixture
def rows(notion: Client, sandbox_db: SandboxDatabase) -> dict[str, str]:
    return create_rows(notion, sandbox_db)


@dataclass(frozen=True)
class ReadOnlyWorld:
    notion: Client
    db: SandboxDatabase
    rows: dict[str, str]


@pytest.fixture(scope="module")
def read_only() -> Iterator[ReadOnlyWorld]:
    """One sandbox with the ROWS for the tests that only read (many parametrized filters)."""
    with SandboxServer(rate_limit=None) as server:
        notion = make_notion_client(server)
        db = create_checklist_database(notion, server.root_page_id)
        yield ReadOnlyWorld(notion, db, create_rows(notion, db))
        notion.close()


def keys(notion: Client, db: SandboxDatabase, **query: Any) -> list[str]:
    result = notion.data_sources.query(db.data_source_id, **query)
    return [plain(page["properties"]["Key"]) for page in result["results"]]


def test_default_order_is_newest_first(read_only: ReadOnlyWorld) -> None:
    assert keys(read_only.notion, read_only.db) == [row["key"] for row in reversed(ROWS)]


@pytest.mark.parametrize(
    ("query_filter", "expected"),
    [
        ({"property": "Key", "rich_text": {"equals": "py.pandas"}}, {"py.pandas"}),
        ({"property": "Key", "rich_text": {"equals": "PY.PANDAS"}}, set()),
        (
            {"property": "Key", "rich_text": {"does_not_equal": "py.pandas"}},
            {"py.basics", "stats.prob", "ml.linreg", "ml.trees"},
        ),
        ({"property": "Key", "rich_text": {"starts_with": "ML."}}, {"ml.linreg", "ml.trees"}),
        (
            {"property": "Key", "rich_text": {"ends_with": "s"}},
            {"py.basics", "py.pandas", "ml.trees"},
        ),
        ({"property": "Name", "title": {"contains": "PANDAS"}}, {"py.pandas"}),
        ({"property": "Name", "rich_text": {"does_not_contain": "O"}}, {"py.pandas"}),
        ({"property": "Notes", "rich_text": {"is_empty": True}}, {r["key"] for r in ROWS}),
        ({"property": "Evidence", "url": {"is_not_empty": True}}, {"py.basics", "ml.trees"}),
        ({"property": "Done", "checkbox": {"equals": True}}, {"py.basics", "py.pandas"}),
        (
            {"property": "Done", "checkbox": {"does_not_equal": True}},
            {"stats.prob", "ml.linreg", "ml.trees"},
        ),
        ({"property": "Status", "select": {"equals": "Doing"}}, {"py.pandas", "ml.trees"}),
        (
            {"property": "Status", "select": {"does_not_equal": "Doing"}},
            {"py.basics", "stats.prob", "ml.linreg"},
        ),
        ({"property": "Status", "select": {"is_empty": True}}, {"ml.linreg"}),
        (
            {"property": "Status", "select": {"is_not_empty": True}},
            {"py.basics", "py.pandas", "stats.prob", "ml.trees"},
        ),
        ({"property": "Hours", "number": {"equals": 0}}, {"stats.prob"}),
        ({"property": "Hours", "number": {"greater_than": 4.5}}, {"py.basics", "ml.trees"}),
        (
            {"property": "Hours", "number": {"less_than_or_equal_to": 4.5}},
            {"py.pandas", "stats.prob"},
        ),
        ({"property": "Hours", "number": {"is_empty": True}}, {"ml.linreg"}),
        # Recorded: does_not_equal keeps the rows without a number.
        (
            {"property": "Hours", "number": {"does_not_equal": 10}},
            {"py.pandas", "stats.prob", "ml.linreg", "ml.trees"},
        ),
        # Recorded: a date-time in a filter is cut to the minute, like a stored one.
        ({"property": "Done on", "date": {"equals": "2026-02-01T09:30:59Z"}}, {"py.pandas"}),
        ({"property": "Done on", "date": {"equals": "2026-02-01"}}, {"py.pandas"}),
        ({"property": "Done on", "date": {"before": "2026-02-01"}}, {"py.basics"}),
        (
            {"property": "Done on", "date": {"on_or_before": "2026-02-01"}},
            {"py.basics", "py.pandas"},
        ),
        ({"property": "Done on", "date": {"after": "2026-02-01T09:30:00Z"}}, {"ml.linreg"}),
        (
            {"property": "Done on", "date": {"on_or_after": "2026-02-01T09:30:00+00:00"}},
            {"py.pandas", "ml.linreg"},
        ),
        ({"property": "Done on", "date": {"is_empty": True}}, {"stats.prob", "ml.trees"}),
        (
            {
                "and": [
                    {"property": "Done", "checkbox": {"equals": False}},
                    {
                        "or": [
                            {"property": "Status", "select": {"equals": "Doing"}},
                            {"property": "Hours", "number": {"is_empty": True}},
                        ]
                    },
                ]
            },
            {"ml.linreg", "ml.trees"},
        ),
        ({"or": []}, set()),
        ({"and": []}, {r["key"] for r in ROWS}),
    ],
)
def test_filters(
    read_only: ReadOnlyWorld, query_filter: dict[str, Any], expected: set[str]
) -> None:
    assert set(keys(read_only.notion, read_only.db, filter=query_filter)) == expected


@pytest.mark.parametrize(
    ("query_filter", "message"),
    [
        (
            {"property": "Nope", "checkbox": {"equals": True}},
            "Could not find property with name or id: Nope",
        ),
        (
            {"property": "Done", "rich_text": {"equals": "x"}},
            "database property checkbox does not match filter rich_text",
        ),
        ({"property": "Done", "checkbox": {"equals": "yes"}}, "should be a boolean"),
        (
            {"property": "Key", "rich_text": {"equals": "a", "contains": "b"}},
            "exactly one condition",
        ),
        ({"property": "Key", "rich_text": {"matches": "a"}}, "a text filter condition"),
        ({"timestamp": "edited", "edited": {"after": "2026-01-01"}}, "created_time"),
        ({"something": 1}, "a property, timestamp or compound filter"),
    ],
)
def test_bad_filters_are_400(
    read_only: ReadOnlyWorld, query_filter: dict[str, Any], message: str
) -> None:
    with pytest.raises(APIResponseError) as caught:
        read_only.notion.data_sources.query(read_only.db.data_source_id, filter=query_filter)
    assert caught.value.code == APIErrorCode.ValidationError
    assert message in str(caught.value)


def test_timestamp_filters(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase, rows: dict[str, str]
) -> None:
    sandbox.control.advance_clock(600)
    ticked = sandbox.control.tick(rows["stats.prob"])
    edited_at = ticked["last_edited_time"]
    recent = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": edited_at}}
    assert keys(notion, sandbox_db, filter=recent) == ["stats.prob"]
    after = {"timestamp": "last_edited_time", "last_edited_time": {"after": edited_at}}
    assert keys(notion, sandbox_db, filter=after) == []
    before = {"timestamp": "last_edited_time", "last_edited_time": {"before": edited_at}}
    assert set(keys(notion, sandbox_db, filter=before)) == set(rows) - {"stats.prob"}
    created = {"timestamp": "created_time", "created_time": {"on_or_before": edited_at}}
    assert set(keys(notion, sandbox_db, filter=created)) == set(rows)
    created_after = {"timestamp": "created_time", "created_time": {"after": edited_at}}
    assert keys(notion, sandbox_db, filter=created_after) == []


def test_sorts(read_only: ReadOnlyWorld) -> None:
    notion, sandbox_db, rows = read_only.notion, read_only.db, read_only.rows
    by_key = keys(notion, sandbox_db, sorts=[{"property": "Key", "direction": "ascending"}])
    assert by_key == sorted(rows)
    by_hours = keys(notion, sandbox_db, sorts=[{"property": "Hours", "direction": "descending"}])
    assert by_hours == ["py.basics", "ml.trees", "py.pandas", "stats.prob", "ml.linreg"]
    by_status = keys(
        notion,
        sandbox_db,
        sorts=[
            {"property": "Status", "direction": "ascending"},
            {"property": "Key", "direction": "descending"},
        ],
    )
    assert by_status == ["stats.prob", "py.pandas", "ml.trees", "py.basics", "ml.linreg"]
    by_date = keys(notion, sandbox_db, sorts=[{"property": "Done on", "direction": "descending"}])
    assert by_date[:3] == ["ml.linreg", "py.pandas", "py.basics"]
    oldest_first = keys(
        notion, sandbox_db, sorts=[{"timestamp": "created_time", "direction": "ascending"}]
    )
    assert set(oldest_first) == set(rows)
    with pytest.raises(
        APIResponseError, match="Could not find sort property with name or id: Nope"
    ):
        notion.data_sources.query(sandbox_db.data_source_id, sorts=[{"property": "Nope"}])


def test_trashed_pages_are_not_returned(
    notion: Client, sandbox_db: SandboxDatabase, rows: dict[str, str]
) -> None:
    notion.pages.update(rows["py.basics"], in_trash=True)
    assert "py.basics" not in keys(notion, sandbox_db)
    assert len(keys(notion, sandbox_db)) == len(rows) - 1


def test_filter_properties_limits_returned_properties(read_only: ReadOnlyWorld) -> None:
    ids = read_only.db.property_ids
    result = read_only.notion.data_sources.query(
        read_only.db.data_source_id, filter_properties=[ids["Key"], ids["Done"]]
    )
    assert all(set(page["properties"]) == {"Key", "Done"} for page in result["results"])


def test_pagination_over_three_pages(notion: Client, sandbox_db: SandboxDatabase) -> None:
    for number in range(250):
        notion.pages.create(
            parent={"data_source_id": sandbox_db.data_source_id},
            properties={"Name": {"title": text(f"Item {number}")}},
        )
    first = notion.data_sources.query(sandbox_db.data_source_id, page_size=100)
    assert len(first["results"]) == 100 and first["has_more"] is True
    assert first["next_cursor"].startswith("s:")
    second = notion.data_sources.query(
        sandbox_db.data_source_id, page_size=100, start_cursor=first["next_cursor"]
    )
    assert len(second["results"]) == 100 and second["has_more"] is True
    third = notion.data_sources.query(sandbox_db.data_source_id, start_cursor=second["next_cursor"])
    assert len(third["results"]) == 50
    assert third["has_more"] is False and third["next_cursor"] is None
    titles = [plain(p["properties"]["Name"]) for r in (first, second, third) for p in r["results"]]
    assert titles == [f"Item {n}" for n in reversed(range(250))]
    everything = collect_paginated_api(
        notion.data_sources.query, data_source_id=sandbox_db.data_source_id
    )
    assert len({page["id"] for page in everything}) == 250


def test_filtered_pages_in_default_order_skip_trashed_and_unmatched_rows(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    ids = [
        notion.pages.create(
            parent={"data_source_id": sandbox_db.data_source_id},
            properties={"Name": {"title": text(f"Item {number}")}},
        )["id"]
        for number in range(230)
    ]
    for page_id in ids[::7]:
        notion.pages.update(page_id, in_trash=True)
    body = {"filter": {"property": "Name", "title": {"contains": "1"}}, "page_size": 30}
    default_order = collect_paginated_api(
        notion.data_sources.query, data_source_id=sandbox_db.data_source_id, **body
    )
    # created_time ties (one minute) keep the newest-first order, so an explicit sort agrees.
    sorted_order = collect_paginated_api(
        notion.data_sources.query,
        data_source_id=sandbox_db.data_source_id,
        sorts=[{"timestamp": "created_time", "direction": "descending"}],
        **body,
    )
    expected = [
        page_id
        for number, page_id in reversed(list(enumerate(ids)))
        if "1" in str(number) and number % 7
    ]
    assert [page["id"] for page in default_order] == expected
    assert [page["id"] for page in sorted_order] == expected


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (101, "body failed validation: body.page_size should be ≤ `100`, instead was `101`."),
        (0, "body.page_size should be ≥ `1`"),
        ("ten", "body.page_size should be a number"),
    ],
)
def test_bad_page_size_is_400(
    notion: Client, sandbox_db: SandboxDatabase, size: Any, message: str
) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.data_sources.query(sandbox_db.data_source_id, page_size=size)
    assert caught.value.code == APIErrorCode.ValidationError
    assert message in str(caught.value)


def test_bad_cursor_is_400(
    notion: Client, sandbox_db: SandboxDatabase, rows: dict[str, str]
) -> None:
    with pytest.raises(APIResponseError, match="start_cursor"):
        notion.data_sources.query(sandbox_db.data_source_id, start_cursor="garbage")
    first = notion.data_sources.query(sandbox_db.data_source_id, page_size=2)
    next_id = first["next_cursor"].rsplit(":", 1)[1]
    notion.pages.update(next_id, in_trash=True)
    with pytest.raises(APIResponseError, match="start_cursor"):
        notion.data_sources.query(sandbox_db.data_source_id, start_cursor=first["next_cursor"])


def test_query_on_unknown_or_unshared_data_source_is_404(notion: Client) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.data_sources.query("00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404
    assert "Could not find data source with ID" in str(caught.value)


def test_relative_date_filters_count_whole_days_from_today(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    # As recorded against Notion with today = 2026-06-27 (a Saturday): both ends included, a
    # month and a year are calendar ones, this_week is the week of today.
    offset_days = {"today": 0, "-7": -7, "-8": -8, "-1m": -31, "-1y": -365, "+7": 7, "+1m": 30}
    offset_days |= {"+1m+1": 31, "+1y": 365}
    today = date(2026, 6, 27)
    now = datetime.fromisoformat(sandbox.control.advance_clock(0).replace("Z", "+00:00"))
    noon = datetime(2026, 6, 27, 12, tzinfo=timezone.utc)
    sandbox.control.advance_clock((noon - now).total_seconds())
    for key, days in offset_days.items():
        day = today + timedelta(days=days)
        start = f"{day.isoformat()}T06:57:51.46"
        notion.pages.create(
            parent={"data_source_id": sandbox_db.data_source_id},
            properties={
                "Key": {"rich_text": text(key)},
                "Done on": {"date": {"start": start, "time_zone": "Europe/London"}},
            },
        )
    expected = {
        "this_week": {"today"},
        "past_week": {"today", "-7"},
        "past_month": {"today", "-7", "-8", "-1m"},  # back to 2026-05-27
        "past_year": {"today", "-7", "-8", "-1m", "-1y"},
        "next_week": {"today", "+7"},
        "next_month": {"today", "+7", "+1m"},  # up to 2026-07-27
        "next_year": {"today", "+7", "+1m", "+1m+1", "+1y"},
    }
    for condition, wanted in expected.items():
        found = keys(notion, sandbox_db, filter={"property": "Done on", "date": {condition: {}}})
        assert set(found) == wanted, condition
