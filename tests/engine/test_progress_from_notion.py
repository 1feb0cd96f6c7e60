"""Progress from real syncs against the sandbox: the learner's Done on wins, an own row added
ticked counts, and a second state folder on the same database tells the same completions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sync.store import open_store
from tests.cli.agreement import assert_numbers_agree, read_numbers
from tests.engine.conftest import World, small_checklist_text

pytestmark = pytest.mark.usefixtures("fixed_clock")  # a Wednesday noon, time flowing


def test_done_on_wins_and_a_second_state_folder_counts_the_same(
    world: World, tmp_path: Path
) -> None:
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(small_checklist_text(), encoding="utf-8")
    world.sync()
    last_week = datetime.now(timezone.utc).date() - timedelta(days=7)  # before this week
    dense = world.page_of("entry.networks.dense")["id"]
    world.control.tick(dense)
    world.control.set_date(dense, "Done on", last_week.isoformat())
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    world.control.add_row(world.data_source_id, "Kaggle: Titanic", {"Done": {"checkbox": True}})
    world.sync()

    ticked = {e.key: e for e in world.history() if e.to_status == "done"}
    assert ticked["entry.networks.dense"].done_on == last_week  # the learner's date
    assert ticked["entry.networks.cnn"].done_on is None  # the tool fills it: not the learner's
    now = ticked["entry.networks.cnn"].observed_at + timedelta(seconds=1)  # right after the sync
    today = now.date()
    this_week = assert_numbers_agree(world.state_dir, checklist, "UTC", now)
    assert this_week == [
        ("entry.networks.cnn", today.isoformat()),
        ("custom.kaggle-titanic", today.isoformat()),
    ]
    _, _, digest = read_numbers(world.state_dir, checklist, "UTC", now)
    assert digest["is_first"]  # tracking began this week: last week's tick is the starting point
    assert (digest["starting_point"]["done"], digest["overall"]["done"]) == (1, 3)

    # A second machine (a new state folder) adopts the database: every done row carries a Done
    # on by now (the learner's or the tool's), so it dates the same completions.
    other = World(world.sandbox, tmp_path / "other-state")
    with open_store(world.state_dir) as store:
        database_id = store.get_meta("database_id")
    other.sync(settings=other.settings(NOTION_DATABASE_ID=database_id))
    assert all(e.rebuilt for e in other.history() if e.to_status == "done")
    assert assert_numbers_agree(other.state_dir, checklist, "UTC", now) == this_week
