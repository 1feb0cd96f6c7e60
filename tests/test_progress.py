"""The one owner of progress: counting, rounding and completions, from hand-built histories.

The histories follow the TickEvent contract: `from_status=None` is a first observation, `rebuilt`
marks one made by a state folder that did not know the item's past, `done_on` is the learner's
Done on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.checklist import parse_checklist
from sync.cli.history_cmd import render_event_line
from sync.model import ItemState, Status, TickEvent
from sync.open_items import in_progress_items, next_up
from sync.progress import (
    OWN_ITEMS,
    Completion,
    build_progress,
    build_timelines,
    completions_by_week,
    completions_in_week,
    percent_done,
    status_at,
)
from sync.weeks import build_week_window, parse_week

from .digest.scenarios import CHECKLIST_YAML

BERLIN = ZoneInfo("Europe/Berlin")
CHECKLIST = parse_checklist(CHECKLIST_YAML, "test")
W47 = build_week_window(parse_week("2026-W47"), BERLIN)  # Mon 16 Nov - Sun 22 Nov 2026
W48 = build_week_window(parse_week("2026-W48"), BERLIN)  # Mon 23 Nov - Sun 29 Nov 2026


def at(text: str) -> datetime:
    """A Berlin wall time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(timezone.utc)


def event(
    key: str,
    before: Status | None,
    after: Status,
    when: str,
    *,
    done_on: date | None = None,
    rebuilt: bool = False,
) -> TickEvent:
    return TickEvent(
        key, key, None, None, before, after, at(when), done_on=done_on, rebuilt=rebuilt
    )


def week_of(history: list[TickEvent], window: object = W48) -> list[Completion]:
    return completions_in_week(build_timelines(history, BERLIN), window)  # type: ignore[arg-type]


def state(key: str, status: Status, *, custom: bool = False, retired: bool = False) -> ItemState:
    return ItemState(
        key=key,
        page_id=f"page-{key}",
        title=key,
        level=None,
        category=None,
        order=None,
        status=status,
        custom=custom,
        retired=retired,
    )


# ------------------------------------------------------------------------------------ counting


def test_percent_is_rounded_down_so_100_means_all_done() -> None:
    assert percent_done(2, 3) == 66
    assert percent_done(199, 200) == 99
    assert percent_done(3, 3) == 100
    assert percent_done(0, 0) == 0


def test_skipped_items_leave_the_total_and_retired_items_do_not_count() -> None:
    items = {
        "entry.data.images": state("entry.data.images", "done"),
        "entry.data.text": state("entry.data.text", "skipped"),
        "entry.data.audio": state("entry.data.audio", "in_progress"),
        "custom.kaggle": state("custom.kaggle", "done", custom=True),
        "custom.old": state("custom.old", "done", custom=True, retired=True),
        "entry.gone": state("entry.gone", "done", retired=True),
    }
    report = build_progress(CHECKLIST, items)
    assert [level.name for level in report.levels] == [
        "Entry",
        "Intermediate",
        "Advanced",
        OWN_ITEMS,
    ]
    entry = report.levels[0]
    data = entry.categories[0]
    assert (data.name, data.tally.done, data.tally.total, data.tally.skipped) == (
        "Data handling",
        1,
        2,
        1,
    )
    assert (data.tally.in_progress, data.tally.percent) == (1, 50)
    assert (report.levels[-1].tally.done, report.levels[-1].tally.total) == (1, 1)
    overall = report.overall
    assert (overall.done, overall.total, overall.skipped, overall.percent) == (2, 10, 1, 20)


def test_next_up_is_the_open_checklist_items_in_order() -> None:
    statuses: dict[str, Status] = {"entry.data.images": "done", "entry.data.text": "skipped"}
    picked = next_up(CHECKLIST, lambda key: statuses.get(key, "not_started"), 3)
    assert [item.key for item in picked] == [
        "entry.data.audio",
        "entry.nets.dense",
        "entry.nets.cnn",
    ]


def test_next_up_leaves_out_items_in_progress_they_are_listed_apart() -> None:
    statuses: dict[str, Status] = {"entry.data.images": "in_progress", "entry.data.text": "done"}
    picked = next_up(CHECKLIST, lambda key: statuses.get(key, "not_started"), 2)
    assert [item.key for item in picked] == ["entry.data.audio", "entry.nets.dense"]


