"""Faults: retries honouring Retry-After, pacing under the rate limit, apply-then-fail without
duplicates, and a push killed midway converging on the next sync."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from threading import Thread

import pytest

from sync.checklist import Checklist
from sync.notion.adapter import NotionAdapter
from sync.notion.pacing import RetryPolicy
from sync.sandbox.control import SandboxControl
from tests.engine.conftest import ITEMS, World, key_of, small_checklist


def adapter_for(world: World, sleeps: list[float], rate: float = 0) -> NotionAdapter:
    settings = world.settings()
    return NotionAdapter(
        settings.token or "",
        settings.notion_base_url,
        rate_limit=rate,
        sleep=sleeps.append,
        policy=RetryPolicy(max_attempts=4, base_delay=0.01),
    )


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 529])
def test_transient_errors_on_reads_are_retried(world: World, status: int) -> None:
    world.sync()
    world.control.add_fault(
        "error",
        method="POST",
        route="/v1/data_sources/{id}/query",
        status=status,
        times=2,
        retry_after=3 if status == 429 else None,
    )
    sleeps: list[float] = []
    report = world.sync(adapter=adapter_for(world, sleeps))
    assert report.plan.is_noop and report.retries == 2
    if status == 429:
        # Retry-After honoured in full, plus a positive random jitter (at most 1 s + a tenth)
        assert len(sleeps) == 2 and all(3.0 < s <= 4.3 for s in sleeps)


def test_updates_are_retried_because_they_are_safe_to_repeat(world: World) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    world.control.add_fault("error", method="PATCH", route="/v1/pages/{id}", status=503, times=2)
    report = world.sync(adapter=adapter_for(world, []))
    assert report.counts()["fill-done-on"] == 1 and report.retries == 2
    assert world.page_of("entry.networks.cnn")["properties"]["Done on"]["date"] is not None


@pytest.mark.parametrize("kind", ["apply_then_fail", "apply_then_drop"])
def test_a_create_that_landed_but_failed_is_not_created_twice(world: World, kind: str) -> None:
    world.control.add_fault(
        kind, method="POST", route="/v1/pages", status=502, probability=0.5, seed=7
    )
    world.sync(adapter=adapter_for(world, []))
    keys = collections.Counter(key_of(p) for p in world.rows())
    assert keys == collections.Counter({k: 1 for k, *_ in ITEMS})


def test_errors_that_outlast_the_retries_leave_state_and_snapshot_intact(world: World) -> None:
    world.sync()
    before = (world.state_dir / "snapshot.json").read_bytes()
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    world.control.add_fault(
        "error", method="POST", route="/v1/data_sources/{id}/query", status=500, times=10
    )
    from sync.errors import NotionUnavailableError

    with pytest.raises(NotionUnavailableError, match="after 4 attempts"):
        world.sync(adapter=adapter_for(world, []))
    assert (world.state_dir / "snapshot.json").read_bytes() == before
    world.control.clear_faults()
    assert world.sync().counts()["tick"] == 1  # nothing was lost: the tick arrives later


def test_the_pacer_keeps_a_push_under_notions_rate_limit(world: World) -> None:
    world.control.set_rate_limit(20, burst=3)
    report = world.sync(settings=world.settings(DSPROGRESS_RATE_LIMIT="15"))
    assert world.control.request_count(status=429) == 0
    assert report.retries == 0


def test_without_pacing_429s_are_met_and_retried(world: World) -> None:
    world.control.set_rate_limit(20, burst=2)
    sleeps: list[float] = []
    adapter = NotionAdapter(
        world.sandbox.token,
        world.sandbox.base_url,
        rate_limit=0,
        sleep=lambda s: (sleeps.append(s), time.sleep(s))[1],
    )  # type: ignore[func-returns-value]
    report = world.sync(adapter=adapter)
    assert world.control.request_count(status=429) >= 1
    assert report.retries == world.control.request_count(status=429)
    assert len(world.rows()) == len(ITEMS)


def learner_writes_during_the_next_page_write(
    world: World, write: Callable[[SandboxControl], object]
) -> Thread:
    """Delay the next page write in the sandbox; `write` (the learner's) lands while it waits."""
    rule_id = world.control.add_fault(
        "latency", method="PATCH", route="/v1/pages/{id}", latency_ms=1500, times=1
    )["id"]

    def wait_then_write() -> None:
        with SandboxControl(world.sandbox.base_url) as control:
            while not [r for r in control.faults() if r["id"] == rule_id and r["hits"]]:
                time.sleep(0.005)
            write(control)

    thread = Thread(target=wait_then_write)
    thread.start()
    return thread


@pytest.mark.parametrize("tick", [True, False])
def test_a_tick_made_while_our_write_to_its_row_is_in_flight_reaches_the_history(
    world: World, tick: bool
) -> None:
    world.sync()
    page_id = world.page_of("entry.networks.dense")["id"]
    if not tick:
        world.control.tick(page_id)
        world.sync()
    renamed = [(k, f"{t} again" if k == "entry.networks.dense" else t, *r) for k, t, *r in ITEMS]
    thread = learner_writes_during_the_next_page_write(
        world, lambda control: control.tick(page_id, tick)
    )
    report = world.sync(checklist=small_checklist(renamed))
    thread.join()
    (event,) = report.late_ticks
    assert (event.key, event.to_status) == (
        "entry.networks.dense",
        "done" if tick else "not_started",
    )
    assert world.history()[-1] == event
    props = world.page_of("entry.networks.dense")["properties"]
    assert props["Status"]["select"]["name"] == ("Done" if tick else "Not started")
    assert (props["Done on"]["date"] is not None) == tick  # filled, or the tool's date cleared
    assert world.snapshot_items()["entry.networks.dense"].done == tick
    assert world.sync(checklist=small_checklist(renamed)).plan.is_noop


@pytest.mark.slow
def test_a_push_killed_midway_converges_without_duplicates_or_lost_ticks(
    world: World, bundled: Checklist, tmp_path: Path
) -> None:
    world.control.add_fault(
        "latency", method="POST", route="/v1/pages", latency_ms=100, probability=1.0
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    env.update(
        {
            "NOTION_TOKEN": world.sandbox.token,
            "NOTION_PARENT_PAGE_ID": world.sandbox.root_page_id,
            "NOTION_BASE_URL": world.sandbox.base_url,
            "DSPROGRESS_STATE_DIR": str(world.state_dir),
            "DSPROGRESS_RATE_LIMIT": "0",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "sync", "push"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while world.control.request_count("POST /v1/pages") < 10:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the push never got going"
        time.sleep(0.05)
    # From here on a create hangs until the kill: where the push stops does not depend on how
    # fast this machine is (at most the create in flight when the rule lands completes).
    world.control.add_fault(
        "latency", method="POST", route="/v1/pages", latency_ms=60_000, probability=1.0
    )
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL  # killed midway, not finished
    world.control.clear_faults()
    created = world.rows()
    assert len(created) >= 10
    world.control.tick(created[0]["id"])
    ticked_key = key_of(created[0])
    # After the first sync following the kill: every item exists and no tick is lost (a create
    # still in flight may land after this sync looked, and make a second row).
    world.sync(checklist=bundled)
    keys = collections.Counter(key_of(p) for p in world.rows())
    assert set(keys) == {item.key for item in bundled.items}
    assert world.snapshot_items()[ticked_key].done
    # After the second: exactly one live row per Key, the tick kept; then nothing left to do.
    world.sync(checklist=bundled)
    keys = collections.Counter(key_of(p) for p in world.rows())
    assert keys == collections.Counter({item.key: 1 for item in bundled.items})
    assert world.snapshot_items()[ticked_key].done
    assert world.sync(checklist=bundled).plan.is_noop
