"""Databases and data sources: creation, retrieval, schema changes."""

from __future__ import annotations

import re

import pytest
from notion_client import APIErrorCode, APIResponseError, Client

from sync.sandbox import SandboxServer
from sync.sandbox.richtext import plain_text
from tests.sandbox_fixtures import CHECKLIST_SCHEMA, SandboxDatabase, plain, text

MS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
MINUTE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$")


def test_create_database_returns_a_database_with_its_data_source(
    notion: Client, sandbox: SandboxServer
) -> None:
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": sandbox.root_page_id},
        title=text("DS Progress"),
        icon={"type": "emoji", "emoji": "📊"},
        initial_data_source={"properties": CHECKLIST_SCHEMA},
    )
    assert database["object"] == "database"
    assert "properties" not in database
    assert database["parent"] == {"type": "page_id", "page_id": sandbox.root_page_id}
    assert database["title"][0]["plain_text"] == "DS Progress"
    assert database["icon"] == {"type": "emoji", "emoji": "📊"}
    assert database["in_trash"] is False and database["archived"] is False
    assert MS_TIME.match(database["created_time"])
    assert database["url"] == "https://app.notion.com/p/" + database["id"].replace("-", "")
    (source,) = database["data_sources"]
    assert source["name"] == "DS Progress"
    assert notion.databases.retrieve(database["id"])["data_sources"] == [source]


def test_data_source_holds_the_schema(notion: Client, sandbox_db: SandboxDatabase) -> None:
    source = notion.data_sources.retrieve(sandbox_db.data_source_id)
    assert source["object"] == "data_source"
    assert source["parent"] == {"type": "database_id", "database_id": sandbox_db.database_id}
    assert source["database_parent"]["type"] == "page_id"
    assert MINUTE_TIME.match(source["created_time"])
    properties = source["properties"]
    assert set(properties) == set(CHECKLIST_SCHEMA)
    assert properties["Name"]["id"] == "title"
    for name, prop in properties.items():
        assert set(prop) == {"id", "name", "description", "type", prop["type"]}
        assert prop["name"] == name
        if name != "Name":
            assert re.fullmatch(r"[A-Za-z0-9%_.~-]{4,12}", prop["id"]), prop["id"]
    assert properties["Hours"]["number"] == {"format": "number"}
    status = properties["Status"]["select"]["options"]
    assert [o["name"] for o in status] == ["Todo", "Doing", "Done"]
    assert [o["color"] for o in status] == ["gray", "blue", "green"]
    assert all(set(o) == {"id", "name", "color", "description"} for o in status)
    assert [o["color"] for o in properties["Level"]["select"]["options"]] == ["default", "default"]
    assert len({p["id"] for p in properties.values()}) == len(properties)


def test_minimal_database_gets_a_name_title(notion: Client, sandbox: SandboxServer) -> None:
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": sandbox.root_page_id}, title=text("Minimal")
    )
    source = notion.data_sources.retrieve(database["data_sources"][0]["id"])
    assert source["properties"] == {
        "Name": {"id": "title", "name": "Name", "description": None, "type": "title", "title": {}}
    }


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"A": {"title": {}}, "B": {"title": {}}}, "only have one title property"),
        (
            {"Name": {"title": {}}, "S": {"select": {"options": [{"name": "a,b"}]}}},
            "Invalid select option, commas not allowed: a,b",
        ),
        (
            {"Name": {"title": {}}, "F": {"formula": {"expression": "1"}}},
            "does not support formula",
        ),
        ({"Name": {"title": {}}, "C": {"color": {}}}, "exactly one property type"),
        (
            {"Name": {"title": {}}, "S": {"select": {"options": [{"name": "x", "color": "teal"}]}}},
            "color should be one of",
        ),
    ],
)
def test_bad_schemas_are_400(
    notion: Client, sandbox: SandboxServer, properties: dict[str, object], message: str
) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.databases.create(
            parent={"type": "page_id", "page_id": sandbox.root_page_id},
            title=text("Bad"),
            initial_data_source={"properties": properties},
        )
    assert caught.value.code == APIErrorCode.ValidationError
    assert message in str(caught.value)


