"""Incremental pulls: between full reads a run asks Notion only for rows edited since the last one.

A table that fits in one page (up to 100 rows, like the bundled checklist) is read in full by
every pull: that costs the one request a delta costs and notices trashed rows at once. So the
delta tests here use a table of more than one page (`BIG`).

Request and row counts come from the sandbox and the run's report, never from a clock. The
sandbox's clock is moved forward between runs so that a run's own writes fall before the next
run's window (Notion's last_edited_time is minute-rounded; the window overlaps by two minutes).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sync.checklist import Checklist
from sync.cli.status_cmd import print_status
from sync.engine import run_sync
from sync.errors import SafetyHaltError
from sync.row_reads import ONE_PAGE
from sync.store import open_store
from tests.engine.conftest import ITEMS, World, small_checklist

# a Wednesday noon, time flowing; sync, push, pull under each Notion-Version
pytestmark = pytest.mark.usefixtures("fixed_clock", "each_notion_version")

LATER = 10 * 60  # seconds the sandbox clock moves between runs: well past the overlap
FILLERS = [
    (f"entry.general.filler{n:03d}", f"Filler {n}", "Entry", "General", n + 10)
    for n in range(ONE_PAGE + 1 - len(ITEMS))
]
BIG = [*ITEMS, *FILLERS]  # one row more than a page


def big(world: World) -> World:
    world.checklist = small_checklist(BIG)
    return world


def queries(world: World) -> int:
    entries = world.control.requests()["entries"]
    return sum(1 for e in entries if e["route"].endswith("/query"))


def requests_by_route(world: World) -> Counter[str]:
    return Counter(f"{e['method']} {e['route']}" for e in world.control.requests()["entries"])


def settled(world: World, **settings: Any) -> None:
    """Push, let time pass, and sync once, so the next run starts from a quiet database."""
    world.sync(settings=world.settings(**settings))
    world.control.advance_clock(LATER)
    world.sync(settings=world.settings(**settings))
    world.control.advance_clock(LATER)


def test_a_no_op_sync_checks_the_database_reads_the_schema_and_one_empty_delta(
    world: World,
) -> None:
    settled(big(world))
    world.control.reset_requests()
    report = world.sync()
    assert report.read == "delta" and report.rows_read == 0 and report.plan.is_noop
    assert requests_by_route(world) == {
        "GET /v1/databases/{id}": 1,  # the database is checked every run (one in the Trash halts)
        "GET /v1/data_sources/{id}": 1,
        "POST /v1/data_sources/{id}/query": 1,
    }
    body = world.control.requests()["entries"][-1].get("body") or {}
    if body:  # the request log keeps bodies: the filter is on last_edited_time
        assert body["filter"]["timestamp"] == "last_edited_time"


def test_a_pull_reads_only_the_rows_edited_since_the_last_and_keeps_the_rest(world: World) -> None:
    settled(big(world))
    dense, cnn = world.page_of("entry.networks.dense"), world.page_of("entry.networks.cnn")
    world.control.tick(dense["id"])
    world.control.set_text(cnn["id"], "Notes", "halfway")
    report = world.sync("pull")
    assert report.read == "delta" and report.rows_read == 2
    items = world.snapshot_items()
    assert items["entry.networks.dense"].done and items["entry.networks.cnn"].notes == "halfway"
    assert len(items) == len(BIG)  # rows missing from the delta are unchanged, not gone
    # what the delta pulled is exactly what a full read finds
    world.control.advance_clock(LATER)
    assert world.sync(full=True).plan.is_noop
    assert world.snapshot_items() == items


def test_an_edit_within_the_overlap_is_read_again_and_counted_once(world: World) -> None:
    settled(big(world))
    dense = world.page_of("entry.networks.dense")["id"]
    world.control.tick(dense)
    world.sync("pull")
    world.control.reset_requests()
    report = world.sync("pull")  # no clock move: the tick is still inside the overlap
    assert report.read == "delta" and report.rows_read >= 1 and report.plan.is_noop
    done = [e for e in world.history() if e.key == "entry.networks.dense" and e.to_status == "done"]
    assert len(done) == 1


def test_a_push_of_an_unchanged_checklist_reads_no_rows(world: World) -> None:
    settled(world)
    world.control.reset_requests()
    report = world.sync("push")
    assert report.read == "none" and queries(world) == 0 and report.plan.is_noop


def test_a_push_that_creates_looks_its_keys_up_first(world: World) -> None:
    settled(world)
    more = [*ITEMS, ("entry.general.tuning", "Tuning", "Entry", "General", 2)]
    # Another machine created the new item's row a while ago (outside this machine's window).
    other = world.control.add_row(
        world.data_source_id,
        "Tuning",
        {"Key": {"rich_text": [{"type": "text", "text": {"content": "entry.general.tuning"}}]}},
    )
    world.control.advance_clock(LATER)
    world.sync(settings=world.settings())  # a delta sees it: still no create
    world.control.advance_clock(LATER)
    report = world.sync("push", checklist=small_checklist(more))
    assert report.counts()["create"] == 0
    assert [p["id"] for p in world.rows() if p["id"] == other] == [other]
    assert world.keys().count("entry.general.tuning") == 1


def test_a_push_creating_a_key_another_machine_created_unseen_adopts_that_row(
    world: World,
) -> None:
    settled(world)
    with open_store(world.state_dir) as store:
        # As if the other machine's row predated this state's window entirely.
        mark = datetime.now(timezone.utc) + timedelta(days=1)
        store.set_meta("rows_watermark", mark.isoformat())
    world.control.add_row(
        world.data_source_id,
        "Tuning",
        {"Key": {"rich_text": [{"type": "text", "text": {"content": "entry.general.tuning"}}]}},
    )
    more = [*ITEMS, ("entry.general.tuning", "Tuning", "Entry", "General", 2)]
    world.control.reset_requests()
    report = world.sync("push", checklist=small_checklist(more))
    assert report.read == "delta" and report.counts()["create"] == 0
    assert world.keys().count("entry.general.tuning") == 1


def test_a_full_read_comes_at_the_interval_and_notices_trashed_rows(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    settled(big(world), DSPROGRESS_FULL_READ_INTERVAL="1h")
    settings = world.settings(DSPROGRESS_FULL_READ_INTERVAL="1h")
    world.control.trash(world.page_of("entry.networks.dense")["id"])
    now = datetime.now(timezone.utc)
    assert world.sync(settings=settings, now=now).read == "delta"
    report = world.sync(settings=settings, now=now + timedelta(hours=2))
    assert report.read == "full"
    assert report.counts()["create"] == 1  # the checklist owns its items: the row comes back
    with open_store(world.state_dir) as store:
        assert store.get_meta("last_full_read") == (now + timedelta(hours=2)).isoformat()
    # `status` says up to when trashed rows have been noticed: the last full read.
    print_status(settings, as_json=True)
    shown = json.loads(capsys.readouterr().out)
    assert shown["trashed_rows_noticed_until"] == (now + timedelta(hours=2)).isoformat()


@pytest.mark.parametrize("changed", [3, 150])
def test_with_k_changed_rows_a_pull_reads_about_k_rows(world: World, changed: int) -> None:
    items = [
        (f"entry.general.item{n:03d}", f"Item {n}", "Entry", "General", n + 1) for n in range(220)
    ]
    world.checklist = small_checklist(items)
    settled(world)
    for page in world.rows()[:changed]:
        world.control.tick(page["id"])
    world.control.reset_requests()
    report = world.sync("pull")
    assert report.read == "delta" and report.rows_read == changed
    assert queries(world) == changed // 100 + 1


@pytest.mark.slow
def test_a_no_op_sync_of_5000_items_is_at_most_3_requests(world: World) -> None:
    items = [
        (f"entry.general.item{n:04d}", f"Item {n}", "Entry", "General", n + 1) for n in range(5000)
    ]
    world.checklist = small_checklist(items)
    settled(world)
    world.control.reset_requests()
    report = world.sync()
    assert report.plan.is_noop and report.read == "delta" and report.rows_read == 0
    assert len(world.control.requests()["entries"]) <= 3


def test_a_one_page_table_is_read_in_full_by_every_pull_at_the_cost_of_a_delta(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    settled(world)
    world.control.reset_requests()
    report = world.sync()
    assert report.read == "full" and report.rows_read == len(ITEMS) and report.plan.is_noop
    assert sum(requests_by_route(world).values()) == 3  # database, schema, one page of rows
    # A row moved to the Trash is noticed at the next sync, not the next day: the checklist
    # owns its items, so the row comes back.
    world.control.trash(world.page_of("entry.networks.dense")["id"])
    world.control.advance_clock(LATER)
    report = world.sync()
    assert report.read == "full" and report.counts()["create"] == 1
    assert world.keys().count("entry.networks.dense") == 1
    print_status(world.settings(), as_json=True)
    assert json.loads(capsys.readouterr().out)["trashed_rows_noticed_until"] is None


def test_the_bundled_checklist_emptied_in_notion_halts_the_next_sync(
    world: World, bundled: Checklist
) -> None:
    world.checklist = bundled
    settled(world)
    before = world.snapshot_items()
    for page in world.rows():
        world.control.trash(page["id"])
    world.control.advance_clock(LATER)
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError, match="Notion returned no rows") as halted:
        run_sync(world.settings(), bundled, mode="sync")
    assert halted.value.exit_code == 8
    assert world.writes() == 0 and world.rows() == []  # nothing written in Notion
    assert world.snapshot_items() == before  # nor locally
    with open_store(world.state_dir) as store:
        assert len(store.load_remote_rows()) == len(bundled.items)
