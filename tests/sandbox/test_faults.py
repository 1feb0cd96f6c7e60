"""Fault injection: errors, latency, drops and the apply-then-fail faults behind duplicates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.errors import HTTPResponseError, UnknownHTTPResponseError

from sync.cli.sandbox_cmd import build_fault_rules
from sync.sandbox import SandboxControlError, SandboxServer
from tests.sandbox_fixtures import SandboxDatabase, make_notion_client, raw_http, text


def get_me(sandbox: SandboxServer) -> httpx.Response:
    with raw_http(sandbox) as http:
        return http.get("/v1/users/me")


def create_row(notion: Client, db: SandboxDatabase, key: str) -> dict[str, Any]:
    page: dict[str, Any] = notion.pages.create(
        parent={"data_source_id": db.data_source_id},
        properties={"Name": {"title": text(key)}, "Key": {"rich_text": text(key)}},
    )
    return page


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "conflict_error"),
        (429, "rate_limited"),
        (500, "internal_server_error"),
        (502, "bad_gateway"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
        (529, "service_overload"),
    ],
)
def test_error_faults_answer_with_notions_body(
    sandbox: SandboxServer, status: int, code: str
) -> None:
    rule = sandbox.control.add_fault("error", status=status, route="/v1/users/me", retry_after=7)
    response = get_me(sandbox)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert (body["object"], body["status"], body["code"]) == ("error", status, code)
    # Notion's request-limits page: 429 and 529 both carry Retry-After.
    assert response.headers.get("Retry-After") == ("7" if status in (429, 529) else None)
    assert get_me(sandbox).status_code == 200
    assert [f["hits"] for f in sandbox.control.faults()] == [1]
    assert rule["remaining"] == 1


def test_the_sdk_surfaces_fault_errors(sandbox: SandboxServer, notion_no_retry: Client) -> None:
    sandbox.control.add_fault("error", status=504, route="/v1/users/me")
    with pytest.raises(APIResponseError) as timeout:
        notion_no_retry.users.me()
    assert timeout.value.code == APIErrorCode.GatewayTimeout
    sandbox.control.add_fault("error", status=529, route="/v1/users/me")
    with pytest.raises(UnknownHTTPResponseError) as overload:
        notion_no_retry.users.me()
    assert overload.value.status == 529


def test_an_error_fault_does_not_touch_the_workspace(
    sandbox: SandboxServer, notion_no_retry: Client, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.add_fault("error", method="POST", route="/v1/pages", status=500)
    with pytest.raises(APIResponseError):
        create_row(notion_no_retry, sandbox_db, "a")
    assert sandbox.control.pages(sandbox_db.data_source_id) == []


def test_apply_then_fail_writes_and_a_naive_retry_duplicates(
    sandbox: SandboxServer, notion_no_retry: Client, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.add_fault("apply_then_fail", method="POST", route="/v1/pages", status=504)
    with pytest.raises(HTTPResponseError) as caught:
        create_row(notion_no_retry, sandbox_db, "py.pandas")
    assert caught.value.status == 504
    assert len(sandbox.control.pages(sandbox_db.data_source_id)) == 1
    create_row(notion_no_retry, sandbox_db, "py.pandas")
    assert len(sandbox.control.pages(sandbox_db.data_source_id)) == 2
    entries = sandbox.control.requests()["entries"]
    assert [(e["route"], e["status"], e["fault"]) for e in entries[-2:]] == [
        ("/v1/pages", 504, "apply_then_fail"),
        ("/v1/pages", 200, None),
    ]


def test_drop_closes_the_connection_without_writing(
    sandbox: SandboxServer, notion_no_retry: Client, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.add_fault("drop", method="POST", route="/v1/pages")
    with pytest.raises(httpx.TransportError):
        create_row(notion_no_retry, sandbox_db, "a")
    assert sandbox.control.pages(sandbox_db.data_source_id) == []
    create_row(notion_no_retry, sandbox_db, "a")
    assert len(sandbox.control.pages(sandbox_db.data_source_id)) == 1
    assert sandbox.control.requests()["entries"][-2]["status"] is None


def test_apply_then_drop_writes_but_the_client_never_hears(
    sandbox: SandboxServer, notion: Client, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.add_fault("apply_then_drop", method="PATCH", route="/v1/pages/{page_id}")
    page = create_row(notion, sandbox_db, "a")
    with pytest.raises(httpx.TransportError):
        notion.pages.update(page["id"], properties={"Done": {"checkbox": True}})
    assert notion.pages.retrieve(page["id"])["properties"]["Done"]["checkbox"] is True


def test_latency_is_added_and_logged(sandbox: SandboxServer, notion: Client) -> None:
    sandbox.control.add_fault("latency", route="/v1/users/me", latency_ms=25, times=2)
    notion.users.me()
    notion.users.me()
    notion.users.me()
    entries = sandbox.control.requests()["entries"]
    assert [e["latency_ms"] for e in entries] == [25, 25, 0]
    assert all(e["status"] == 200 and e["fault"] is None for e in entries)


def test_times_counts_matching_requests_only(
    sandbox: SandboxServer, notion_no_retry: Client
) -> None:
    sandbox.control.add_fault("error", method="GET", route="/v1/users/me", status=503, times=2)
    notion_no_retry.search()
    outcomes = []
    for _ in range(3):
        try:
            notion_no_retry.users.me()
            outcomes.append("ok")
        except APIResponseError as error:
            outcomes.append(str(error.status))
    assert outcomes == ["503", "503", "ok"]
    (rule,) = sandbox.control.faults()
    assert (rule["hits"], rule["remaining"]) == (2, 0)


def test_the_sdk_never_retries_a_post_after_503(
    sandbox: SandboxServer, notion: Client, sandbox_db: SandboxDatabase
) -> None:
    sandbox.control.add_fault("error", method="POST", route="/v1/pages", status=503)
    with pytest.raises(APIResponseError):
        create_row(notion, sandbox_db, "a")
    assert sandbox.control.request_count("POST /v1/pages") == 1


def test_probability_faults_are_reproducible_with_a_seed(sandbox: SandboxServer) -> None:
    def pattern() -> list[int]:
        sandbox.control.clear_faults()
        sandbox.control.add_fault("error", route="/v1/users/me", probability=0.5, seed=7)
        with raw_http(sandbox) as http:
            return [http.get("/v1/users/me").status_code for _ in range(16)]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 500}


def test_rules_match_method_and_templated_route(
    sandbox: SandboxServer, notion_no_retry: Client
) -> None:
    sandbox.control.add_fault(
        "error", method="PATCH", route="/v1/pages/{page_id}", status=500, times=None
    )
    sandbox.control.add_fault("error", route="/v1/data_sources*", status=502, times=None)
    page = notion_no_retry.pages.create(parent={"page_id": sandbox.root_page_id}, properties={})
    notion_no_retry.pages.retrieve(page["id"])
    with pytest.raises(APIResponseError):
        notion_no_retry.pages.update(page["id"], properties={})
    with pytest.raises(UnknownHTTPResponseError):
        notion_no_retry.data_sources.query("00000000-0000-4000-8000-000000000000")
    rules = sandbox.control.faults()
    assert [r["hits"] for r in rules] == [1, 1]
    sandbox.control.remove_fault(rules[0]["id"])
    notion_no_retry.pages.update(page["id"], properties={})
    sandbox.control.clear_faults()
    assert sandbox.control.faults() == []


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "error", "status": 418},
        {"kind": "error", "probability": 2},
        {"kind": "error", "route": "pages"},
        {"kind": "error", "times": 0},
        {"kind": "error", "colour": "red"},
    ],
)
def test_malformed_rules_are_refused(sandbox: SandboxServer, rule: dict[str, Any]) -> None:
    with pytest.raises(SandboxControlError) as caught:
        sandbox.control.add_fault_rule(rule)
    assert caught.value.status == 400
    assert caught.value.body["code"] == "invalid_fault"


def test_cli_options_become_rules() -> None:
    rules = build_fault_rules(
        latency_ms=5,
        fail_rate=1.0,
        fail_status=503,
        drop_rate=0.0,
        faults=(
            '{"kind": "apply_then_fail", "method": "POST", "route": "/v1/pages", "status": 500}',
        ),
    )
    assert [r["kind"] for r in rules] == ["latency", "error", "apply_then_fail"]
    with SandboxServer(rate_limit=None, faults=rules, seed=1) as server:
        with raw_http(server) as http:
            statuses = [http.get("/v1/users/me").status_code for _ in range(3)]
        assert statuses == [503, 503, 503]
        assert {e["latency_ms"] for e in server.control.requests()["entries"]} == {5}
        notion = make_notion_client(server, retry=False)
        with pytest.raises(APIResponseError):
            notion.users.me()
