"""Views and search."""

from __future__ import annotations

import re

import pytest
from notion_client import APIErrorCode, APIResponseError, Client

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import SandboxDatabase, create_checklist_database, text

MS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
VIEW_KEYS = {
    "object",
    "id",
    "parent",
    "data_source_id",
    "name",
    "type",
    "created_time",
    "created_by",
    "last_edited_time",
    "last_edited_by",
    "url",
    "filter",
    "sorts",
    "quick_filters",
    "configuration",
    "request_id",
}


def test_a_new_database_has_a_default_table_view(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    listed = notion.views.list(database_id=sandbox_db.database_id)
    assert listed["object"] == "list" and listed["type"] == "view" and listed["view"] == {}
    (ref,) = listed["results"]
    assert set(ref) == {"object", "id"}
    view = notion.views.retrieve(ref["id"])
    assert view["type"] == "table" and view["data_source_id"] == sandbox_db.data_source_id


def test_create_and_retrieve_a_table_view(notion: Client, sandbox_db: SandboxDatabase) -> None:
    view = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        database_id=sandbox_db.database_id,
        name="Test View",
        type="table",
    )
    assert set(view) == VIEW_KEYS
    assert view["parent"] == {"type": "database_id", "database_id": sandbox_db.database_id}
    assert view["configuration"] == {"type": "table"}
    assert view["filter"] is None and view["sorts"] is None and view["quick_filters"] is None
    assert MS_TIME.match(view["created_time"])
    database_hex, view_hex = sandbox_db.database_id.replace("-", ""), view["id"].replace("-", "")
    assert view["url"] == f"https://app.notion.com/p/{database_hex}?v={view_hex}"
    retrieved = notion.views.retrieve(view["id"])
    assert {k: v for k, v in retrieved.items() if k != "request_id"} == {
        k: v for k, v in view.items() if k != "request_id"
    }
    ids = [v["id"] for v in notion.views.list(data_source_id=sandbox_db.data_source_id)["results"]]
    assert ids[-1] == view["id"] and len(ids) == 2


def test_delete_a_view(notion: Client, sandbox_db: SandboxDatabase) -> None:
    view = notion.views.create(data_source_id=sandbox_db.data_source_id, name="Gone", type="board")
    deleted = notion.request(path=f"views/{view['id']}", method="DELETE")
    assert {k: v for k, v in deleted.items() if k != "request_id"} == {
        "object": "view",
        "id": view["id"],
        "parent": {"type": "database_id", "database_id": sandbox_db.database_id},
        "type": "board",
    }  # as recorded
    with pytest.raises(APIResponseError) as caught:
        notion.views.retrieve(view["id"])
    assert caught.value.code == APIErrorCode.ObjectNotFound
    ids = [v["id"] for v in notion.views.list(database_id=sandbox_db.database_id)["results"]]
    assert view["id"] not in ids


def test_update_a_view_changes_only_what_is_sent(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    view = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        name="Next up",
        type="table",
        sorts=[{"property": "Hours", "direction": "ascending"}],
    )
    status_filter = {"property": "Status", "select": {"does_not_equal": "Done"}}
    updated = notion.views.update(view["id"], filter=status_filter)
    assert updated["filter"] == status_filter and updated["name"] == "Next up"
    assert updated["sorts"] == view["sorts"] and updated["type"] == "table"
    assert notion.views.retrieve(view["id"])["filter"] == status_filter
    cleared = notion.views.update(view["id"], filter=None, name="Left")
    assert cleared["filter"] is None and cleared["name"] == "Left"
    with pytest.raises(APIResponseError) as bad:
        notion.views.update(view["id"], filter={"property": "Nope", "select": {"equals": "x"}})
    assert bad.value.status == 400
    with pytest.raises(APIResponseError) as missing:
        notion.views.update("00000000-0000-4000-8000-000000000000", name="x")
    assert missing.value.status == 404


