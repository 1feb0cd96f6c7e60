"""The grid's rules, pure: a learner's own checklist from their rows, stalled, behind, longest."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sync.cohort.grid import (
    LearnerNumbers,
    Started,
    build_cohort_grid,
    build_learner_checklist,
    build_learner_numbers,
)
from sync.model import ItemState, Status, TickEvent
from sync.progress import OWN_ITEMS, Tally, build_progress
from sync.weeks import build_week_window, week_containing

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)  # a Friday


def item(
    key: str,
    level: str | None,
    category: str | None,
    order: float | None,
    status: Status = "not_started",
    *,
    retired: bool = False,
) -> ItemState:
    return ItemState(
        key=key,
        page_id=f"p-{key}",
        title=key.rsplit(".", 1)[-1].title(),
        level=level,
        category=category,
        order=order,
        status=status,
        custom=key.startswith("custom."),
        retired=retired,
    )


ITEMS = {
    s.key: s
    for s in (
        item("adv.general.rl", "Advanced", "General", 1, "done"),
        item("entry.general.b", "Entry", "General", 2),
        item("entry.general.a", "Entry", "General", 1, "done"),
        item("entry.networks.cnn", "Entry", "Networks", 1, "skipped"),
        item("entry.old.gone", "Entry", "Old", 1, "done", retired=True),
        item("custom.my-project", "Entry", "General", None, "in_progress"),
    )
}
OPTIONS = {"level": ["Entry", "Advanced"], "category": ["Networks", "General", "Old"]}


def test_the_checklist_comes_from_the_rows_in_the_schemas_option_order() -> None:
    checklist = build_learner_checklist("Ada", ITEMS, OPTIONS)
    assert checklist is not None
    assert [lv.name for lv in checklist.levels] == ["Entry", "Advanced"]
    assert checklist.levels[0].categories == ("Networks", "General")  # Old: only retired rows
    assert [i.key for i in checklist.ordered_items()] == [
        "entry.networks.cnn",
        "entry.general.a",
        "entry.general.b",
        "adv.general.rl",
    ]
    report = build_progress(checklist, ITEMS)
    assert [g.name for g in report.levels] == ["Entry", "Advanced", OWN_ITEMS]
    assert report.overall == Tally(done=2, total=4, in_progress=1, skipped=1)


def test_rows_without_level_or_category_still_count() -> None:
    items = {"x.y.z": item("x.y.z", None, None, None, "done")}
    checklist = build_learner_checklist("Bo", items, {})
    assert checklist is not None and checklist.levels[0].name == "No level"
    assert build_progress(checklist, items).overall == Tally(done=1, total=1)


def test_a_learner_with_only_own_items_counts_them() -> None:
    items = {"custom.a": item("custom.a", None, None, None, "done")}
    numbers = numbers_for(items, [])
    assert numbers.overall == Tally(done=1, total=1)
    assert [g.name for g in numbers.levels] == [OWN_ITEMS]


def tick(key: str, day: date, *, first: bool = False) -> TickEvent:
    return TickEvent(
        key=key,
        title=key,
        level="Entry",
        category="General",
        from_status=None if first else "not_started",
        to_status="done",
        observed_at=datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=9),
        done_on=day,
    )


def numbers_for(items: dict[str, ItemState], history: list[TickEvent]) -> LearnerNumbers:
    window = build_week_window(week_containing(NOW, UTC), UTC)
    return build_learner_numbers(
        "Ada",
        "db",
        items,
        history,
        OPTIONS,
        now=NOW,
        zone=UTC,
        week_start="mon",
        window=window,
        stalled_days=7,
    )


def test_stalled_means_no_completion_in_the_last_n_days() -> None:
    today = NOW.date()
    six = numbers_for(ITEMS, [tick("entry.general.a", today - timedelta(days=6))])
    seven = numbers_for(ITEMS, [tick("entry.general.a", today - timedelta(days=7))])
    never = numbers_for(ITEMS, [])
    assert not six.stalled and seven.stalled and never.stalled
    assert six.last_completion == today - timedelta(days=6)
    assert six.heat == {today - timedelta(days=6): 1}


def test_this_weeks_completions_and_last_activity() -> None:
    monday = date(2026, 11, 16)
    numbers = numbers_for(
        ITEMS, [tick("entry.general.a", monday), tick("adv.general.rl", monday - timedelta(days=3))]
    )
    assert [c.key for c in numbers.completed] == ["entry.general.a"]
    assert numbers.last_activity == monday


def learner(name: str, percent_done: int, reachable: bool = True) -> LearnerNumbers:
    return LearnerNumbers(name, name, overall=Tally(percent_done, 100), reachable=reachable)


def test_behind_is_below_the_median_of_the_reachable_learners() -> None:
    grid = build_cohort_grid(
        [learner("a", 10), learner("b", 50), learner("c", 90), learner("gone", 0, False)],
        now=NOW,
    )
    assert grid.median_percent == 50
    assert [n.name for n in grid.learners if n.behind] == ["a"]


def test_the_items_in_progress_the_longest_sum_days_over_learners() -> None:
    since = NOW - timedelta(days=10)
    one = LearnerNumbers("a", "a", in_progress=(Started("k.x.y", "Y", since),))
    two = LearnerNumbers(
        "b",
        "b",
        in_progress=(Started("k.x.y", "Y", NOW - timedelta(days=4)), Started("k.x.z", "Z", since)),
    )
    grid = build_cohort_grid([one, two], now=NOW)
    assert [(s.key, s.learners, s.days) for s in grid.longest_started] == [
        ("k.x.y", 2, 14),
        ("k.x.z", 1, 10),
    ]


def test_the_sandbox_cohort_call_refuses_a_bad_body() -> None:
    from sync.sandbox.cohort import make_cohort
    from sync.sandbox.store import Workspace
    from sync.sandbox.validate import NotionError

    ws = Workspace(seed=1)
    for body in ({"learners": 0, "items": [{"key": "a.b"}]}, {"learners": 2, "items": []}):
        with pytest.raises(NotionError) as refused:
            make_cohort(ws, body)
        assert refused.value.status == 400
