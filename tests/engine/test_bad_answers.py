"""Answers that are not what Notion sends (an HTML page from a proxy, an empty or truncated body,
`results: null`): treated like a 5xx, retried where that is safe, never trusted, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from sync.errors import NotionUnavailableError
from sync.notion.adapter import NotionAdapter
from sync.notion.pacing import RetryPolicy

from .conftest import ITEMS, World, small_checklist

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)


def fast_adapter(world: World) -> NotionAdapter:
    return NotionAdapter(
        world.sandbox.token, world.sandbox.base_url, rate_limit=0, policy=FAST, sleep=lambda _: None
    )


def garbage(body: str, route: str, method: str = "*", **extra: Any) -> dict[str, Any]:
    return {"kind": "garbage", "body": body, "route": route, "method": method, **extra}


@pytest.mark.parametrize("body", ["html", "empty", "truncated", "null_results"])
def test_a_read_answered_once_with_garbage_is_retried_and_the_sync_succeeds(
    world: World, body: str
) -> None:
    world.sync()
    world.control.add_fault_rule(garbage(body, "/v1/data_sources/{id}/query", "POST"))
    with fast_adapter(world) as notion:
        report = world.sync(adapter=notion)
        assert notion.retries == 1
    assert not report.plan.notion_actions


@pytest.mark.parametrize("body", ["html", "empty", "truncated", "null_results"])
def test_a_read_that_keeps_answering_garbage_is_notion_unavailable_and_nothing_is_written(
    world: World, body: str
) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    before = world.snapshot_items()
    world.control.add_fault_rule(
        garbage(body, "/v1/data_sources/{id}/query", "POST", times=None, probability=1.0)
    )
    world.control.reset_requests()
    with fast_adapter(world) as notion, pytest.raises(NotionUnavailableError) as caught:
        world.sync(adapter=notion)
    assert caught.value.exit_code == 7
    assert "after 3 attempts" in caught.value.message
    assert world.writes() == 0
    assert world.snapshot_items() == before  # the snapshot is left as it was


def test_a_create_answered_with_garbage_is_looked_up_by_key_not_created_twice(
    world: World,
) -> None:
    world.sync()
    world.control.add_fault_rule(
        {"kind": "apply_then_garbage", "body": "html", "route": "/v1/pages", "method": "POST"}
    )
    with_new_item = [*ITEMS, ("entry.networks.gan", "GANs", "Entry", "Networks", 4)]
    with fast_adapter(world) as notion:
        world.sync(checklist=small_checklist(with_new_item, version=2), adapter=notion)
    assert world.keys().count("entry.networks.gan") == 1


def test_a_create_that_keeps_failing_is_notion_unavailable_with_no_duplicate(world: World) -> None:
    world.sync()
    world.control.add_fault_rule(
        {"kind": "garbage", "body": "empty", "route": "/v1/pages", "method": "POST", "times": 9}
    )
    items = [*ITEMS, ("entry.networks.gan", "GANs", "Entry", "Networks", 4)]
    with fast_adapter(world) as notion, pytest.raises(NotionUnavailableError) as caught:
        world.sync(checklist=small_checklist(items, version=2), adapter=notion)
    assert "Notion kept failing while creating a row" in caught.value.message
    assert world.keys().count("entry.networks.gan") == 0
