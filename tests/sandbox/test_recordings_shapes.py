"""The sandbox's objects against REAL Notion responses (Notion-Version 2025-09-03).

For each kind of object (page, database, data source, list, error, view, page_markdown, user,
block) the sandbox must give the same top-level keys with the same JSON types as the recordings,
plus the same nested shapes where they matter (parents, property values, schema entries, rich
text, select options, block payloads, timestamp formats).

The recordings are vendored in `tests/data/notion/recordings/` (with their licences and a README
saying where each came from), so the test runs on a fresh clone; the blocks of page layouts are
compared with those in the answers of the vendored cassettes (`tests/data/notion/cassettes/`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from notion_client import APIResponseError, Client

from sync.sandbox import SandboxServer
from tests.sandbox.replay import load_cassette
from tests.sandbox_fixtures import SandboxDatabase, make_notion_client, raw_http, text

JSONObject = dict[str, Any]
MINUTE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$")
MS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "notion" / "recordings"
CASSETTES = RECORDINGS.parent / "cassettes"


@pytest.fixture(scope="module")
def recorded() -> dict[str, JSONObject]:
    """Response bodies of the recordings, by file stem."""
    bodies: dict[str, JSONObject] = {}
    for path in sorted(RECORDINGS.glob("*.json")):
        pair = json.loads(path.read_text(encoding="utf-8"))
        bodies[path.stem] = pair["response"]["body"]
    assert len(bodies) >= 39, f"the vendored recordings are missing from {RECORDINGS}"
    return bodies


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape(obj: JSONObject, typed_key: bool) -> dict[str, str]:
    """key -> JSON type, without request_id; the key named by `type` becomes `<type>`."""
    result = {}
    for key, value in obj.items():
        if key == "request_id":
            continue
        name = "<type>" if typed_key and key == obj.get("type") else key
        result[name] = json_type(value)
    return result


def assert_same_shape(
    kind: str, real: Iterable[JSONObject], ours: Iterable[JSONObject], typed_key: bool = False
) -> None:
    real_shapes = [shape(o, typed_key) for o in real]
    ours_shapes = [shape(o, typed_key) for o in ours]
    assert real_shapes and ours_shapes, kind
    required = set.intersection(*(set(s) for s in real_shapes))
    allowed = set.union(*(set(s) for s in real_shapes))
    types: dict[str, set[str]] = {}
    for s in real_shapes:
        for key, kind_of in s.items():
            types.setdefault(key, set()).add(kind_of)
    for s in ours_shapes:
        assert required <= set(s), f"{kind}: missing {sorted(required - set(s))}"
        assert set(s) <= allowed, f"{kind}: extra {sorted(set(s) - allowed)}"
        for key, kind_of in s.items():
            assert kind_of in types[key], f"{kind}.{key}: {kind_of}, recorded {sorted(types[key])}"


def results(bodies: Iterable[JSONObject], object_kind: str) -> list[JSONObject]:
    return [
        item
        for body in bodies
        for item in body.get("results", [])
        if item.get("object") == object_kind
    ]


def top_level(recorded: dict[str, JSONObject], object_kind: str) -> list[JSONObject]:
    return [body for body in recorded.values() if body.get("object") == object_kind]


@pytest.fixture
def world(notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase) -> JSONObject:
    """One of every sandbox object, created through the official SDK."""
    ds = sandbox_db.data_source_id
    notion.data_sources.update(
        ds,
        properties={
            "Mail": {"email": {}},
            "Phone": {"phone_number": {}},
            "Tags": {"multi_select": {}},
        },
    )
    row = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": ds},
        properties={
            "Name": {"title": text("Learn pandas")},
            "Key": {"rich_text": text("py.pandas")},
            "Done": {"checkbox": True},
            "Status": {"select": {"name": "Doing"}},
            "Hours": {"number": 3},
            "Done on": {"date": {"start": "2024-01-08T12:00:00Z", "time_zone": "UTC"}},
            "Evidence": {"url": "https://example.com"},
            "Mail": {"email": "me@example.com"},
            "Phone": {"phone_number": "+1 234"},
            "Tags": {"multi_select": [{"name": "a"}]},
        },
    )
    empty_row = notion.pages.create(parent={"data_source_id": ds}, properties={})
    plain_page = notion.pages.create(
        parent={"page_id": sandbox.root_page_id}, properties={"title": text("Notes")}
    )
    trashed = notion.pages.update(empty_row["id"], archived=True)
    appended = notion.blocks.children.append(
        plain_page["id"],
        children=[
            {"heading_1": {"rich_text": text("H")}},
            {"heading_2": {"rich_text": text("H")}},
            {"heading_3": {"rich_text": text("H")}},
            {"paragraph": {"rich_text": text("P")}},
            {"bulleted_list_item": {"rich_text": text("B")}},
            {"numbered_list_item": {"rich_text": text("N")}},
            {"to_do": {"rich_text": text("T"), "checked": True}},
            {"toggle": {"rich_text": text("T")}},
            {"quote": {"rich_text": text("Q")}},
            {"callout": {"rich_text": text("C"), "icon": {"type": "emoji", "emoji": "🚀"}}},
            {"divider": {}},
            {"code": {"rich_text": text("x"), "language": "sql"}},
            {"bookmark": {"url": "https://example.com"}},
            {"equation": {"expression": "x"}},
            {"table_of_contents": {}},
            {"breadcrumb": {}},
        ],
    )
    view = notion.views.create(
        data_source_id=ds, database_id=sandbox_db.database_id, name="V", type="table"
    )
    return {
        "row": row,
        "retrieved_row": notion.pages.retrieve(row["id"]),
        "plain_page": plain_page,
        "trashed": trashed,
        "query": notion.data_sources.query(ds),
        "search_pages": notion.search(filter={"property": "object", "value": "page"}),
        "search_sources": notion.search(filter={"property": "object", "value": "data_source"}),
        "database_created": notion.databases.create(
            parent={"type": "page_id", "page_id": sandbox.root_page_id}, title=text("Minimal")
        ),
        "database": notion.databases.retrieve(sandbox_db.database_id),
        "data_source": notion.data_sources.retrieve(ds),
        "data_source_updated": notion.data_sources.update(
            ds, properties={"Extra": {"rich_text": {}}}
        ),
        "appended": appended,
        "children": notion.blocks.children.list(plain_page["id"], page_size=3),
        "root_children": notion.blocks.children.list(sandbox.root_page_id),
        "deleted_page_block": notion.blocks.delete(
            notion.pages.create(parent={"page_id": sandbox.root_page_id}, properties={})["id"]
        ),
        "view": view,
        "view_retrieved": notion.views.retrieve(view["id"]),
        "views": notion.views.list(database_id=sandbox_db.database_id),
        "markdown": notion.pages.retrieve_markdown(plain_page["id"]),
        "markdown_updated": notion.pages.update_markdown(
            plain_page["id"], type="insert_content", insert_content={"content": "## New\n\nText"}
        ),
        "me": notion.users.me(),
        "users": notion.users.list(),
    }


def test_pages(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = top_level(recorded, "page") + results(recorded.values(), "page")
    ours = [world["row"], world["retrieved_row"], world["plain_page"], world["trashed"]]
    ours += results([world["query"], world["search_pages"]], "page")
    assert_same_shape("page", real, ours)
    real_parents = {frozenset(p["parent"]) for p in real}
    for page in ours:
        assert frozenset(page["parent"]) in real_parents, page["parent"]
        assert set(page["created_by"]) == {"id", "object"} == set(page["last_edited_by"])
        assert MINUTE_TIME.match(page["created_time"]) and MINUTE_TIME.match(
            page["last_edited_time"]
        )
        assert UUID.match(page["id"])
    for real_page in real:
        assert MINUTE_TIME.match(real_page["created_time"])


def test_page_property_values(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real_pages = top_level(recorded, "page") + results(recorded.values(), "page")
    real_values: dict[str, list[JSONObject]] = {}
    for page in real_pages:
        for value in page["properties"].values():
            real_values.setdefault(value["type"], []).append(value)
    ours = list(world["row"]["properties"].values()) + list(world["trashed"]["properties"].values())
    compared = set()
    for value in ours:
        kind = value["type"]
        assert kind in real_values, f"no recording has a {kind} value"
        if value[kind] is None and all(v[kind] is not None for v in real_values[kind]):
            # No recording shows this type empty (Notion documents null): compare keys only.
            assert set(value) == set(real_values[kind][0]), kind
            continue
        assert_same_shape(f"{kind} value", real_values[kind], [value], typed_key=True)
        compared.add(kind)
        inner = value[kind]
        real_inner = [v[kind] for v in real_values[kind] if v[kind] not in (None, [])]
        if isinstance(inner, dict) and real_inner:
            assert_same_shape(f"{kind} value payload", real_inner, [inner])
        if isinstance(inner, list) and inner and real_inner:
            assert_same_shape(f"{kind} items", [i for items in real_inner for i in items], inner)
    assert compared >= {
        "title",
        "rich_text",
        "checkbox",
        "select",
        "multi_select",
        "number",
        "date",
        "url",
        "email",
        "phone_number",
    }


def test_databases(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = top_level(recorded, "database")
    ours = [world["database"], world["database_created"]]
    assert_same_shape("database", real, ours)
    real_sources = [s for body in real for s in body["data_sources"]]
    assert_same_shape(
        "database.data_sources[]", real_sources, [s for d in ours for s in d["data_sources"]]
    )
    for database in real + ours:
        assert MS_TIME.match(database["created_time"]) and "properties" not in database


def test_data_sources(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = top_level(recorded, "data_source") + results(recorded.values(), "data_source")
    ours = [
        world["data_source"],
        world["data_source_updated"],
        *results([world["search_sources"]], "data_source"),
    ]
    assert_same_shape("data_source", real, ours)
    real_entries = [p for source in real for p in source["properties"].values()]
    our_entries = [p for source in ours for p in source["properties"].values()]
    assert_same_shape("schema entry", real_entries, our_entries, typed_key=True)
    real_options = [
        o for p in real_entries if p["type"] == "select" for o in p["select"]["options"]
    ]
    our_options = [o for p in our_entries if p["type"] == "select" for o in p["select"]["options"]]
    assert_same_shape("select option", real_options, our_options)
    for source in real + ours:
        assert MINUTE_TIME.match(source["created_time"])
        assert set(source["parent"]) == {"type", "database_id"}


def test_rich_text_items(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real_pages = top_level(recorded, "page") + results(recorded.values(), "page")
    real_items = [
        item for p in real_pages for item in p["properties"].get("Name", {}).get("title", [])
    ]
    ours = (
        world["row"]["properties"]["Name"]["title"] + world["row"]["properties"]["Key"]["rich_text"]
    )
    assert_same_shape("rich text item", real_items, ours)
    assert_same_shape("text", [i["text"] for i in real_items], [i["text"] for i in ours])
    assert_same_shape(
        "annotations", [i["annotations"] for i in real_items], [i["annotations"] for i in ours]
    )


def test_lists(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = top_level(recorded, "list")
    keys = ("query", "search_pages", "search_sources", "appended", "children", "views", "users")
    ours = [world[key] for key in keys]
    assert_same_shape("list", real, ours, typed_key=True)
    for body in real + ours:
        assert isinstance(body["request_id"], str)
        assert all("request_id" not in item for item in body["results"])
    assert (
        isinstance(world["children"]["next_cursor"], str) and world["children"]["has_more"] is True
    )


def test_errors(recorded: dict[str, JSONObject], sandbox: SandboxServer, notion: Client) -> None:
    bad_token = make_notion_client(sandbox, token="ntn_wrong")
    calls = {
        "errors_404_object_not_found": lambda: notion.pages.retrieve(
            "00000000-0000-0000-0000-000000000000"
        ),
        "errors_400_validation_error": lambda: notion.pages.retrieve(
            "12345678-1234-1234-1234-123456789abc"
        ),
        "errors_401_unauthorized": lambda: bad_token.users.list(),
        "errors_400_invalid_request_url": lambda: notion.request(path="invalid", method="GET"),
    }
    for name, call in calls.items():
        with pytest.raises(APIResponseError) as caught:
            call()
        ours = json.loads(caught.value.body)
        real = recorded[name]
        assert set(ours) == set(real), name
        assert {k: json_type(v) for k, v in ours.items()} == {
            k: json_type(v) for k, v in real.items()
        }
        assert (ours["status"], ours["code"]) == (real["status"], real["code"])
        if name != "errors_404_object_not_found":
            assert ours["message"] == real["message"]
        else:
            assert set(ours["additional_data"]) == set(real["additional_data"])


def test_views(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = [recorded["views_create"], recorded["views_retrieve"]]
    assert_same_shape("view", real, [world["view"], world["view_retrieved"]])
    assert_same_shape(
        "view reference", recorded["views_list"]["results"], world["views"]["results"]
    )
    for view in [*real, world["view"]]:
        assert MS_TIME.match(view["created_time"])
        assert set(view["parent"]) == {"type", "database_id"}
        assert set(view["configuration"]) == {"type"}


def test_page_markdown(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = [recorded["pages_markdown_retrieve"], recorded["pages_markdown_update"]]
    assert_same_shape("page_markdown", real, [world["markdown"], world["markdown_updated"]])


def test_users(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    assert_same_shape("user", [recorded["users_me"]], [world["me"]], typed_key=True)
    assert set(world["me"]["bot"]) == set(recorded["users_me"]["bot"])
    assert_same_shape(
        "user in list", recorded["users_list"]["results"], world["users"]["results"], typed_key=True
    )
    assert isinstance(world["me"]["request_id"], str)


def test_blocks(recorded: dict[str, JSONObject], world: JSONObject) -> None:
    real = results(recorded.values(), "block") + top_level(recorded, "block")
    # No recording holds a child_database block, so the database under the root is left out.
    children = [b for b in world["root_children"]["results"] if b["type"] != "child_database"]
    ours = world["appended"]["results"] + children + [world["deleted_page_block"]]
    assert_same_shape("block", real, ours, typed_key=True)
    real_payloads: dict[str, set[frozenset[str]]] = {}
    for block in real:
        real_payloads.setdefault(block["type"], set()).add(frozenset(block[block["type"]]))
    for block in ours:
        kind = block["type"]
        assert kind in real_payloads, f"no recording has a {kind} block"
        assert frozenset(block[kind]) in real_payloads[kind], f"{kind}: {sorted(block[kind])}"
        assert MINUTE_TIME.match(block["created_time"])
        assert frozenset(block["parent"]) in {frozenset(b["parent"]) for b in real} | {
            frozenset({"type", "block_id"})
        }


def test_missing_version_body_has_the_error_keys(
    recorded: dict[str, JSONObject], sandbox: SandboxServer
) -> None:
    with raw_http(sandbox, version=False) as http:
        body = http.get("/v1/users/me").json()
    assert set(body) == set(recorded["errors_401_unauthorized"])


@pytest.fixture(scope="module")
def cassette_blocks() -> dict[str, list[JSONObject]]:
    """The blocks in the answers of the vendored cassettes (retrieves, lists, deletes), by type."""
    blocks: dict[str, list[JSONObject]] = {}
    for path in sorted(CASSETTES.rglob("*.yaml")):
        for exchange in load_cassette(path, CASSETTES):
            answer = exchange.answer if isinstance(exchange.answer, dict) else {}
            items = [answer] if answer.get("object") == "block" else answer.get("results", [])
            for block in items:
                if isinstance(block, dict) and block.get("object") == "block":
                    blocks.setdefault(block["type"], []).append(block)
    return blocks


def test_page_layout_blocks_match_recorded_ones(
    notion: Client,
    sandbox: SandboxServer,
    sandbox_db: SandboxDatabase,
    cassette_blocks: dict[str, list[JSONObject]],
) -> None:
    """A database the learner dragged into a column: column_list, column, child_database."""
    sandbox.control.move_into_columns(sandbox_db.database_id)
    ours: list[JSONObject] = []

    def walk(block_id: str) -> None:
        for block in notion.blocks.children.list(block_id)["results"]:
            ours.append(block)
            if block["has_children"] and block["type"] != "child_database":
                walk(block["id"])

    walk(sandbox.root_page_id)
    assert {"column_list", "column", "child_database", "paragraph"} <= {b["type"] for b in ours}
    for block in ours:
        kind = block["type"]
        real = cassette_blocks[kind]
        assert_same_shape(f"{kind} block", real, [block], typed_key=True)
        assert frozenset(block[kind]) in {frozenset(b[kind]) for b in real}, block[kind]
        assert MINUTE_TIME.match(block["created_time"])