def test_in_progress_items_count_own_items_and_list_the_longest_first() -> None:
    own = ItemState("custom.blog", "p1", "Blog", None, None, None, "in_progress", custom=True)
    retired = replace(own, key="custom.old", retired=True)
    items = {"custom.blog": own, "custom.old": retired}
    history = [
        event("entry.nets.cnn", None, "in_progress", "2026-11-20 10:00"),
        event("custom.blog", None, "in_progress", "2026-11-02 10:00"),
        event("entry.data.images", None, "in_progress", "2026-11-25 10:00"),
        event("custom.old", None, "in_progress", "2026-11-01 10:00"),
    ]
    timelines = build_timelines(history, BERLIN, CHECKLIST)
    moment = at("2026-11-28 12:00")
    found = in_progress_items(
        CHECKLIST, items, timelines, status_at(timelines, items, moment), moment
    )
    assert found == [
        ("custom.blog", at("2026-11-02 10:00")),
        ("entry.nets.cnn", at("2026-11-20 10:00")),
        ("entry.data.images", at("2026-11-25 10:00")),
    ]


# --------------------------------------------------------------------------------- completions


def test_a_tick_counts_in_the_week_it_was_seen() -> None:
    history = [
        event("entry.data.images", None, "not_started", "2026-11-02 10:00"),
        event("entry.data.images", "not_started", "done", "2026-11-24 21:00"),
    ]
    assert week_of(history) == [Completion("entry.data.images", date(2026, 11, 24))]
    assert week_of(history, W47) == []


def test_a_re_tick_in_one_week_counts_once_on_its_last_day() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00"),
        event(key, "not_started", "done", "2026-11-24 21:00"),
        event(key, "done", "not_started", "2026-11-25 21:00"),
        event(key, "not_started", "done", "2026-11-26 21:00"),
    ]
    assert week_of(history) == [Completion(key, date(2026, 11, 26))]


def test_a_tick_undone_within_its_week_is_no_completion() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00"),
        event(key, "not_started", "done", "2026-11-24 21:00"),
        event(key, "done", "in_progress", "2026-11-26 21:00"),
    ]
    assert week_of(history) == []


def test_an_item_done_at_a_week_start_is_no_completion_again() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00"),
        event(key, "not_started", "done", "2026-11-18 21:00"),  # W47
        event(key, "done", "not_started", "2026-11-24 21:00"),  # W48: unticked ...
        event(key, "not_started", "done", "2026-11-25 21:00"),  # ... and ticked again
    ]
    by_week = completions_by_week(build_timelines(history, BERLIN), BERLIN, "mon")
    assert {str(week): done for week, done in by_week.items()} == {
        "2026-W47": [Completion(key, date(2026, 11, 18))]
    }


def test_an_own_item_added_already_ticked_counts() -> None:
    history = [
        event("entry.data.images", None, "not_started", "2026-11-02 10:00", rebuilt=True),
        event("custom.kaggle", None, "done", "2026-11-25 21:00"),
    ]
    assert week_of(history) == [Completion("custom.kaggle", date(2026, 11, 25))]


def test_a_rebuilt_state_seeing_a_done_item_without_done_on_is_no_completion() -> None:
    key = "entry.data.images"
    history = [event(key, None, "done", "2026-11-25 21:00", rebuilt=True)]
    timelines = build_timelines(history, BERLIN)
    assert completions_in_week(timelines, W48) == []
    assert timelines[key].status_before(W48.start) == "done"  # part of the starting point


def test_the_learners_done_on_wins_over_the_day_the_tick_was_seen() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00", rebuilt=True),
        event(key, "not_started", "done", "2026-11-24 09:00", done_on=date(2026, 11, 19)),
    ]
    assert week_of(history) == []
    assert week_of(history, W47) == [Completion(key, date(2026, 11, 19))]
    timelines = build_timelines(history, BERLIN)
    assert timelines[key].status_before(W48.start) == "done"


def test_a_rebuilt_state_seeing_a_dated_tick_counts_it_on_that_date() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "done", "2026-11-25 21:00", rebuilt=True, done_on=date(2026, 11, 17))
    ]
    assert week_of(history, W47) == [Completion(key, date(2026, 11, 17))]
    assert week_of(history) == []


def test_a_done_on_in_the_future_counts_on_the_day_the_tick_was_seen() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00"),
        event(key, "not_started", "done", "2026-11-24 21:00", done_on=date(2027, 1, 1)),
    ]
    assert week_of(history) == [Completion(key, date(2026, 11, 24))]


def test_a_backdated_tick_undone_later_stays_in_its_week_and_reopens_in_the_later_one() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00"),
        event(key, "not_started", "done", "2026-11-24 09:00", done_on=date(2026, 11, 19)),
        event(key, "done", "not_started", "2026-11-25 09:00"),
    ]
    timeline = build_timelines(history, BERLIN)[key]
    assert timeline.completed_in(W47.start, W47.end) == date(2026, 11, 19)
    assert timeline.reopened_in(W48.start, W48.end) == at("2026-11-25 09:00")


