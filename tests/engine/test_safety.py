"""Safety halts (before any write), schema drift, the lock, and the errors users meet."""

from __future__ import annotations

import uuid

import pytest

from sync.errors import (
    BusyError,
    NotionAuthError,
    NotionNotFoundError,
    NotionUnavailableError,
    SafetyHaltError,
)
from sync.lock import hold_sync_lock
from sync.store import open_store
from tests.engine.conftest import ITEMS, World, small_checklist


def state_items(world: World) -> dict[str, object]:
    with open_store(world.state_dir) as store:
        return dict(store.load_items())


def test_notion_returning_no_rows_halts_until_forced(world: World) -> None:
    world.sync()
    for page in world.rows():
        world.control.trash(page["id"])
    remembered = state_items(world)
    world.control.reset_requests()
    # A table of one page is read in full by every sync: the very next one halts.
    with pytest.raises(SafetyHaltError, match="no rows") as caught:
        world.sync()
    assert caught.value.exit_code == 8 and "--force" in caught.value.hint
    assert world.writes() == 0 and state_items(world) == remembered
    world.sync(force=True)
    assert len(world.rows()) == len(ITEMS)


def test_retiring_more_than_a_quarter_halts(world: World) -> None:
    world.sync()
    two_left = small_checklist(ITEMS[:2])
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError, match="3 of 5 rows would be retired"):
        world.sync(checklist=two_left)
    assert world.writes() == 0
    report = world.sync(checklist=two_left, force=True)
    assert report.counts()["retire"] == 3


def test_a_retyped_column_halts_naming_the_column_and_the_fix(world: World) -> None:
    world.sync()
    world.control.retype_property(world.data_source_id, "Order", {"rich_text": {}})
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError, match='"Order" is a rich_text property') as caught:
        world.sync(force=True)
    assert "number" in caught.value.hint
    assert world.writes() == 0


def test_a_deleted_column_of_ours_is_added_back(world: World) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.dense")["id"])
    world.control.delete_property(world.data_source_id, "Description")
    report = world.sync()
    assert report.plan.notion_actions[0].verb == "add-columns"
    assert report.counts()["update"] == len(ITEMS)  # descriptions written again
    assert world.snapshot_items()["entry.networks.dense"].done
    assert world.sync().plan.is_noop


def test_a_column_the_learner_renamed_is_followed_by_its_id(world: World) -> None:
    world.sync()
    world.control.rename_property(world.data_source_id, "Done", "Finished ✅")
    world.control.tick(world.page_of("entry.networks.cnn")["id"], prop="Finished ✅")
    report = world.sync()
    assert report.counts()["tick"] == 1
    assert world.snapshot_items()["entry.networks.cnn"].done
    names = world.sandbox.control.pages(world.data_source_id)[0]["properties"]
    assert "Done" not in names  # nothing re-added beside the renamed column


def test_a_second_sync_waits_for_the_lock_then_says_another_is_running(world: World) -> None:
    world.sync()
    settings = world.settings(DSPROGRESS_LOCK_TIMEOUT="0.2")
    with hold_sync_lock(world.state_dir, 1), pytest.raises(BusyError) as caught:
        world.sync(settings=settings)
    assert caught.value.exit_code == 9
    assert world.sync(settings=settings).plan.is_noop  # free again afterwards


def test_a_rejected_token(world: World) -> None:
    with pytest.raises(NotionAuthError) as caught:
        world.sync(settings=world.settings(NOTION_TOKEN="ntn_wrongtoken000000"))
    assert caught.value.exit_code == 5
    assert "wrongtoken" not in str(caught.value)


def test_a_parent_page_not_shared_with_the_integration(world: World) -> None:
    settings = world.settings(NOTION_PARENT_PAGE_ID=world.sandbox.unshared_page_id)
    with pytest.raises(NotionNotFoundError, match="NOTION_PARENT_PAGE_ID") as caught:
        world.sync(settings=settings)
    assert caught.value.exit_code == 6 and "Connections" in caught.value.hint


def test_a_database_id_that_does_not_exist(world: World) -> None:
    settings = world.settings(NOTION_DATABASE_ID=str(uuid.uuid4()))
    with pytest.raises(NotionNotFoundError, match="NOTION_DATABASE_ID"):
        world.sync(settings=settings)


def test_network_down_is_reported_after_retries(world: World, unused_port: int) -> None:
    settings = world.settings(NOTION_BASE_URL=f"http://127.0.0.1:{unused_port}")
    from sync.notion.adapter import NotionAdapter
    from sync.notion.pacing import RetryPolicy

    adapter = NotionAdapter(
        settings.token or "",
        settings.notion_base_url,
        rate_limit=0,
        policy=RetryPolicy(max_attempts=3, base_delay=0.01),
    )
    with pytest.raises(NotionUnavailableError, match="cannot reach Notion") as caught:
        world.sync(settings=settings, adapter=adapter)
    assert caught.value.exit_code == 7
    assert not (world.state_dir / "snapshot.json").exists()


def test_an_existing_database_is_adopted_by_id(world: World) -> None:
    from tests.sandbox_fixtures import create_checklist_database, make_notion_client

    client = make_notion_client(world.sandbox)
    existing = create_checklist_database(client, world.sandbox.root_page_id, "My tracker")
    client.close()
    keyed = world.control.add_row(
        existing.data_source_id,
        "CNNs (my title)",
        {
            "Key": {"rich_text": [{"type": "text", "text": {"content": "entry.networks.cnn"}}]},
            "Done": {"checkbox": True},
        },
    )
    own = world.control.add_row(existing.data_source_id, "Read a paper")
    view_url = (
        f"https://www.notion.so/ws/{existing.database_id.replace('-', '')}"
        "?v=0123456789abcdef0123456789abcdef"
    )
    report = world.sync(settings=world.settings(NOTION_DATABASE_ID=view_url))
    assert not report.created_database and report.database_id == existing.database_id
    assert report.counts()["create"] == len(ITEMS) - 1 and report.counts()["adopt"] == 1
    schema = world.control.pages(existing.data_source_id)[0]["properties"]
    assert {"Category", "Order", "Description", "Retired", "Hours"} <= set(schema)
    items = world.snapshot_items()
    assert items["entry.networks.cnn"].page_id == keyed and items["entry.networks.cnn"].done
    assert items["custom.read-a-paper"].page_id == own


def test_deleting_the_done_column_halts_instead_of_losing_ticks(world: World) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    world.sync()
    world.control.delete_property(world.data_source_id, "Done")
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError, match='"Done" column is gone') as caught:
        world.sync()
    assert "doctor --fix" in caught.value.hint
    assert world.writes() == 0
    assert world.snapshot_items()["entry.networks.cnn"].done


def test_a_deleted_key_column_is_added_back_and_each_row_gets_its_key_tick_kept(
    world: World,
) -> None:
    world.sync()
    world.control.tick(world.page_of("entry.networks.dense")["id"])
    pages_before = {p["id"] for p in world.sandbox.control.pages(world.data_source_id)}
    world.control.delete_property(world.data_source_id, "Key")
    report = world.sync()
    assert report.plan.notion_actions[0].verb == "add-columns"
    assert report.counts()["create"] == 0
    assert {p["id"] for p in world.sandbox.control.pages(world.data_source_id)} == pages_before
    assert world.page_of("entry.networks.dense")["id"] in pages_before
    assert world.snapshot_items()["entry.networks.dense"].done
    assert world.sync().plan.is_noop
