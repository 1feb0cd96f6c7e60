"""The control endpoint: the learner in the Notion app, the request log, clock and reset."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from notion_client import APIResponseError, Client

from sync.sandbox import SandboxControlError, SandboxServer
from sync.sandbox.control_api import is_loopback
from tests.sandbox_fixtures import SandboxDatabase, plain, text


@pytest.fixture
def row(notion: Client, sandbox_db: SandboxDatabase) -> str:
    page = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={
            "Name": {"title": text("Learn pandas")},
            "Key": {"rich_text": text("py.pandas")},
        },
    )
    return str(page["id"])


def test_tick_and_untick_as_a_person(notion: Client, sandbox: SandboxServer, row: str) -> None:
    learner_id = sandbox.control.health()["learner_id"]
    ticked = sandbox.control.tick(row)
    assert ticked["properties"]["Done"]["checkbox"] is True
    page = notion.pages.retrieve(row)
    assert page["properties"]["Done"]["checkbox"] is True
    assert page["last_edited_by"] == {"object": "user", "id": learner_id}
    assert page["created_by"]["id"] == notion.users.me()["id"]
    sandbox.control.tick(row, done=False)
    assert notion.pages.retrieve(row)["properties"]["Done"]["checkbox"] is False


def test_learner_edits_every_kind_of_value(
    notion: Client, sandbox: SandboxServer, row: str
) -> None:
    control = sandbox.control
    control.set_select(row, "Status", "Stuck")
    control.set_text(row, "Notes", "hard chapter")
    control.set_url(row, "Evidence", "https://github.com/me/nb")
    control.set_date(row, "Done on", "2026-03-01")
    control.set_number(row, "Hours", 6)
    control.set_title(row, "Learn pandas well")
    values = notion.pages.retrieve(row)["properties"]
    assert values["Status"]["select"]["name"] == "Stuck"
    assert plain(values["Notes"]) == "hard chapter"
    assert values["Evidence"]["url"] == "https://github.com/me/nb"
    assert values["Done on"]["date"] == {"start": "2026-03-01", "end": None, "time_zone": None}
    assert values["Hours"]["number"] == 6
    assert plain(values["Name"]) == "Learn pandas well"
    control.set_select(row, "Status", None)
    assert notion.pages.retrieve(row)["properties"]["Status"]["select"] is None
    control.set_property(row, "Done", {"checkbox": True})
    assert notion.pages.retrieve(row)["properties"]["Done"]["checkbox"] is True


def test_learner_writes_are_validated(sandbox: SandboxServer, row: str) -> None:
    with pytest.raises(SandboxControlError) as caught:
        sandbox.control.set_select(row, "Status", "a,b")
    assert caught.value.status == 400
    assert caught.value.body["code"] == "validation_error"
    with pytest.raises(SandboxControlError) as missing:
        sandbox.control.tick("00000000-0000-4000-8000-000000000000")
    assert missing.value.status == 404


def test_learner_adds_a_row_without_our_key(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    page_id = sandbox.control.add_row(
        sandbox_db.data_source_id, "My own item", {"Done": {"checkbox": True}}
    )
    found = notion.data_sources.query(
        sandbox_db.data_source_id, filter={"property": "Key", "rich_text": {"is_empty": True}}
    )["results"]
    assert [p["id"] for p in found] == [page_id]
    assert found[0]["created_by"]["id"] == sandbox.control.health()["learner_id"]
    assert found[0]["properties"]["Done"]["checkbox"] is True


def test_trash_restore_and_all_pages(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase, row: str
) -> None:
    other = sandbox.control.add_row(sandbox_db.data_source_id, "Second")
    sandbox.control.trash(row)
    assert notion.pages.retrieve(row)["in_trash"] is True
    assert [p["id"] for p in sandbox.control.pages(sandbox_db.data_source_id)] == [other]
    everything = sandbox.control.pages(sandbox_db.data_source_id, include_trashed=True)
    assert [(p["id"], p["in_trash"]) for p in everything] == [(row, True), (other, False)]
    assert plain(everything[0]["properties"]["Key"]) == "py.pandas"
    with pytest.raises(SandboxControlError, match="archived"):
        sandbox.control.tick(row)
    sandbox.control.restore(row)
    assert notion.pages.retrieve(row)["in_trash"] is False


def test_learner_changes_the_schema(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase, row: str
) -> None:
    ds = sandbox_db.data_source_id
    sandbox.control.rename_property(ds, "Done", "Finished")
    sandbox.control.delete_property(ds, "Evidence")
    sandbox.control.retype_property(ds, "Key", {"select": {}})
    sandbox.control.add_property(ds, "Mood", {"rich_text": {}})
    properties = notion.data_sources.retrieve(ds)["properties"]
    assert "Finished" in properties and "Done" not in properties
    assert "Evidence" not in properties
    assert properties["Key"]["type"] == "select"
    assert properties["Mood"]["type"] == "rich_text"
    assert notion.pages.retrieve(row)["properties"]["Key"]["select"]["name"] == "py.pandas"
    assert (
        notion.data_sources.retrieve(ds)["last_edited_by"]["id"]
        == sandbox.control.health()["learner_id"]
    )


def test_request_log_counts_api_calls_only(
    notion: Client, sandbox: SandboxServer, row: str
) -> None:
    sandbox.control.reset_requests()
    notion.pages.retrieve(row)
    notion.pages.retrieve(row)
    notion.pages.update(row, properties={})
    sandbox.control.tick(row)
    sandbox.control.health()
    log = sandbox.control.requests()
    assert log["total"] == 3
    assert log["by_route"] == {"GET /v1/pages/{id}": 2, "PATCH /v1/pages/{id}": 1}
    assert log["entries"][0] == {
        "method": "GET",
        "route": "/v1/pages/{id}",
        "path": f"/v1/pages/{row}",
        "status": 200,
        "fault": None,
        "latency_ms": 0,
        "seq": 1,
    }
    assert sandbox.control.request_count() == 3
    assert sandbox.control.request_count("/v1/pages/{id}", method="GET") == 2
    assert sandbox.control.request_count("PATCH /v1/pages/{id}") == 1
    with pytest.raises(APIResponseError):
        notion.pages.retrieve("00000000-0000-4000-8000-000000000000")
    assert sandbox.control.request_count(status=404) == 1
    sandbox.control.reset_requests()
    assert sandbox.control.requests() == {"total": 0, "by_route": {}, "entries": []}


def test_clock_moves_forward(sandbox: SandboxServer) -> None:
    before = datetime.fromisoformat(sandbox.control.health()["now"])
    after = datetime.fromisoformat(sandbox.control.advance_clock(3600))
    assert (after - before).total_seconds() >= 3600
    with httpx.Client(base_url=sandbox.base_url) as http:
        refused = http.post("/__sandbox/clock", json={"advance_seconds": "soon"})
    assert refused.status_code == 400


def test_reset_gives_a_fresh_workspace_with_the_same_ids(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    root = sandbox.root_page_id
    sandbox.control.add_fault("error", route="/v1/search", times=None)
    sandbox.control.advance_clock(600)
    health = sandbox.control.reset()
    assert health["root_page_id"] == root == sandbox.root_page_id
    assert sandbox.control.faults() == []
    with pytest.raises(APIResponseError) as caught:
        notion.databases.retrieve(sandbox_db.database_id)
    assert caught.value.status == 404
    assert notion.search()["results"][0]["id"] == root
    assert sandbox.control.requests()["total"] == 2


def test_control_errors(sandbox: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox.base_url) as http:
        assert http.get("/__sandbox/nothing").status_code == 404
        bad = http.post("/__sandbox/faults", content=b"{oops")
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_json"
        assert http.post("/__sandbox/faults", json=[1]).status_code == 400


def test_loopback_check() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.8.9.1") and is_loopback("::1")
    assert (
        not is_loopback("192.168.1.20")
        and not is_loopback("10.0.0.1")
        and not is_loopback("example")
    )