def test_update_database_title_icon_and_trash(notion: Client, sandbox_db: SandboxDatabase) -> None:
    updated = notion.databases.update(
        sandbox_db.database_id, title=text("Renamed"), icon={"type": "emoji", "emoji": "🎯"}
    )
    assert updated["title"][0]["plain_text"] == "Renamed"
    assert updated["icon"]["emoji"] == "🎯"
    trashed = notion.databases.update(sandbox_db.database_id, in_trash=True)
    assert trashed["in_trash"] is True and trashed["archived"] is True
    with pytest.raises(APIResponseError, match="archived"):
        notion.databases.update(sandbox_db.database_id, title=text("Again"))
    with pytest.raises(APIResponseError, match="archived"):
        notion.pages.create(parent={"data_source_id": sandbox_db.data_source_id}, properties={})
    restored = notion.databases.update(sandbox_db.database_id, in_trash=False)
    assert restored["in_trash"] is False


def test_add_rename_and_delete_properties(notion: Client, sandbox_db: SandboxDatabase) -> None:
    ds = sandbox_db.data_source_id
    added = notion.data_sources.update(ds, properties={"Comments": {"rich_text": {}}})
    assert added["properties"]["Comments"]["type"] == "rich_text"
    renamed = notion.data_sources.update(ds, properties={"Comments": {"name": "Remarks"}})
    assert "Comments" not in renamed["properties"]
    assert renamed["properties"]["Remarks"]["id"] == added["properties"]["Comments"]["id"]
    by_id = notion.data_sources.update(
        ds, properties={sandbox_db.property_ids["Done"]: {"name": "Ticked"}}
    )
    assert by_id["properties"]["Ticked"]["id"] == sandbox_db.property_ids["Done"]
    deleted = notion.data_sources.update(ds, properties={"Remarks": None})
    assert "Remarks" not in deleted["properties"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Nope": {"name": "X"}}, "Nope is not a property that exists."),
        ({"Nope": None}, "Nope is not a property that exists."),
        ({"Name": None}, "title property cannot be deleted"),
        ({"Key": {"name": "Done"}}, "must be unique"),
        ({"Name": {"rich_text": {}}}, "title property cannot be changed"),
        ({"Other": {"title": {}}}, "only have one title property"),
    ],
)
def test_bad_schema_changes_are_400_and_change_nothing(
    notion: Client, sandbox_db: SandboxDatabase, change: dict[str, object], message: str
) -> None:
    before = notion.data_sources.retrieve(sandbox_db.data_source_id)["properties"]
    with pytest.raises(APIResponseError) as caught:
        notion.data_sources.update(sandbox_db.data_source_id, properties=change)
    assert caught.value.code == APIErrorCode.ValidationError
    assert message in str(caught.value)
    assert notion.data_sources.retrieve(sandbox_db.data_source_id)["properties"] == before


def test_rename_keeps_values(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={"Key": {"rich_text": text("py.pandas")}},
    )
    notion.data_sources.update(
        sandbox_db.data_source_id, properties={"Key": {"name": "Identifier"}}
    )
    value = notion.pages.retrieve(page["id"])["properties"]["Identifier"]
    assert value["id"] == sandbox_db.property_ids["Key"]
    assert plain(value) == "py.pandas"


def test_retype_gives_a_new_property_id_and_converts_values(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    page = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={"Level": {"select": {"name": "Advanced"}}, "Hours": {"number": 12}},
    )
    source = notion.data_sources.update(
        sandbox_db.data_source_id,
        properties={"Level": {"rich_text": {}}, "Hours": {"rich_text": {}}},
    )
    assert source["properties"]["Level"]["type"] == "rich_text"
    assert source["properties"]["Level"]["id"] != sandbox_db.property_ids["Level"]
    values = notion.pages.retrieve(page["id"])["properties"]
    assert plain(values["Level"]) == "Advanced"
    assert plain(values["Hours"]) == "12"
    back = notion.data_sources.update(
        sandbox_db.data_source_id, properties={"Hours": {"number": {}}}
    )
    assert back["properties"]["Hours"]["type"] == "number"
    assert notion.pages.retrieve(page["id"])["properties"]["Hours"]["number"] == 12


