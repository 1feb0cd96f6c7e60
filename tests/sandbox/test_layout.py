"""A page's layout as a learner makes it in the Notion app: a database in a column, a linked
database, a database deleted forever; and child_database blocks shaped as Notion records them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from notion_client import APIResponseError, Client

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import SandboxDatabase

CASSETTE = (
    Path(__file__).resolve().parents[1]
    / "data/notion/cassettes/ultimate-notion/test_database/test_schema.yaml"
)


def recorded_child_database_block() -> dict[str, Any]:
    """The child_database block Notion answered in the recording (DELETE /v1/blocks/{id})."""
    data = yaml.safe_load(CASSETTE.read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        content = interaction["response"].get("content") or ""
        if '"type":"child_database"' in content:
            block = cast(dict[str, Any], json.loads(content))
            block.pop("request_id", None)
            return block
    raise AssertionError("no child_database block in the cassette")


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (values differ between recordings and the sandbox)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


def children(notion: Client, block_id: str) -> list[dict[str, Any]]:
    answer = cast(dict[str, Any], notion.blocks.children.list(block_id))
    return cast(list[dict[str, Any]], answer["results"])


def test_a_child_database_block_is_shaped_as_recorded(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    [block] = [b for b in children(notion, sandbox.root_page_id) if b["type"] == "child_database"]
    recorded = recorded_child_database_block()
    assert shape(block) == shape(recorded)
    assert block["id"] == sandbox_db.database_id and block["has_children"] is False


def test_a_database_moved_into_a_column(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    column_list = sandbox.control.move_into_columns(sandbox_db.database_id)
    top = children(notion, sandbox.root_page_id)
    assert [b["type"] for b in top] == ["column_list"] and top[0]["has_children"] is True
    assert top[0]["id"] == column_list["id"]
    columns = children(notion, column_list["id"])
    assert [c["type"] for c in columns] == ["column", "column"]
    first, second = (children(notion, c["id"]) for c in columns)
    assert [(b["type"], b["id"]) for b in first] == [("child_database", sandbox_db.database_id)]
    assert [b["type"] for b in second] == ["paragraph"]
    database = cast(dict[str, Any], notion.databases.retrieve(sandbox_db.database_id))
    assert database["parent"] == {"type": "block_id", "block_id": columns[0]["id"]}


def test_a_linked_database_is_listed_but_cannot_be_retrieved(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    linked = sandbox.control.add_linked_database(sandbox.root_page_id, sandbox_db.database_id)
    blocks = [b for b in children(notion, sandbox.root_page_id) if b["type"] == "child_database"]
    assert [b["id"] for b in blocks] == [sandbox_db.database_id, linked]
    with pytest.raises(APIResponseError) as refused:
        notion.databases.retrieve(linked)
    assert refused.value.status == 400 and "is a linked database" in str(refused.value)


def test_a_database_deleted_forever_answers_404(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.purge_database(sandbox_db.database_id)
    for call in (
        lambda: notion.databases.retrieve(sandbox_db.database_id),
        lambda: notion.data_sources.retrieve(sandbox_db.data_source_id),
    ):
        with pytest.raises(APIResponseError) as gone:
            call()
        assert gone.value.status == 404
    assert [
        b for b in children(notion, sandbox.root_page_id) if b["type"] == "child_database"
    ] == []