def test_board_view_grouped_by_a_select(notion: Client, sandbox_db: SandboxDatabase) -> None:
    status_id = sandbox_db.property_ids["Status"]
    configuration = {"type": "board", "group_by": {"type": "select", "property_id": status_id}}
    view = notion.views.create(
        data_source_id=sandbox_db.data_source_id,
        name="Board",
        type="board",
        configuration=configuration,
        filter={"property": "Done", "checkbox": {"equals": False}},
        sorts=[{"property": "Key", "direction": "ascending"}],
    )
    assert view["configuration"] == configuration
    assert view["filter"] == {"property": "Done", "checkbox": {"equals": False}}
    assert view["sorts"] == [{"property": "Key", "direction": "ascending"}]


def test_bad_views_are_400(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    def create(**body: object) -> None:
        notion.views.create(data_source_id=sandbox_db.data_source_id, name="V", **body)

    with pytest.raises(APIResponseError, match=r"body\.type should be one of"):
        create(type="spreadsheet")
    with pytest.raises(APIResponseError, match="Could not find property with name or id: zzzz"):
        create(type="board", configuration={"type": "board", "group_by": {"property_id": "zzzz"}})
    with pytest.raises(APIResponseError, match="Could not find property with name or id: Nope"):
        create(type="table", filter={"property": "Nope", "checkbox": {"equals": True}})
    other = create_checklist_database(notion, sandbox.root_page_id, "Other")
    with pytest.raises(APIResponseError, match="does not belong"):
        create(type="table", database_id=other.database_id)
    with pytest.raises(APIResponseError) as caught:
        notion.views.list()
    assert caught.value.code == APIErrorCode.ValidationError
    with pytest.raises(APIResponseError) as missing:
        notion.views.retrieve("00000000-0000-4000-8000-000000000000")
    assert missing.value.status == 404


def test_search_pages_and_data_sources(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    notion.pages.create(
        parent={"page_id": sandbox.root_page_id}, properties={"title": text("Weekly notes")}
    )
    pages = notion.search(query="notes", filter={"property": "object", "value": "page"})
    assert pages["type"] == "page_or_data_source" and pages["page_or_data_source"] == {}
    titles = [r["properties"]["title"]["title"][0]["plain_text"] for r in pages["results"]]
    assert titles == ["Weekly notes"]
    sources = notion.search(query="progress", filter={"property": "object", "value": "data_source"})
    assert [r["id"] for r in sources["results"]] == [sandbox_db.data_source_id]
    assert all(r["object"] == "data_source" for r in sources["results"])
    everything = notion.search()
    ids = {r["id"] for r in everything["results"]}
    assert sandbox.root_page_id in ids and sandbox_db.data_source_id in ids
    assert sandbox.unshared_page_id not in ids


def test_search_is_fuzzy_and_skips_trash(notion: Client, sandbox: SandboxServer) -> None:
    first = notion.pages.create(
        parent={"page_id": sandbox.root_page_id}, properties={"title": text("Task DB")}
    )
    second = notion.pages.create(
        parent={"page_id": sandbox.root_page_id}, properties={"title": text("Formula DB")}
    )
    found = {r["id"] for r in notion.search(query="Task DB")["results"]}
    assert {first["id"], second["id"]} <= found
    notion.pages.update(second["id"], in_trash=True)
    assert second["id"] not in {r["id"] for r in notion.search(query="DB")["results"]}


def test_search_pagination_and_sort(notion: Client, sandbox: SandboxServer) -> None:
    for name in ("alpha one", "alpha two", "alpha three"):
        notion.pages.create(
            parent={"page_id": sandbox.root_page_id}, properties={"title": text(name)}
        )
    first = notion.search(
        query="alpha", page_size=2, sort={"direction": "ascending", "timestamp": "last_edited_time"}
    )
    assert len(first["results"]) == 2 and first["has_more"] is True
    rest = notion.search(
        query="alpha",
        page_size=2,
        start_cursor=first["next_cursor"],
        sort={"direction": "ascending", "timestamp": "last_edited_time"},
    )
    titles = [
        r["properties"]["title"]["title"][0]["plain_text"]
        for r in first["results"] + rest["results"]
    ]
    assert titles == ["alpha one", "alpha two", "alpha three"]
    with pytest.raises(APIResponseError, match=r"body\.filter\.value"):
        notion.search(filter={"property": "object", "value": "database"})
