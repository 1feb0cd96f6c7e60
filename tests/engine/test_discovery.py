"""Discovery of the checklist database under the parent page, against the sandbox: past more than
100 other blocks, inside a column, beside a linked database, with the Key column renamed, in a
database with several data sources; and the mark that makes it possible."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync.discovery import fetch_child_database_ids, find_checklist_databases
from sync.errors import DatabaseGoneError, SafetyHaltError
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import build_database_schema
from sync.notion.mark import parse_mark
from sync.progress import build_timelines, completions_by_week, completions_in_week
from sync.store import open_store
from sync.weeks import build_week_window, week_of_day
from tests.engine.conftest import ITEMS, World
from tests.sandbox_fixtures import make_notion_client, text

# a Wednesday noon, time flowing; sync, push, pull under each Notion-Version
pytestmark = pytest.mark.usefixtures("fixed_clock", "each_notion_version")


def _adapter(world: World) -> NotionAdapter:
    return NotionAdapter(world.sandbox.token, world.sandbox.base_url, rate_limit=0)


def _fresh_state(world: World) -> None:
    """Another machine: the same settings, an empty state folder."""
    shutil.rmtree(world.state_dir)


def _database_id(world: World) -> str:
    with open_store(world.state_dir) as store:
        value = store.get_meta("database_id")
    assert value is not None
    return value


def _append_paragraphs(world: World, count: int) -> None:
    client = make_notion_client(world.sandbox)
    try:
        for start in range(0, count, 100):
            blocks = [
                {"type": "paragraph", "paragraph": {"rich_text": text(f"note {i}")}}
                for i in range(start, min(count, start + 100))
            ]
            client.blocks.children.append(world.sandbox.root_page_id, children=blocks)
    finally:
        client.close()


def _databases(world: World) -> list[dict[str, Any]]:
    ws = world.sandbox.workspace
    return [d for d in ws.databases.values() if not d["in_trash"] and not d.get("linked_to")]


def test_the_database_is_found_after_more_than_100_other_blocks(world: World) -> None:
    _append_paragraphs(world, 150)
    world.sync()
    database_id = _database_id(world)
    _fresh_state(world)
    report = world.sync()
    assert report.found_database and not report.created_database
    assert _database_id(world) == database_id and len(_databases(world)) == 1
    children = [
        e for e in world.control.requests()["entries"] if e["route"] == "/v1/blocks/{id}/children"
    ]
    assert len(children) >= 2  # followed the cursor past the first 100 blocks


def test_the_database_is_found_inside_a_column_beside_a_linked_database(world: World) -> None:
    world.sync()
    database_id = _database_id(world)
    world.control.move_into_columns(database_id)
    linked = world.control.add_linked_database(world.sandbox.root_page_id, database_id)
    with _adapter(world) as notion:
        found = fetch_child_database_ids(notion, world.sandbox.root_page_id)
    assert sorted(found) == sorted([database_id, linked])
    _fresh_state(world)
    report = world.sync()
    assert report.found_database and _database_id(world) == database_id
    assert world.writes() == 0 or report.counts()["create"] == 0
    assert len(_databases(world)) == 1


def test_a_renamed_key_column_is_still_recognised_by_the_mark(world: World) -> None:
    world.sync()
    database_id = _database_id(world)
    world.control.rename_property(world.data_source_id, "Key", "Item id")
    world.control.rename_property(world.data_source_id, "Done", "Ticked")
    _fresh_state(world)
    report = world.sync()
    assert report.found_database and _database_id(world) == database_id
    assert report.counts()["create"] == 0
    assert sorted(
        p["properties"]["Item id"]["rich_text"][0]["plain_text"] for p in world.rows()
    ) == (sorted(k for k, *_ in ITEMS))


def test_the_mark_records_the_data_source_and_column_ids(world: World) -> None:
    world.sync()
    with _adapter(world) as notion:
        database = notion.fetch_database(_database_id(world))
        source = notion.fetch_data_source(world.data_source_id)
    mark = parse_mark(database["description"])
    assert mark is not None and mark.data_source_id == world.data_source_id
    assert mark.column_ids["key"] == source["properties"]["Key"]["id"]
    assert mark.column_ids["done"] == source["properties"]["Done"]["id"]


def test_an_earlier_versions_database_without_the_mark_is_adopted_and_marked(
    world: World,
) -> None:
    client = make_notion_client(world.sandbox)
    try:
        schema = build_database_schema(["Entry", "Advanced"], ["Networks", "General"])
        created: Any = client.databases.create(
            parent={"type": "page_id", "page_id": world.sandbox.root_page_id},
            title=text("Small checklist"),
            initial_data_source={"properties": schema},
        )
    finally:
        client.close()
    report = world.sync()
    assert report.found_database and _database_id(world) == created["id"]
    with _adapter(world) as notion:
        assert parse_mark(notion.fetch_database(created["id"])["description"]) is not None


def test_a_database_that_is_not_ours_is_left_alone(world: World) -> None:
    client = make_notion_client(world.sandbox)
    try:
        client.databases.create(
            parent={"type": "page_id", "page_id": world.sandbox.root_page_id},
            title=text("Reading list"),
            initial_data_source={"properties": {"Name": {"title": {}}, "Key": {"rich_text": {}}}},
        )
    finally:
        client.close()
    report = world.sync()
    assert report.created_database and not report.found_database
    assert len(_databases(world)) == 2


def test_with_several_data_sources_the_one_with_our_columns_is_used(world: World) -> None:
    world.sync()
    database_id = _database_id(world)
    data_source_id = world.data_source_id
    client = make_notion_client(world.sandbox)
    try:
        other: Any = client.request(
            path="data_sources",
            method="POST",
            body={
                "parent": {"type": "database_id", "database_id": database_id},
                "title": text("Reading list"),
                "properties": {"Name": {"title": {}}},
            },
        )
    finally:
        client.close()
    _fresh_state(world)
    report = world.sync()
    assert report.found_database and world.data_source_id == data_source_id != other["id"]
    # Also when the database is named in the settings.
    _fresh_state(world)
    world.sync(settings=world.settings(NOTION_DATABASE_ID=database_id))
    assert world.data_source_id == data_source_id


def test_two_of_ours_halt_and_write_nothing(world: World) -> None:
    world.sync()
    client = make_notion_client(world.sandbox)
    try:
        client.databases.create(
            parent={"type": "page_id", "page_id": world.sandbox.root_page_id},
            title=text("Small checklist"),
            initial_data_source={
                "properties": build_database_schema(["Entry"], ["Networks", "General"])
            },
        )
    finally:
        client.close()
    _fresh_state(world)
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError) as halt:
        world.sync()
    assert halt.value.exit_code == 8 and len(halt.value.details) == 2
    assert world.writes() == 0
    with _adapter(world) as notion:
        assert len(find_checklist_databases(notion, world.sandbox.root_page_id)) == 2


def test_a_trashed_database_halts_even_when_named_in_the_settings(world: World) -> None:
    world.sync()
    database_id = _database_id(world)
    client = make_notion_client(world.sandbox)
    try:
        client.databases.update(database_id, in_trash=True)
    finally:
        client.close()
    _fresh_state(world)
    world.control.reset_requests()
    with pytest.raises(DatabaseGoneError) as gone:
        world.sync(settings=world.settings(NOTION_DATABASE_ID=database_id))
    assert gone.value.exit_code == 13 and world.writes() == 0


BASE = "Sync base (leave as is)"


def test_a_rebuilt_history_dates_done_items_by_done_on_or_before_tracking(world: World) -> None:
    world.sync()
    today = datetime.now(timezone.utc).date()
    earlier = today - timedelta(days=10)
    dense = world.page_of("entry.networks.dense")["id"]
    cnn = world.page_of("entry.networks.cnn")["id"]
    rnn = world.page_of("entry.networks.rnn")["id"]
    world.control.tick(dense)
    world.control.set_date(dense, "Done on", earlier.isoformat())
    world.control.tick(cnn)  # no Done on, no base (an older version's row): done before tracking
    world.control.set_text(cnn, BASE, "")
    world.control.tick(rnn)  # ticked since the base the tool wrote: a tick made while away
    _fresh_state(world)
    world.sync()
    history = [e for e in world.history() if e.to_status == "done"]
    assert {(e.key, e.done_on, e.rebuilt) for e in history} == {
        ("entry.networks.dense", earlier, False),
        ("entry.networks.cnn", None, True),
        ("entry.networks.rnn", None, False),
    }
    filled = world.page_of("entry.networks.rnn")["properties"]["Done on"]["date"]
    assert filled is not None  # dated the day it is first seen
    assert world.page_of("entry.networks.cnn")["properties"]["Done on"]["date"] is None
    zone = ZoneInfo("UTC")
    timelines = build_timelines(world.history(), zone)
    by_week = completions_by_week(timelines, zone, "mon")
    counted = {c.key for found in by_week.values() for c in found}
    assert counted == {"entry.networks.dense", "entry.networks.rnn"}
    assert "entry.networks.dense" in [c.key for c in by_week[week_of_day(earlier)]]
    this_week = build_week_window(week_of_day(today), zone)
    expected = ["entry.networks.rnn"]
    if week_of_day(earlier) == week_of_day(today):
        expected = ["entry.networks.dense", "entry.networks.rnn"]
    assert [c.key for c in completions_in_week(timelines, this_week)] == expected


def test_a_marked_database_without_its_key_column_is_still_ours(world: World) -> None:
    world.sync()
    database_id = _database_id(world)
    world.control.delete_property(world.data_source_id, "Key")
    with _adapter(world) as notion:
        found = find_checklist_databases(notion, world.sandbox.root_page_id)
    assert [f.database_id for f in found] == [database_id]