def test_the_completion_day_is_the_learners_local_day() -> None:
    key = "entry.data.images"
    history = [
        event(key, None, "not_started", "2026-11-02 10:00"),
        event(key, "not_started", "done", "2026-11-23 00:30"),  # Sunday 23:30 UTC
    ]
    assert week_of(history) == [Completion(key, date(2026, 11, 23))]


def test_status_at_a_moment_follows_the_history_else_the_stored_state() -> None:
    history = [
        event("entry.data.images", None, "not_started", "2026-11-02 10:00"),
        event("entry.data.images", "not_started", "in_progress", "2026-11-24 10:00"),
    ]
    items = {"entry.data.text": state("entry.data.text", "done")}
    status = status_at(build_timelines(history, BERLIN), items, W48.start)
    assert status("entry.data.images") == "not_started"
    assert status("entry.data.text") == "done"  # never in the history: the stored status
    later = status_at(build_timelines(history, BERLIN), items, W48.end)
    assert later("entry.data.images") == "in_progress"


# ------------------------------------------------------------------------------ any history


STATUSES: tuple[Status, ...] = ("not_started", "in_progress", "done", "skipped")
KEYS = ("entry.data.images", "entry.data.text", "custom.own")
MONDAY = date(2026, 11, 2)  # W45
WEEKS = [build_week_window(parse_week(f"2026-W{n}"), BERLIN) for n in range(45, 50)]

step = st.tuples(
    st.integers(0, 27),  # day after MONDAY
    st.integers(0, 23),  # hour
    st.sampled_from(KEYS),
    st.sampled_from(STATUSES),
    st.one_of(st.none(), st.integers(-20, 3)),  # Done on, in days from the tick's day
    st.booleans(),  # rebuilt (only meaningful on a first observation)
)


def build_history(steps: list[tuple[int, int, str, Status, int | None, bool]]) -> list[TickEvent]:
    events: list[TickEvent] = []
    last: dict[str, Status] = {}
    for day, hour, key, status, dated, rebuilt in sorted(steps, key=lambda s: (s[0], s[1])):
        if last.get(key) == status:
            continue
        when = datetime.combine(MONDAY + timedelta(days=day), time(hour), tzinfo=BERLIN)
        done_on = (
            MONDAY + timedelta(days=day + dated) if dated is not None and status == "done" else None
        )
        events.append(
            TickEvent(
                key,
                key,
                None,
                None,
                last.get(key),
                status,
                when.astimezone(timezone.utc),
                done_on=done_on,
                rebuilt=rebuilt and key not in last,
            )
        )
        last[key] = status
    return events


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=14))
def test_completions_hold_for_any_history(steps: list[Any]) -> None:
    history = build_history(steps)
    timelines = build_timelines(history, BERLIN)
    by_week = completions_by_week(timelines, BERLIN, "mon")
    for event in history:  # the history's last word is the status now
        assert (
            timelines[event.key].status_before(WEEKS[-1].end)
            == [e.to_status for e in history if e.key == event.key][-1]
        )
    for window in WEEKS:
        found = completions_in_week(timelines, window)
        assert found == by_week.get(window.week, [])
        assert len({c.key for c in found}) == len(found)  # an item at most once a week
        for completion in found:
            assert window.first_day <= completion.day <= window.last_day
        for key, timeline in timelines.items():
            began = timeline.status_before(window.start) == "done"
            ended = timeline.status_before(window.end) == "done"
            counted = any(c.key == key for c in found)
            spell = timeline.covering(window.end)
            assert counted == (ended and not began and spell is not None and spell.counted)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=14))
def test_without_learner_dates_a_completion_is_done_at_the_weeks_end_but_not_its_start(
    steps: list[Any],
) -> None:
    history = [replace(e, done_on=None, rebuilt=False) for e in build_history(steps)]
    timelines = build_timelines(history, BERLIN)

    def seen(key: str, moment: datetime) -> Status | None:
        statuses = [e.to_status for e in history if e.key == key and e.observed_at < moment]
        return statuses[-1] if statuses else None

    for window in WEEKS:
        expected = {
            key
            for key in timelines
            if seen(key, window.end) == "done" and seen(key, window.start) != "done"
        }
        assert {c.key for c in completions_in_week(timelines, window)} == expected


def test_done_before_tracking_is_a_rebuilt_first_sight_of_done_without_the_learners_date() -> None:
    key = "entry.data.images"
    baseline = event(key, None, "done", "2026-11-25 21:00", rebuilt=True)
    dated = event(key, None, "done", "2026-11-25 21:00", rebuilt=True, done_on=date(2026, 11, 3))
    added = event(key, None, "done", "2026-11-25 21:00")
    assert baseline.done_before_tracking
    assert not dated.done_before_tracking and not added.done_before_tracking
    assert render_event_line(baseline, BERLIN).endswith(", done before tracking began")
    assert render_event_line(dated, BERLIN).endswith(", done on 2026-11-03")