def test_replacing_select_options_deletes_the_ones_left_out(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    before = notion.data_sources.retrieve(sandbox_db.data_source_id)["properties"]["Status"]
    todo_id = before["select"]["options"][0]["id"]
    page = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={"Status": {"select": {"name": "Doing"}}},
    )
    after = notion.data_sources.update(
        sandbox_db.data_source_id,
        properties={
            "Status": {"select": {"options": [{"name": "Todo"}, {"name": "Done", "color": "red"}]}}
        },
    )
    options = after["properties"]["Status"]["select"]["options"]
    assert [(o["name"], o["color"]) for o in options] == [("Todo", "gray"), ("Done", "red")]
    assert options[0]["id"] == todo_id
    assert notion.pages.retrieve(page["id"])["properties"]["Status"]["select"] is None


def test_data_source_title_and_trash(notion: Client, sandbox_db: SandboxDatabase) -> None:
    source = notion.data_sources.update(sandbox_db.data_source_id, title=text("Checklist"))
    assert source["title"][0]["plain_text"] == "Checklist"
    database = notion.databases.retrieve(sandbox_db.database_id)
    assert database["data_sources"] == [{"id": sandbox_db.data_source_id, "name": "Checklist"}]
    trashed = notion.data_sources.update(sandbox_db.data_source_id, in_trash=True)
    assert trashed["in_trash"] is True and trashed["archived"] is True
    assert notion.databases.retrieve(sandbox_db.database_id)["data_sources"] == []


def test_second_data_source_and_database_id_parent(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    page = notion.pages.create(parent={"database_id": sandbox_db.database_id}, properties={})
    assert page["parent"] == {
        "type": "data_source_id",
        "data_source_id": sandbox_db.data_source_id,
        "database_id": sandbox_db.database_id,
    }
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": sandbox_db.database_id},
        properties={"Task": {"title": {}}},
        title=text("Second"),
    )
    assert second["parent"]["database_id"] == sandbox_db.database_id
    assert len(notion.databases.retrieve(sandbox_db.database_id)["data_sources"]) == 2
    with pytest.raises(APIResponseError, match="multiple data sources"):
        notion.pages.create(parent={"database_id": sandbox_db.database_id}, properties={})


def test_a_database_without_a_title_is_called_new_database(
    notion: Client, sandbox: SandboxServer
) -> None:
    database = notion.databases.create(parent={"type": "page_id", "page_id": sandbox.root_page_id})
    assert plain_text(database["title"]) == "New database"  # as recorded
    source_id = database["data_sources"][0]["id"]
    assert database["data_sources"][0]["name"] == "New database"
    assert notion.data_sources.retrieve(source_id)["title"] == []


def test_the_database_description_shows_on_its_data_source(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    notion.databases.update(sandbox_db.database_id, description=text("My checklist"))
    source = notion.data_sources.retrieve(sandbox_db.data_source_id)
    assert plain_text(source["description"]) == "My checklist"
    notion.databases.update(sandbox_db.database_id, description=[])
    assert notion.data_sources.retrieve(sandbox_db.data_source_id)["description"] == []


def test_renaming_the_only_data_source_renames_its_database(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    notion.data_sources.update(sandbox_db.data_source_id, title=text("My DB"))
    assert plain_text(notion.databases.retrieve(sandbox_db.database_id)["title"]) == "My DB"
    notion.data_sources.update(sandbox_db.data_source_id, title=[])  # recorded: "New database"
    assert plain_text(notion.databases.retrieve(sandbox_db.database_id)["title"]) == "New database"
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": sandbox_db.database_id},
        title=text("Second"),
    )
    notion.data_sources.update(second["id"], title=text("Renamed"))
    assert plain_text(notion.databases.retrieve(sandbox_db.database_id)["title"]) == "New database"
