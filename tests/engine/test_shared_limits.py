"""Notion's newer limits against the sandbox: a window budget per connection and one shared by the
workspace. Two tokens on one workspace push at once and both finish; requests are counted, never
timed (wall-clock figures: `scripts/bench --pacing`)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from sync.engine import SyncReport
from sync.notion.adapter import NotionAdapter
from sync.sandbox.limits import WORKSPACE_REASON
from tests.engine.conftest import World, key_of, small_checklist

SECOND_TOKEN = "ntn_second_machine_connection"
ITEMS = [(f"entry.general.topic{n:02d}", f"Topic {n}", "Entry", "General", n) for n in range(1, 25)]


def machine(world: World, name: str, token: str) -> tuple[World, dict[str, Any], NotionAdapter]:
    """A second World on its own page and state folder, syncing with `token` at 20 requests/s."""
    with NotionAdapter(world.sandbox.token, world.sandbox.base_url, rate_limit=0) as notion:
        page = notion.create_child_page(world.sandbox.root_page_id, name)
    other = World(world.sandbox, world.state_dir.parent / name)
    other.checklist = small_checklist(ITEMS)
    overrides = {
        "NOTION_TOKEN": token,
        "NOTION_PARENT_PAGE_ID": page["id"],
        "DSPROGRESS_RATE_LIMIT": "20",
    }
    settings = other.settings(**overrides)
    adapter = NotionAdapter(
        token,
        settings.notion_base_url,
        rate_limit=settings.rate_limit,
        notion_version=settings.notion_version,
    )
    return other, overrides, adapter


def test_two_tokens_on_one_workspace_both_finish_their_pushes(world: World) -> None:
    world.sandbox.control.add_token(SECOND_TOKEN)
    laptop = machine(world, "laptop", world.sandbox.token)
    desktop = machine(world, "desktop", SECOND_TOKEN)
    world.control.set_limits(
        requests_per_window=30, workspace_requests_per_window=24, window_seconds=2
    )
    world.control.reset_requests()
    reports: dict[str, SyncReport] = {}
    failures: list[BaseException] = []

    def push(name: str, side: tuple[World, dict[str, Any], NotionAdapter]) -> None:
        other, overrides, adapter = side
        try:
            reports[name] = other.sync(
                "push", settings=other.settings(**overrides), adapter=adapter
            )
        except BaseException as exc:  # reported below: no run may give up
            failures.append(exc)

    threads = [
        threading.Thread(target=push, args=("laptop", laptop)),
        threading.Thread(target=push, args=("desktop", desktop)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and set(reports) == {"laptop", "desktop"}
    for side in (laptop, desktop):
        rows = side[0].rows()
        assert Counter(key_of(row) for row in rows) == {key: 1 for key, *_ in ITEMS}
    refused = world.control.limits()["refused"]
    met = {name: side[2].rate_limited for name, side in (("laptop", laptop), ("desktop", desktop))}
    assert sum(met.values()) == sum(refused.values())  # each machine's 429s are counted
    assert refused.get(WORKSPACE_REASON, 0) > 0  # the shared limit was met ...
    slowed = laptop[2].pacer.slowdowns + desktop[2].pacer.slowdowns
    assert 0 < slowed <= refused[WORKSPACE_REASON]  # ... and only it lowered the steady rate
    entries = world.control.requests()["entries"]
    assert sum(1 for e in entries if e["status"] == 429) == sum(refused.values())
    assert sum(refused.values()) < len(entries) / 4  # few 429s for the requests made
    for side in (laptop, desktop):
        side[2].close()


def test_a_first_push_under_a_connection_budget_meets_few_429s(
    world: World, tmp_path: Path
) -> None:
    world.checklist = small_checklist(ITEMS)
    world.control.set_limits(requests_per_window=20, window_seconds=2)
    settings = world.settings(DSPROGRESS_RATE_LIMIT="8")
    adapter = NotionAdapter(
        settings.token or "", settings.notion_base_url, rate_limit=settings.rate_limit
    )
    with adapter:
        report = world.sync("push", settings=settings, adapter=adapter)
    assert report.counts()["create"] == len(ITEMS)
    assert adapter.rate_limited == world.control.limits()["refused"].get("connection_rate_limit", 0)
    assert adapter.rate_limited <= 3
    assert adapter.pacer.slowdowns == 0  # a connection's own limit never lowers the rate


def test_a_no_op_sync_stays_at_three_requests_under_the_limits(world: World) -> None:
    world.sync()
    world.control.set_limits(requests_per_window=30, workspace_requests_per_window=40)
    world.control.reset_requests()
    assert world.sync().plan.is_noop
    assert world.control.requests()["total"] == 3
    assert world.control.limits()["refused"] == {}
