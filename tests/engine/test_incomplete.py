"""A query Notion cut short (`request_status: incomplete`, past its cap on rows per query) is never
taken for the whole table: it is read again by creation time, or the run halts before writing.
Tested with the sandbox's cap lowered to 3 rows, not with 10,000 rows."""

from __future__ import annotations

from collections import Counter

import pytest

from sync.errors import SafetyHaltError
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import resolve_columns
from sync.row_reads import ONE_PAGE
from tests.engine.conftest import ITEMS, World, key_of, small_checklist

pytestmark = pytest.mark.usefixtures("each_notion_version")
CAP = 3
NOTHING_LOST = ("retire", "trash", "trash-duplicate", "create")


def push_in_three_minutes(world: World) -> None:
    """The 5 items created 2, 2 and 1 at a time, each batch a minute apart (rounded times)."""
    for count in (2, 4, 5):
        world.sync("push", checklist=small_checklist(ITEMS[:count]))
        world.control.advance_clock(90)


def ticked(world: World) -> set[str]:
    return {key for key, item in world.snapshot_items().items() if item.status == "done"}


def test_a_full_read_past_the_cap_is_read_by_creation_time_and_loses_nothing(
    world: World,
) -> None:
    push_in_three_minutes(world)
    for key in ("entry.networks.dense", "advanced.general.rl"):
        world.control.tick(world.page_of(key)["id"])
    world.sync()
    assert ticked(world) == {"entry.networks.dense", "advanced.general.rl"}
    world.control.tick(world.page_of("entry.general.callbacks")["id"])
    world.control.set_limits(max_query_results=CAP)
    world.control.reset_requests()
    report = world.sync(full=True)
    counts = report.counts()
    assert counts["tick"] == 1 and all(counts[verb] == 0 for verb in NOTHING_LOST)
    assert ticked(world) == {
        "entry.networks.dense",
        "advanced.general.rl",
        "entry.general.callbacks",
    }
    assert len(world.rows()) == len(ITEMS) and not world.rows(include_trashed=True)[5:]
    queries = [e for e in world.control.requests()["entries"] if e["route"].endswith("/query")]
    assert len(queries) == 3  # cut short, then two windows by creation time


def test_when_one_minute_holds_more_than_the_cap_the_run_halts_and_writes_nothing(
    world: World,
) -> None:
    world.sync()  # all 5 rows created in the same minute
    world.control.tick(world.page_of("entry.networks.cnn")["id"])
    world.sync()
    before = world.snapshot_items()
    world.control.tick(world.page_of("entry.networks.rnn")["id"])
    world.control.set_limits(max_query_results=CAP)
    world.control.reset_requests()
    with pytest.raises(SafetyHaltError, match="query_result_limit_reached") as caught:
        world.sync(full=True)
    assert caught.value.exit_code == 8 and "10,000" in (caught.value.hint or "")
    assert world.writes() == 0
    assert world.snapshot_items() == before  # nothing retired, trashed or un-ticked
    assert len(world.rows()) == len(ITEMS)
    world.control.set_limits(max_query_results=None)
    assert world.sync(full=True).counts()["tick"] == 1  # the tick was not lost


def test_an_incremental_read_past_the_cap_is_read_whole(world: World) -> None:
    # A table over one page, so a pull reads only what changed (a delta, not a full read).
    fillers = [
        (f"entry.general.filler{n:03d}", f"Filler {n}", "Entry", "General", n + 10)
        for n in range(ONE_PAGE + 1 - len(ITEMS))
    ]
    world.sync("push", checklist=small_checklist(fillers))
    world.control.advance_clock(90)
    for count in (2, 4, 5):  # the 5 items created 2, 2 and 1 at a time, a minute apart
        world.sync("push", checklist=small_checklist([*fillers, *ITEMS[:count]]))
        world.control.advance_clock(90)
    world.checklist = small_checklist([*fillers, *ITEMS])
    world.sync(full=True)  # a full read: the next pull reads only what changed
    world.control.advance_clock(180)
    for key, *_ in ITEMS:
        world.control.tick(world.page_of(key)["id"])
    world.control.set_limits(max_query_results=CAP)
    world.control.reset_requests()
    report = world.sync("pull")
    assert report.read == "delta"
    assert report.counts()["tick"] == len(ITEMS)
    assert all(report.counts()[verb] == 0 for verb in NOTHING_LOST)
    assert ticked(world) == {key for key, *_ in ITEMS}
    queries = [e for e in world.control.requests()["entries"] if e["route"].endswith("/query")]
    assert len(queries) >= 2  # the delta cut short, then read again by creation time


def test_a_key_look_up_past_the_cap_finds_every_row_with_that_key(world: World) -> None:
    world.sync()
    source = world.data_source_id
    key = {"Key": {"rich_text": [{"type": "text", "text": {"content": "entry.networks.cnn"}}]}}
    for _ in range(4):  # duplicates (another machine's creates), each a minute later
        world.control.advance_clock(90)
        world.control.add_row(source, "Convolutional neural networks", key)
    world.control.set_limits(max_query_results=CAP)
    settings = world.settings()
    with NotionAdapter(
        settings.token or "",
        settings.notion_base_url,
        rate_limit=0,
        notion_version=settings.notion_version,
    ) as notion:
        columns = resolve_columns(notion.fetch_data_source(source)["properties"], {})
        found = notion.find_rows_by_key(source, columns, "entry.networks.cnn")
    assert len(found) == 5 and len({page["id"] for page in found}) == 5
    assert Counter(key_of(page) for page in found) == {"entry.networks.cnn": 5}
