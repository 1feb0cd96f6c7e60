"""reconcile: one case per row of its tables, and the tool's derived writes (`plan_learner`) that
make Done and Status tell one story. Pure: no Notion, no files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from sync.actions import AlignFields, FillDoneOn
from sync.model import ItemState, RemoteRow
from sync.plan import plan_learner
from sync.reconcile import Observation, reconcile_row, resolve_status
from sync.row_base import RowBase, build_base_text

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
LAST = datetime(2026, 11, 27, 11, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 27)
KEY = "entry.networks.dense"


def row(done: bool = False, option: str | None = "Not started", **kw: object) -> RemoteRow:
    return RemoteRow(
        page_id="p1", url="", key=KEY, title="Dense", done=done, status_option=option, **kw
    )  # type: ignore[arg-type]


def seen(done: bool = False, option: str | None = "Not started", **kw: object) -> ItemState:
    """The state recorded after observing `row(done, option)`, with `kw` replaced."""
    first = reconcile_row(
        KEY, row(done, option), None, at=LAST, window_start=None, rebuilt=False, in_checklist=True
    )
    return replace(first.state, **kw)  # type: ignore[arg-type]


def observe(
    r: RemoteRow,
    before: ItemState | None,
    rebuilt: bool = False,
    wrote: dict[str, object] | None = None,
    filled: date | None = None,
) -> Observation:
    return reconcile_row(
        KEY,
        r,
        before,
        at=NOW,
        window_start=LAST,
        rebuilt=rebuilt,
        in_checklist=True,
        wrote=wrote,
        filled=filled,
    )


# -- resolve_status ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("done", "option", "before", "expected"),
    [
        (True, "Done", None, "done"),  # coherent, done
        (False, "In progress", None, "in_progress"),  # coherent: Status decides
        (False, None, None, "not_started"),
        (True, "Not started", (True, "Done"), "not_started"),  # only Status moved: it wins
        (True, "Skipped", (True, "Done"), "skipped"),  # Skipped is never done
        (True, "Not started", (False, "Not started"), "done"),  # the tick is new: done
        (True, "Skipped", (False, "In progress"), "done"),  # both moved: done wins
        (True, "In progress", None, "done"),  # never observed: done wins
        (False, "Done", (False, "Not started"), "done"),  # Status Done is new: done
        (False, "Done", (True, "Done"), "not_started"),  # only Done moved (untick)
        (False, "Done", None, "done"),  # never observed: done wins
    ],
)
def test_the_field_the_learner_changed_wins_and_otherwise_done_wins(
    done: bool, option: str, before: tuple[bool, str] | None, expected: str
) -> None:
    state = None if before is None else seen(*before)
    assert resolve_status(done, option, state) == expected


def test_an_untick_goes_back_to_in_progress_when_it_was() -> None:
    before = seen(True, "Done", in_progress_since=LAST)
    assert resolve_status(False, "Done", before) == "in_progress"


# -- events --------------------------------------------------------------------------------------
def test_first_sight_is_a_baseline_from_none() -> None:
    (event,) = observe(row(), None).events
    assert (event.from_status, event.to_status, event.window_start) == (None, "not_started", None)
    assert not event.rebuilt


def test_first_sight_by_a_state_that_never_tracked_is_marked_rebuilt() -> None:
    observed = observe(row(True, "Done"), None, rebuilt=True)
    (event,) = observed.events
    assert event.rebuilt and event.done_on is None and not observed.fill_done_on


def test_no_change_no_event() -> None:
    assert observe(row(), seen()).events == ()


def test_a_change_is_an_event_in_the_window_since_the_last_run() -> None:
    (event,) = observe(row(True, "Done"), seen()).events
    assert (event.from_status, event.to_status) == ("not_started", "done")
    assert (event.window_start, event.observed_at) == (LAST, NOW)


def test_the_learners_done_on_is_the_completions_date() -> None:
    (event,) = observe(row(True, "Done", done_on=date(2026, 11, 2)), seen()).events
    assert event.done_on == date(2026, 11, 2)


def test_a_date_the_tool_wrote_is_remembered_and_not_the_learners() -> None:
    filled = observe(row(True, "Done", done_on=TODAY), seen(True, "Done"), filled=TODAY)
    assert filled.state.tool_done_on == TODAY
    learner = observe(row(True, "Done", done_on=date(2026, 11, 2)), filled.state)
    assert learner.state.tool_done_on is None


# -- plan_learner: the tool's derived writes ---------------------------------------------------
def learner(r: RemoteRow, before: ItemState | None, rebuilt: bool = False) -> list[object]:
    return list(plan_learner(KEY, r, observe(r, before, rebuilt=rebuilt), TODAY))


def base(done: bool, status: str | None, **kw: object) -> str:
    """The Sync base text a derived write sends."""
    return build_base_text(RowBase(done, status, **kw))  # type: ignore[arg-type]


def test_a_tick_moves_status_to_done_and_fills_done_on_in_one_write() -> None:
    assert learner(row(True, "In progress"), seen(False, "In progress")) == [
        FillDoneOn(
            "p1",
            KEY,
            TODAY,
            {
                "status": "Done",
                "base": base(True, "Done", was_in_progress=True, done_on=TODAY, filled=True),
            },
        ),
    ]


def test_status_done_ticks_done() -> None:
    assert learner(row(False, "Done", done_on=TODAY), seen())[0] == AlignFields(
        "p1", KEY, {"done": True, "base": base(True, "Done", done_on=TODAY)}
    )


def test_an_untick_moves_status_back_and_clears_the_tools_date() -> None:
    before = seen(True, "Done", done_on=TODAY, tool_done_on=TODAY, in_progress_since=LAST)
    assert learner(row(False, "Done", done_on=TODAY), before) == [
        AlignFields(
            "p1",
            KEY,
            {"status": "In progress", "done_on": None, "base": base(False, "In progress")},
        )
    ]


def test_an_untick_never_clears_the_learners_date() -> None:
    day = date(2026, 11, 2)
    before = seen(True, "Done", done_on=day)
    assert learner(row(False, "Done", done_on=day), before) == [
        AlignFields(
            "p1", KEY, {"status": "Not started", "base": base(False, "Not started", done_on=day)}
        )
    ]


def test_status_moved_away_from_done_unticks() -> None:
    assert learner(row(True, "Skipped"), seen(True, "Done")) == [
        AlignFields("p1", KEY, {"done": False, "base": base(False, "Skipped")})
    ]


def test_done_before_tracking_is_never_stamped_with_today() -> None:
    assert learner(row(True, "Done"), None, rebuilt=True) == []


def test_a_row_ticked_at_first_sight_by_a_tracking_state_gets_its_date() -> None:
    assert learner(row(True, "Done"), None) == [
        FillDoneOn("p1", KEY, TODAY, {"base": base(True, "Done", done_on=TODAY, filled=True)})
    ]


def test_already_done_and_coherent_writes_nothing() -> None:
    before = seen(True, "Done")
    assert learner(row(True, "Done"), before) == []


def test_a_learners_untick_crossing_our_status_write_still_wins() -> None:
    # The query saw Done ticked with Status Not started, so we wrote Status Done; meanwhile the
    # learner unticked. The answer shows Done off, Status Done: the untick is the learner's.
    before = seen(True, "Not started")
    answer = observe(row(False, "Done"), before, wrote={"status": "Done"})
    assert answer.state.status == "not_started"
    (event,) = answer.events
    assert (event.from_status, event.to_status) == ("done", "not_started")


def test_a_mismatch_seen_before_keeps_the_decision_made_then() -> None:
    moved_away = seen(True, "Not started", status="not_started")
    assert resolve_status(True, "Not started", moved_away) == "not_started"
    assert resolve_status(True, "Not started", seen(True, "Not started")) == "done"
