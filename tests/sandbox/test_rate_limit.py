"""The per-token rate limiter: 429 rate_limited with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from notion_client import APIErrorCode, APIResponseError

from sync.sandbox import SandboxServer
from sync.sandbox.faults import RateLimiter
from tests.sandbox_fixtures import make_notion_client

# 0.2 requests/s: a token comes back only after 5 s, far longer than any of these tests runs.
SLOW_RATE = 0.2


@pytest.fixture
def limited() -> Iterator[SandboxServer]:
    with SandboxServer(rate_limit=SLOW_RATE, burst=2, port=0) as server:
        yield server


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Notion-Version": "2025-09-03"}


def test_over_the_burst_is_429_with_retry_after(limited: SandboxServer) -> None:
    with httpx.Client(base_url=limited.base_url, headers=headers(limited.token)) as http:
        assert [http.get("/v1/users/me").status_code for _ in range(2)] == [200, 200]
        response = http.get("/v1/users/me")
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 5
    body = response.json()
    assert body["object"] == "error" and body["code"] == "rate_limited" and body["status"] == 429
    assert set(body) == {"object", "status", "code", "message", "request_id"}


def test_the_sdk_sees_rate_limited_when_its_retries_are_off(limited: SandboxServer) -> None:
    notion = make_notion_client(limited, retry=False)
    notion.users.me()
    notion.users.me()
    with pytest.raises(APIResponseError) as caught:
        notion.users.me()
    assert caught.value.code == APIErrorCode.RateLimited
    assert int(caught.value.headers["retry-after"]) >= 1


def test_buckets_are_per_token(limited: SandboxServer) -> None:
    with httpx.Client(base_url=limited.base_url) as http:
        for _ in range(2):
            assert http.get("/v1/users/me", headers=headers(limited.token)).status_code == 200
        assert http.get("/v1/users/me", headers=headers(limited.token)).status_code == 429
        other = http.get("/v1/users/me", headers=headers("ntn_someone_else"))
    assert other.status_code == 401


def test_limited_requests_are_logged_and_control_is_not_limited(limited: SandboxServer) -> None:
    with httpx.Client(base_url=limited.base_url, headers=headers(limited.token)) as http:
        for _ in range(3):
            http.get("/v1/users/me")
    for _ in range(5):
        limited.control.health()
    log = limited.control.requests()
    assert log["total"] == 3
    assert [e["status"] for e in log["entries"]] == [200, 200, 429]
    assert limited.control.request_count(status=429) == 1


def test_rate_limit_can_be_changed_at_run_time(limited: SandboxServer) -> None:
    limited.control.set_rate_limit(None)
    with httpx.Client(base_url=limited.base_url, headers=headers(limited.token)) as http:
        assert {http.get("/v1/users/me").status_code for _ in range(20)} == {200}
    assert limited.control.set_rate_limit(SLOW_RATE, 1) == {"rate_limit": SLOW_RATE, "burst": 1}


def test_fixture_sandbox_has_no_rate_limit(sandbox: SandboxServer) -> None:
    notion = make_notion_client(sandbox, retry=False)
    for _ in range(30):
        notion.users.me()
    assert sandbox.control.request_count(status=429) == 0


def test_token_bucket_refills_at_the_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(3.0, burst=3, clock=lambda: now[0])
    assert [limiter.acquire("t") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("t") == 1
    now[0] += 1 / 3
    assert limiter.acquire("t") is None
    assert limiter.acquire("t") == 1
    now[0] += 10
    assert [limiter.acquire("t") for _ in range(4)] == [None, None, None, 1]
    slow = RateLimiter(0.25, burst=1, clock=lambda: now[0])
    assert slow.acquire("t") is None
    assert slow.acquire("t") == 4
    assert RateLimiter(None).acquire("t") is None


@pytest.mark.slow
def test_the_sdk_retries_429_by_itself(limited: SandboxServer) -> None:
    limited.control.set_rate_limit(1.0, 1)
    notion = make_notion_client(limited)
    notion.users.me()
    assert notion.users.me()["type"] == "bot"
    statuses = [e["status"] for e in limited.control.requests()["entries"]]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
