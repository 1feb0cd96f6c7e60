"""The pacer and the retry policy under Notion's newer limits: Retry-After in full plus a positive
jitter, a slower steady rate only for the workspace's shared limit, climbing back slowly; 529
handled like 429. Time is injected: no test waits for real."""

from __future__ import annotations

import random

import pytest

from sync.notion.adapter import NotionAdapter
from sync.notion.pacing import Pacer, RetryPolicy, is_shared_limit
from sync.sandbox import SandboxServer
from sync.sandbox.limits import CONNECTION_REASON, WORKSPACE_REASON


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_retry_after_is_honoured_in_full_with_no_cap_plus_a_positive_jitter() -> None:
    policy = RetryPolicy(rng=random.Random(3))
    waits = [policy.delay(1, 150.0) for _ in range(200)]
    assert all(150.0 < wait <= 150.0 + 1.0 + 15.0 for wait in waits)  # no 120 s cap any more
    assert len({round(wait, 6) for wait in waits}) == len(waits)  # two clients do not lockstep


def test_without_jitter_the_wait_is_exactly_retry_after() -> None:
    assert RetryPolicy(jitter=0).delay(1, 7.0) == 7.0


@pytest.mark.parametrize(
    ("reason", "shared"),
    [
        (WORKSPACE_REASON, True),
        ("Workspace_Limit", True),
        (CONNECTION_REASON, False),
        ("endpoint_limit", False),
        (None, False),
    ],
)
def test_only_the_workspaces_shared_limit_counts_as_shared(
    reason: str | None, shared: bool
) -> None:
    assert is_shared_limit(reason) is shared


def test_the_steady_rate_halves_on_a_shared_limit_and_climbs_back_slowly() -> None:
    fake = FakeTime()
    pacer = Pacer(10.0, burst=1, clock=fake.clock, sleep=fake.sleep, recovery=20)
    pacer.slow_down()
    assert pacer.current == 5.0
    pacer.slow_down()
    pacer.slow_down()
    pacer.slow_down()
    assert pacer.current == pytest.approx(10.0 * 0.125)  # never below its floor
    assert pacer.slowdowns == 3  # the fourth call found it at the floor already
    for _ in range(10):
        pacer.wait()
    assert 1.25 < pacer.current < 10.0  # climbing, not back yet
    for _ in range(300):
        pacer.wait()
    assert pacer.current == 10.0  # and never above the configured rate


def test_a_slower_rate_spaces_the_requests_further() -> None:
    fake = FakeTime()
    pacer = Pacer(4.0, burst=1, clock=fake.clock, sleep=fake.sleep, recovery=10_000)
    for _ in range(5):
        pacer.wait()
    steady = fake.now
    pacer.slow_down()
    start = fake.now
    for _ in range(5):
        pacer.wait()
    assert fake.now - start > 1.8 * steady  # about twice as long at half the rate


def test_no_pacing_means_no_slowing() -> None:
    pacer = Pacer(0)
    pacer.slow_down()
    assert pacer.current == 0


# -- through the adapter, against the sandbox ----------------------------------------------------
def test_a_429_names_its_reason_in_the_retry_line_and_slows_the_pacer(
    sandbox: SandboxServer,
) -> None:
    sandbox.control.set_limits(requests_per_window=1, window_seconds=3600)
    lines: list[tuple[float, str]] = []
    fake = FakeTime()
    with NotionAdapter(
        sandbox.token,
        sandbox.base_url,
        rate_limit=5,
        sleep=fake.sleep,
        on_retry=lambda delay, why: lines.append((delay, why)),
        policy=RetryPolicy(max_rate_limited=2, rng=random.Random(1)),
    ) as notion:
        notion.fetch_me()
        with pytest.raises(Exception, match="rate_limited"):
            notion.fetch_me()  # the fake sleep never lets the hour-long window pass
        assert notion.rate_limited == 3
        assert notion.pacer.slowdowns == 0  # a connection's own limit: wait, do not slow down
    assert lines and all(why == f"429 rate_limited ({CONNECTION_REASON})" for _, why in lines)
    assert all(delay > 1 for delay, _ in lines)
    assert sandbox.control.limits()["refused"] == {CONNECTION_REASON: 3}


def test_the_workspaces_limit_slows_the_steady_rate(sandbox: SandboxServer) -> None:
    sandbox.control.set_limits(workspace_requests_per_window=1, window_seconds=3600)
    fake = FakeTime()
    with NotionAdapter(
        sandbox.token,
        sandbox.base_url,
        rate_limit=5,
        sleep=fake.sleep,
        policy=RetryPolicy(max_rate_limited=1),
    ) as notion:
        notion.fetch_me()
        with pytest.raises(Exception, match=WORKSPACE_REASON):
            notion.fetch_me()
        assert notion.pacer.slowdowns == 2  # halved twice: 5 -> 2.5 -> 1.25
        assert 1.25 <= notion.pacer.current < 1.5  # and climbing back a little a request


def test_a_529_is_waited_out_like_a_429_even_for_a_create(sandbox: SandboxServer) -> None:
    sandbox.control.add_fault(
        "error", method="POST", route="/v1/pages", status=529, times=1, retry_after=4
    )
    fake = FakeTime()
    with NotionAdapter(sandbox.token, sandbox.base_url, rate_limit=0, sleep=fake.sleep) as notion:
        page = notion.create_child_page(sandbox.root_page_id, "Overloaded once")
        assert notion.rate_limited == 1 and notion.retries == 1
    assert page["object"] == "page"
    assert len(fake.slept) == 1 and 4.0 < fake.slept[0] <= 5.4
    titles = [p for p in sandbox.control.requests()["entries"] if p["route"] == "/v1/pages"]
    assert [e["status"] for e in titles] == [529, 200]  # created once
