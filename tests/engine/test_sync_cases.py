"""Each planner case end to end: the real notion-client over HTTP against the sandbox."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from threading import Thread
from typing import Any

import pytest

from sync.checklist import Checklist
from sync.engine import SyncReport
from sync.errors import NotionRequestError, SafetyHaltError
from sync.notion.adapter import NotionAdapter
from sync.notion.views import NEXT_UP_NAME
from sync.store import open_store
from tests.engine.conftest import ITEMS, World, key_of, small_checklist

# a Wednesday noon, time flowing; sync, push, pull under each Notion-Version
pytestmark = pytest.mark.usefixtures("fixed_clock", "each_notion_version")


def test_first_push_creates_the_database_and_every_item(world: World) -> None:
    report = world.sync("push")
    assert report.created_database and report.database_url
    assert world.keys() == sorted(k for k, *_ in ITEMS)
    page = world.page_of("entry.networks.cnn")
    assert page["properties"]["Level"]["select"]["name"] == "Entry"
    assert page["properties"]["Order"]["number"] == 2
    assert page["properties"]["Status"]["select"]["name"] == "Not started"


def test_a_noop_sync_of_the_bundled_checklist_costs_at_most_three_requests(
    world: World, bundled: Checklist
) -> None:
    world.sync(checklist=bundled)
    world.control.reset_requests()
    report = world.sync(checklist=bundled)
    log = world.control.requests()
    assert report.plan.is_noop
    assert log["total"] <= 3, log["by_route"]
    assert report.requests == log["total"]
    assert log["by_route"]["POST /v1/data_sources/{id}/query"] == math.ceil(
        len(bundled.items) / 100
    )


def test_a_tick_in_notion_comes_back_with_a_dated_history_and_done_on(world: World) -> None:
    world.sync()
    page = world.page_of("entry.networks.cnn")
    world.control.tick(page["id"])
    before = datetime.now(timezone.utc)
    world.sync("pull")
    item = world.snapshot_items()["entry.networks.cnn"]
    assert item.done and item.status == "done"
    assert item.done_at is not None  # filled with the day it was observed
    refreshed = world.page_of("entry.networks.cnn")
    assert refreshed["properties"]["Done on"]["date"]["start"] == item.done_at.isoformat()
    (tick,) = [e for e in world.history() if e.key == "entry.networks.cnn" and e.from_status]
    assert (tick.from_status, tick.to_status) == ("not_started", "done")
    assert tick.window_start is not None and tick.window_start <= before <= tick.observed_at


def test_status_in_progress_and_learner_fields_are_pulled(world: World) -> None:
    world.sync()
    page_id = world.page_of("entry.networks.rnn")["id"]
    world.control.set_select(page_id, "Status", "In progress")
    world.control.set_text(page_id, "Notes", "chapter 3 of the course")
    world.control.set_url(page_id, "Evidence", "https://github.com/me/rnn")
    world.sync()
    item = world.snapshot_items()["entry.networks.rnn"]
    assert (item.status, item.notes, item.evidence) == (
        "in_progress",
        "chapter 3 of the course",
        "https://github.com/me/rnn",
    )


def plain(prop: dict[str, Any]) -> str:
    return "".join(t["plain_text"] for t in prop["rich_text"])


def test_push_never_overwrites_what_the_learner_owns(world: World) -> None:
    world.sync()
    page_id = world.page_of("entry.networks.dense")["id"]
    world.control.tick(page_id)
    world.control.set_date(page_id, "Done on", "2026-01-02")
    world.control.set_text(page_id, "Notes", "mine")
    world.control.reset_requests()
    report = world.sync("push", full=True)  # (a push of an unchanged checklist reads no rows)
    # The one write is the derived Status (Done and Status tell one story); the learner's tick,
    # date and notes stay as they are, and the tick is recorded with the learner's date.
    assert world.writes() == 1 and report.counts()["align"] == 1
    props = world.page_of("entry.networks.dense")["properties"]
    assert props["Done"]["checkbox"] and props["Done on"]["date"]["start"] == "2026-01-02"
    assert props["Status"]["select"]["name"] == "Done" and plain(props["Notes"]) == "mine"
    (event,) = world.history()[-1:]
    assert (event.to_status, event.done_on) == ("done", date(2026, 1, 2))


def test_a_renamed_item_is_updated_in_place(world: World) -> None:
    world.sync()
    page_id = world.page_of("entry.networks.cnn")["id"]
    world.control.tick(page_id)
    renamed = [(k, "CNNs" if k == "entry.networks.cnn" else t, *rest) for k, t, *rest in ITEMS]
    report = world.sync(checklist=small_checklist(renamed))
    assert report.counts()["update"] == 1 and report.counts()["create"] == 0
    page = world.page_of("entry.networks.cnn")
    assert page["id"] == page_id and page["properties"]["Done"]["checkbox"]
    assert page["properties"]["Name"]["title"][0]["plain_text"] == "CNNs"


def test_a_migration_moves_the_key_and_keeps_tick_and_notes(world: World) -> None:
    world.sync()
    page_id = world.page_of("entry.networks.cnn")["id"]
    world.control.tick(page_id)
    world.control.set_text(page_id, "Notes", "did the course")
    world.sync()
    moved = [
        ("entry.networks.conv" if k == "entry.networks.cnn" else k, *rest) for k, *rest in ITEMS
    ]
    v2 = small_checklist(
        moved,
        version=2,
        migrations="[{version: 2, keys: {entry.networks.cnn: entry.networks.conv}}]",
    )
    report = world.sync(checklist=v2)
    assert report.counts()["migrate"] == 1 and report.counts()["create"] == 0
    page = world.page_of("entry.networks.conv")
    assert page["id"] == page_id
    item = world.snapshot_items()["entry.networks.conv"]
    assert item.done and item.notes == "did the course"
    assert "entry.networks.cnn" not in world.snapshot_items()


def test_own_rows_are_adopted_counted_and_never_trashed(world: World) -> None:
    world.sync()
    own = world.control.add_row(
        world.data_source_id, "Kaggle: Titanic", {"Done": {"checkbox": True}}
    )
    report = world.sync()
    assert report.counts()["adopt"] == 1
    assert key_of(world.control.page(own)) == "custom.kaggle-titanic"
    item = world.snapshot_items()["custom.kaggle-titanic"]
    assert item.custom and item.done
    world.sync("push", prune=True, confirm_prune=lambda trash: True)
    assert not world.control.page(own)["in_trash"]
    assert world.sync().plan.is_noop


def test_an_item_removed_from_the_checklist_is_retired_not_deleted(world: World) -> None:
    world.sync()
    page_id = world.page_of("advanced.general.rl")["id"]
    fewer = small_checklist([i for i in ITEMS if i[0] != "advanced.general.rl"])
    report = world.sync(checklist=fewer)
    assert report.counts()["retire"] == 1
    page = world.control.page(page_id)
    assert page["properties"]["Retired"]["checkbox"] and not page["in_trash"]
    item = world.snapshot_items()["advanced.general.rl"]
    assert item.retired
    assert world.sync(checklist=fewer).plan.is_noop


def test_prune_trashes_retired_pages_only_when_confirmed(world: World) -> None:
    world.sync()
    page_id = world.page_of("advanced.general.rl")["id"]
    fewer = small_checklist([i for i in ITEMS if i[0] != "advanced.general.rl"])
    world.sync(checklist=fewer)
    with pytest.raises(SafetyHaltError, match="Trash"):
        world.sync("push", checklist=fewer, prune=True, confirm_prune=lambda trash: False)
    assert not world.control.page(page_id)["in_trash"]
    world.sync("push", checklist=fewer, prune=True, confirm_prune=lambda trash: True)
    assert world.control.page(page_id)["in_trash"]


def key_property(key: str) -> dict[str, Any]:
    return {"rich_text": [{"type": "text", "text": {"content": key}}]}


def test_a_duplicate_is_merged_into_the_oldest_row_and_trashed(world: World) -> None:
    world.sync()
    original = world.page_of("entry.networks.dense")["id"]
    world.control.set_text(original, "Notes", "chapter 1")
    world.control.advance_clock(60)
    copy = world.control.add_row(
        world.data_source_id,
        "Dense layers",
        {
            "Key": key_property("entry.networks.dense"),
            "Done": {"checkbox": True},
            "Notes": {"rich_text": [{"type": "text", "text": {"content": "chapter 2"}}]},
        },
    )
    report = world.sync()
    (healed,) = [r for r in report.plan.reports if r.verb == "heal"]
    assert healed.kept_page_id == original and healed.trashed_page_ids == (copy,)
    assert report.counts()["create"] == 0 and report.counts()["trash-duplicate"] == 1
    assert world.control.page(copy)["in_trash"]
    props = world.page_of("entry.networks.dense")["properties"]
    assert props["Done"]["checkbox"] and props["Status"]["select"]["name"] == "Done"
    assert plain(props["Notes"]) == "chapter 1\n\nchapter 2"
    assert world.snapshot_items()["entry.networks.dense"].done
    assert world.sync().plan.is_noop


def test_duplicates_that_would_lose_evidence_are_kept_and_reported(world: World) -> None:
    world.sync()
    original = world.page_of("entry.networks.dense")["id"]
    world.control.set_url(original, "Evidence", "https://example.org/a")
    world.control.advance_clock(60)
    copy = world.control.add_row(
        world.data_source_id,
        "Dense layers",
        {"Key": key_property("entry.networks.dense"), "Evidence": {"url": "https://example.org/b"}},
    )
    report = world.sync()
    (kept,) = [r for r in report.plan.reports if r.verb == "duplicate"]
    assert kept.kept_page_id == original and kept.conflicts == ("Evidence",)
    assert not world.control.page(copy)["in_trash"]


def test_an_item_back_in_the_checklist_is_unretired(world: World) -> None:
    world.sync()
    fewer = small_checklist([i for i in ITEMS if i[0] != "advanced.general.rl"])
    world.sync(checklist=fewer)
    report = world.sync()
    assert report.counts()["update"] == 1
    assert not world.snapshot_items()["advanced.general.rl"].retired


def test_dry_run_writes_nothing_anywhere(world: World) -> None:
    report = world.sync(dry_run=True)
    assert report.counts()["create"] == len(ITEMS)
    # No database yet: the only read looks for one under the parent page.
    routes = [e["route"] for e in world.control.requests()["entries"]]
    assert routes == ["/v1/blocks/{id}/children"]
    assert not (world.state_dir / "snapshot.json").exists()
    world.sync()
    page_id = world.page_of("entry.networks.cnn")["id"]
    world.control.tick(page_id)
    world.control.reset_requests()
    report = world.sync(dry_run=True)
    assert report.counts()["tick"] == 1 and report.counts()["fill-done-on"] == 1
    assert world.writes() == 0
    assert not world.snapshot_items()["entry.networks.cnn"].done
    assert [e for e in world.history() if e.from_status] == []


def test_a_trashed_own_row_that_comes_back_keeps_its_own_key(world: World) -> None:
    world.sync()
    first = world.control.add_row(
        world.data_source_id, "Read a paper", {"Done": {"checkbox": True}}
    )
    world.sync()
    world.control.trash(first)
    world.sync()
    second = world.control.add_row(world.data_source_id, "Read a paper")
    world.sync()
    world.control.restore(first)
    report = world.sync()
    assert report.plan.reports == ()
    assert key_of(world.control.page(first)) != key_of(world.control.page(second))
    own = {k: v for k, v in world.snapshot_items().items() if k.startswith("custom.")}
    assert len(own) == 2 and sum(item.done for item in own.values()) == 1


def test_a_trashed_row_recreated_by_a_push_continues_its_history(world: World) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.dense")["id"])
    world.sync()
    world.control.trash(world.page_of("entry.networks.dense")["id"])
    world.sync("push", full=True)  # a full read notices the trashed row
    world.sync("pull")
    chain = [
        (e.from_status, e.to_status) for e in world.history() if e.key == "entry.networks.dense"
    ]
    assert chain == [(None, "not_started"), ("not_started", "done"), ("done", "not_started")]
    assert not world.snapshot_items()["entry.networks.dense"].done


def test_an_older_databases_next_up_view_gets_the_status_filter_once(world: World) -> None:
    world.sync()
    with open_store(world.state_dir) as store:
        (next_up,) = [v for v in store.get_json_meta("views") if v["name"] == NEXT_UP_NAME]
        ids = store.get_json_meta("column_ids")
        store.set_meta("next_up_filter", None)  # as a database made by an older version
    old = {"property": ids["done"], "checkbox": {"equals": False}}
    with NotionAdapter(world.sandbox.token, world.sandbox.base_url, rate_limit=0) as notion:
        notion.update_view(next_up["view_id"], {"filter": old})
        world.sync()
        conditions = notion.fetch_view(next_up["view_id"])["filter"]["and"]
    assert {"property": ids["status"], "select": {"does_not_equal": "Skipped"}} in conditions
    world.control.reset_requests()
    world.sync()
    assert world.control.request_count("PATCH /v1/views/{id}") == 0


def test_an_older_databases_tabs_get_the_sync_base_hidden_once_keeping_the_learners_columns(
    world: World,
) -> None:
    world.sync()
    with open_store(world.state_dir) as store:
        views = [v["view_id"] for v in store.get_json_meta("views")]
        ids = store.get_json_meta("column_ids")
        store.set_meta("next_up_filter", "2")  # as a database made by the previous version
    with NotionAdapter(world.sandbox.token, world.sandbox.base_url, rate_limit=0) as notion:
        for view_id in views:  # tabs made before the Sync base (not listed); the learner hid Notes
            config = notion.fetch_view(view_id)["configuration"]
            shown = [
                {**p, "visible": p["property_id"] != ids["notes"]}
                if p["property_id"] not in (ids["key"], ids["retired"])
                else p
                for p in config["properties"]
                if p["property_id"] != ids["base"]
            ]
            notion.update_view(view_id, {"configuration": {**config, "properties": shown}})
        world.sync()
        after = [notion.fetch_view(v)["configuration"]["properties"] for v in views]
    for properties in after:
        visible = {p["property_id"]: p["visible"] for p in properties}
        assert visible[ids["base"]] is False and visible[ids["key"]] is False
        assert visible.get(ids["notes"]) in (None, False)  # the learner's choice stays
    world.control.reset_requests()
    world.sync()
    assert world.control.request_count("PATCH /v1/views/{id}") == 0  # once


def test_creates_are_recorded_before_they_are_sent_and_looked_for_after_a_crash(
    world: World,
) -> None:
    world.control.add_fault("error", method="POST", route="/v1/pages", status=409, times=1)
    with pytest.raises(NotionRequestError):  # the run stops at its first create
        world.sync()
    with open_store(world.state_dir) as store:
        assert store.get_json_meta("pending_creates") == sorted(k for k, *_ in ITEMS)
    world.control.clear_faults()
    world.control.reset_requests()
    report = world.sync()
    assert world.keys() == sorted(k for k, *_ in ITEMS)
    assert report.counts()["create"] == len(ITEMS)
    # One query for the rows, then one look by Key for each create that may have landed.
    assert world.control.request_count("POST /v1/data_sources/{id}/query") == 1 + len(ITEMS)
    with open_store(world.state_dir) as store:
        assert store.get_json_meta("pending_creates") is None


def test_two_state_folders_growing_the_checklist_at_once_converge_to_one_row_per_key(
    world: World,
) -> None:
    world.sync()
    with open_store(world.state_dir) as store:
        database_id = store.get_meta("database_id")
    other = World(world.sandbox, world.state_dir.parent / "other-machine")
    other_settings = other.settings(NOTION_DATABASE_ID=database_id)
    other.sync(settings=other_settings)
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    extra = [
        (f"entry.general.extra{n}", f"Extra topic {n}", "Entry", "General", 10 + n)
        for n in range(6)
    ]
    grown = small_checklist([*ITEMS, *extra])
    reports: list[SyncReport] = []
    both = [
        Thread(target=lambda: reports.append(world.sync(checklist=grown))),
        Thread(target=lambda: reports.append(other.sync(checklist=grown, settings=other_settings))),
    ]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert len(reports) == 2  # neither run failed
    # Whatever the two made at once, one more sync on each side leaves one row per Key.
    world.sync(checklist=grown)
    other.sync(checklist=grown, settings=other_settings)
    keys = sorted(key_of(p) for p in world.rows())
    assert keys == sorted(k for k, *_ in [*ITEMS, *extra])
    assert world.sync(checklist=grown).plan.is_noop
    assert other.sync(checklist=grown, settings=other_settings).plan.is_noop
    assert world.snapshot_items()["entry.networks.cnn"].done
    assert other.snapshot_items()["entry.networks.cnn"].done
