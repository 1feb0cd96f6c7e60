"""The sandbox per Notion-Version (2025-09-03, 2026-03-11, 2026-12-01), its window budgets per
token and per workspace, and its cap on the rows one query returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sync.sandbox import SandboxServer
from sync.sandbox.limits import CONNECTION_REASON, WORKSPACE_REASON
from tests.sandbox_fixtures import SandboxDatabase, raw_http, text


def http(sandbox: SandboxServer, version: str, token: str | None = None) -> httpx.Client:
    client = raw_http(sandbox, token=token)
    client.headers["Notion-Version"] = version
    return client


def add_rows(sandbox: SandboxServer, db: SandboxDatabase, count: int) -> list[str]:
    return [sandbox.control.add_row(db.data_source_id, f"Row {i}") for i in range(count)]


@pytest.mark.parametrize("version", ["2025-09-03", "2026-03-11", "2026-12-01"])
def test_archived_is_answered_only_under_2025_09_03(
    sandbox: SandboxServer, sandbox_db: SandboxDatabase, version: str
) -> None:
    [row] = add_rows(sandbox, sandbox_db, 1)
    with http(sandbox, version) as client:
        answers = [
            client.get(f"/v1/pages/{row}").json(),
            client.get(f"/v1/databases/{sandbox_db.database_id}").json(),
            client.get(f"/v1/data_sources/{sandbox_db.data_source_id}").json(),
            client.post(f"/v1/data_sources/{sandbox_db.data_source_id}/query", json={}).json()[
                "results"
            ][0],
        ]
    for answer in answers:
        assert answer["in_trash"] is False
        assert ("archived" in answer) is (version == "2025-09-03")


def test_archived_in_a_request_is_refused_after_2025_09_03(
    sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    [row] = add_rows(sandbox, sandbox_db, 1)
    with http(sandbox, "2026-03-11") as client:
        refused = client.patch(f"/v1/pages/{row}", json={"archived": True})
        assert refused.status_code == 400 and "in_trash" in refused.json()["message"]
        assert client.patch(f"/v1/pages/{row}", json={"in_trash": True}).status_code == 200
    with http(sandbox, "2025-09-03") as client:
        assert client.patch(f"/v1/pages/{row}", json={"archived": False}).status_code == 200


@pytest.mark.parametrize("version", ["2024-01-01", "2022-06-28", "2027-01-01"])
def test_other_versions_are_refused(sandbox: SandboxServer, version: str) -> None:
    with http(sandbox, version) as client:
        answer = client.get("/v1/users/me")
    assert answer.status_code == 400
    assert answer.json()["code"] == "validation_error"
    assert version in answer.json()["message"]


def _names(answer: dict[str, Any]) -> set[str]:
    return set(answer["results"][0]["properties"])


def test_2026_12_01_queries_return_the_title_only_unless_filter_properties_names_more(
    sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    add_rows(sandbox, sandbox_db, 1)
    path = f"/v1/data_sources/{sandbox_db.data_source_id}/query"
    key_id = sandbox_db.property_ids["Key"]
    with http(sandbox, "2026-03-11") as client:
        assert "Key" in _names(client.post(path, json={}).json())
    with http(sandbox, "2026-12-01") as client:
        assert _names(client.post(path, json={}).json()) == {"Name"}
        asked = client.post(path, params={"filter_properties": ["title", key_id]}, json={})
        assert _names(asked.json()) == {"Name", "Key"}
        found = client.post("/v1/search", json={"query": "Row"}).json()
        pages = [r for r in found["results"] if r["object"] == "page"]
        assert pages and all(set(p["properties"]) <= {"Name", "title"} for p in pages)


def test_a_query_past_the_cap_is_cut_short_and_says_so(
    sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    add_rows(sandbox, sandbox_db, 7)
    sandbox.control.set_limits(max_query_results=5)
    path = f"/v1/data_sources/{sandbox_db.data_source_id}/query"
    with http(sandbox, "2026-03-11") as client:
        first = client.post(path, json={"page_size": 3}).json()
        assert first["has_more"] and "request_status" not in first
        second = client.post(
            path, json={"page_size": 3, "start_cursor": first["next_cursor"]}
        ).json()
        assert len(second["results"]) == 2 and second["has_more"] is False
        assert second["request_status"] == {
            "type": "incomplete",
            "incomplete_reason": "query_result_limit_reached",
        }
        filtered = client.post(
            path, json={"filter": {"property": "Name", "title": {"contains": "Row 1"}}}
        ).json()
        assert "request_status" not in filtered  # a query within the cap is complete
    sandbox.control.set_limits(max_query_results=None)
    assert sandbox.control.limits()["max_query_results"] == 10_000


def test_each_token_has_its_window_budget_and_the_workspace_one_shared(
    sandbox: SandboxServer,
) -> None:
    sandbox.control.add_token("ntn_second_connection_token")
    sandbox.control.set_limits(
        requests_per_window=2, workspace_requests_per_window=3, window_seconds=3600
    )
    with (
        http(sandbox, "2026-03-11") as first,
        http(sandbox, "2026-03-11", token="ntn_second_connection_token") as second,
    ):
        assert [first.get("/v1/users/me").status_code for _ in range(2)] == [200, 200]
        over = first.get("/v1/users/me")
        assert over.status_code == 429
        assert over.json()["additional_data"] == {"rate_limit_reason": CONNECTION_REASON}
        assert 1 <= int(over.headers["Retry-After"]) <= 3600
        assert second.get("/v1/users/me").status_code == 200  # its own budget
        shared = second.get("/v1/users/me")  # but the workspace's 3 are spent
        assert shared.status_code == 429
        assert shared.json()["additional_data"] == {"rate_limit_reason": WORKSPACE_REASON}
    assert sandbox.control.limits()["refused"] == {CONNECTION_REASON: 1, WORKSPACE_REASON: 1}


def test_an_unknown_token_is_still_refused(sandbox: SandboxServer) -> None:
    sandbox.control.add_token("ntn_second_connection_token")
    with http(sandbox, "2026-03-11", token="ntn_someone_else_entirely") as client:
        assert client.get("/v1/users/me").status_code == 401


def test_limits_settings_are_checked(sandbox: SandboxServer) -> None:
    from sync.sandbox.control import SandboxControlError

    with pytest.raises(SandboxControlError, match="max_query_results"):
        sandbox.control.set_limits(max_query_results=0)
    with pytest.raises(SandboxControlError, match="token"):
        sandbox.control.add_token("short")


def test_pages_created_through_a_second_token_belong_to_the_same_workspace(
    sandbox: SandboxServer,
) -> None:
    sandbox.control.add_token("ntn_second_connection_token")
    with http(sandbox, "2026-03-11", token="ntn_second_connection_token") as client:
        made = client.post(
            "/v1/pages",
            json={
                "parent": {"type": "page_id", "page_id": sandbox.root_page_id},
                "properties": {"title": {"title": text("From the second connection")}},
            },
        )
    assert made.status_code == 200
    with http(sandbox, "2026-03-11") as client:
        assert client.get(f"/v1/pages/{made.json()['id']}").status_code == 200
