"""The digest's numbers, computed from a real state store filled by simulated pulls."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sync.checklist import parse_checklist
from sync.digest.compute import compute_digest, compute_sync_health
from sync.digest.data import DigestData
from sync.digest.deliver import load_digest
from sync.digest.render import build_phrases
from sync.model import RunRecord, TickEvent
from sync.weeks import WeekStart, parse_week

from .scenarios import (
    CHECKLIST_YAML,
    Learner,
    backdated_done_on,
    dst_berlin,
    dst_new_york,
    empty_week,
    first_week,
    normal_week,
    reopened_and_stalled,
    retick_in_one_week,
)

UTC = timezone.utc
UTC_ZONE = ZoneInfo("UTC")


def digest_of(learner: Learner, week: str, now: str, week_start: WeekStart = "mon") -> DigestData:
    return load_digest(
        learner.store,
        learner.checklist,
        week=parse_week(week),
        zone=learner.zone,
        week_start=week_start,
        now=learner.at(now),
    )


def keys(entries: tuple[object, ...]) -> list[str]:
    return [entry.item.key for entry in entries]  # type: ignore[attr-defined]


def test_normal_week_numbers(tmp_path: Path) -> None:
    learner, week, now = normal_week(tmp_path)
    data = digest_of(learner, week, now)
    assert keys(data.completions) == [
        "entry.nets.dense",
        "entry.nets.cnn",
        "advanced.general.teach",
    ]
    assert (data.done_this_week, data.done_last_week, data.four_week_average) == (3, 1, 0.5)
    assert not data.is_first and not data.is_quiet
    assert (data.overall.done, data.overall.total, data.overall.percent) == (6, 10, 60)
    assert data.consistency.current_run == 2 and data.consistency.longest_run == 2
    assert data.consistency.active_weeks == 3 and data.consistency.tracked_weeks == 5
    assert data.pace.per_week == 1.25 and data.pace.level == "Intermediate"
    assert (data.pace.remaining, data.pace.weeks_needed) == (3, 3)
    assert data.pace.eta == date(2026, 12, 17)
    assert data.sync.failures == 1
    assert data.sync.last_success == learner.at("2026-11-28 10:00")
    dense = data.completions[0]
    assert dense.notes == "Used Keras; 92% on the test set. Next: try dropout."
    assert dense.evidence_url == "https://github.com/learner/dense-net"
    assert data.completions[1].evidence_url is None
    assert data.completions[1].evidence_text == "my notebook"


def test_first_week_is_a_baseline_not_a_flood_of_completions(tmp_path: Path) -> None:
    learner, week, now = first_week(tmp_path)
    data = digest_of(learner, week, now)
    assert data.is_first and not data.is_quiet
    assert keys(data.completions) == ["entry.data.text"]  # ticked after the first pull
    assert data.starting_point is not None and data.starting_point.done == 2
    assert data.overall.done == 3
    assert data.done_last_week is None and data.four_week_average is None


def test_quiet_week(tmp_path: Path) -> None:
    learner, week, now = empty_week(tmp_path)
    data = digest_of(learner, week, now)
    assert data.is_quiet and data.done_this_week == 0
    assert data.consistency.current_run == 0 and data.consistency.longest_run == 2
    assert data.four_week_average == 0.67  # W45-W47 (W44 was before tracking began)
    assert keys(data.next_up)[0] == "entry.data.audio"


def test_dst_week_in_berlin_counts_to_local_midnight(tmp_path: Path) -> None:
    learner, week, now = dst_berlin(tmp_path)
    data = digest_of(learner, week, now)
    assert data.window.end - data.window.start == timedelta(hours=169)
    assert keys(data.completions) == ["entry.data.images", "entry.data.text"]
    assert data.completions[1].completed_on == date(2026, 10, 25)


def test_dst_week_in_new_york_with_sunday_start(tmp_path: Path) -> None:
    learner, week, now = dst_new_york(tmp_path)
    data = digest_of(learner, week, now, "sun")
    assert data.window.first_day == date(2026, 11, 1)
    assert keys(data.completions) == ["entry.data.text", "entry.data.audio"]
    assert data.done_last_week == 1  # images, Sat 31 Oct 23:30 EDT


def test_reopened_and_stalled(tmp_path: Path) -> None:
    learner, week, now = reopened_and_stalled(tmp_path)
    data = digest_of(learner, week, now)
    assert keys(data.completions) == ["entry.data.audio"]  # dense was ticked and unticked
    assert keys(data.reopened) == ["entry.data.text"]
    assert data.reopened[0].status == "in_progress"
    assert data.reopened[0].reopened_on == date(2026, 11, 25)
    stalled = {entry.item.key: entry.stalled for entry in data.in_progress}
    assert stalled == {
        "intermediate.training.schedules": True,
        "intermediate.training.callbacks": False,
        "entry.data.text": False,
    }
    assert keys(data.in_progress)[0] == "intermediate.training.schedules"  # longest first
    assert data.in_progress[0].weeks == 4 and data.stalled_count == 1


def test_an_old_week_shows_the_state_of_its_own_end(tmp_path: Path) -> None:
    learner, _, now = normal_week(tmp_path)
    data = digest_of(learner, "2026-W46", now)
    assert data.done_this_week == 0 and data.overall.done == 2
    assert keys(data.in_progress) == ["entry.data.audio"]
    assert data.done_last_week == 1


def test_next_up_follows_checklist_order_and_skips_done_and_skipped(tmp_path: Path) -> None:
    learner = Learner(tmp_path, "UTC")
    learner.pull("2026-11-02 10:00", {"entry.data.images": "done", "entry.data.text": "skipped"})
    data = digest_of(learner, "2026-W45", "2026-11-09 08:00")
    assert keys(data.next_up) == ["entry.data.audio", "entry.nets.dense", "entry.nets.cnn"]
    assert data.next_up[1].project_idea == "Predict house prices with a small dense network."
    assert data.skipped == 1 and data.overall.total == 9  # a skipped item is not counted


def test_pace_without_recent_activity_gives_no_estimate(tmp_path: Path) -> None:
    learner = Learner(tmp_path, "UTC")
    learner.pull("2026-11-02 10:00")
    data = digest_of(learner, "2026-W46", "2026-11-16 08:00")
    assert data.pace.per_week == 0 and data.pace.eta is None and data.pace.level == "Entry"


def test_history_under_a_renamed_key_follows_the_new_key(tmp_path: Path) -> None:
    renamed = (
        CHECKLIST_YAML.replace("version: 1", "version: 2").replace(
            "entry.data.images", "entry.data.image_sets"
        )
        + "migrations:\n  - {version: 2, keys: {entry.data.images: entry.data.image_sets}}\n"
    )
    checklist = parse_checklist(renamed, "renamed")
    old = Learner(tmp_path, "UTC")
    old.pull("2026-11-02 10:00")
    old.pull("2026-11-04 10:00", {"entry.data.images": "done"})
    data = compute_digest(
        checklist,
        {},
        old.store.load_history(),
        [],
        parse_week("2026-W45"),
        old.zone,
        "mon",
        old.at("2026-11-09 08:00"),
    )
    assert keys(data.completions) == ["entry.data.image_sets"]
    assert data.levels[0].categories[0].progress.done == 1


def test_sync_health_counts_crashed_runs_but_not_the_running_one() -> None:
    start = datetime(2026, 11, 23, tzinfo=UTC)

    def run(run_id: int, hours: int, ok: bool, finished: bool = True) -> RunRecord:
        at = start + timedelta(hours=hours)
        return RunRecord(
            run_id, "pull", at, at if finished else None, ok, "boom" if not ok else None
        )

    runs = [
        run(1, 1, False),
        run(2, 2, False, finished=False),
        run(3, 3, True),
        run(4, 4, False, finished=False),
    ]
    health = compute_sync_health(runs, start, start + timedelta(days=7), None, UTC_ZONE)
    assert health.failures == 2
    assert health.last_success is None and health.last_failure_error == "boom"


def test_events_after_the_window_are_ignored() -> None:
    checklist = parse_checklist(CHECKLIST_YAML, "test")
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    history = [
        TickEvent("entry.data.images", "x", "Entry", "Data handling", None, "not_started", at),
        TickEvent(
            "entry.data.images",
            "x",
            "Entry",
            "Data handling",
            "not_started",
            "done",
            at + timedelta(days=8),
        ),
    ]
    data = compute_digest(
        checklist, {}, history, [], parse_week("2026-W49"), UTC_ZONE, "mon", at + timedelta(days=9)
    )
    assert data.done_this_week == 0 and data.overall.done == 0


def test_compute_imports_no_io_module() -> None:
    code = (
        "import sys, sync.digest.compute, sync.digest.render\n"
        "bad = {'sqlite3', 'smtplib', 'requests', 'httpx', 'notion_client'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_own_items_count_in_progress_but_not_in_the_pace_of_a_level(tmp_path: Path) -> None:
    from dataclasses import replace

    from sync.model import ItemState

    learner, week, now = normal_week(tmp_path)
    own = ItemState(
        key="custom.kaggle",
        page_id="00000000-0000-4000-8000-0000000000aa",
        title="Kaggle",
        level=None,
        category=None,
        order=None,
        status="done",
        custom=True,
    )
    retired = replace(
        own, key="custom.old", page_id="00000000-0000-4000-8000-0000000000ab", retired=True
    )
    learner.items.update({own.key: own, retired.key: retired})
    learner.pull("2026-11-29 20:00")  # still inside the week, after its last pull
    data = digest_of(learner, week, now)
    own_level = data.levels[-1]
    assert (own_level.name, own_level.progress.done, own_level.progress.total) == (
        "Your own items",
        1,
        1,
    )
    assert (data.overall.done, data.overall.total) == (7, 11)
    assert data.pace.level == "Intermediate"


def test_a_backdated_done_on_counts_in_its_own_week(tmp_path: Path) -> None:
    learner, week, now = backdated_done_on(tmp_path)
    data = digest_of(learner, week, now)
    assert keys(data.completions) == ["entry.nets.cnn"]  # dense was ticked in W48 ...
    assert data.done_last_week == 2  # ... with Done on Thu 19 Nov: it counts in W47
    last_week = digest_of(learner, "2026-W47", now)
    assert keys(last_week.completions) == ["entry.data.audio", "entry.nets.dense"]
    assert last_week.completions[1].completed_on == date(2026, 11, 19)
    assert last_week.overall.done == 4 and not last_week.in_progress


def test_a_backdated_done_on_joins_the_first_digests_starting_point(tmp_path: Path) -> None:
    learner = Learner(tmp_path, "Europe/Berlin")
    learner.pull("2026-11-24 19:00", {"entry.data.images": "done"})
    learner.pull(
        "2026-11-25 19:00",
        {"entry.data.text": "done", "entry.data.audio": "done"},
        done_on={"entry.data.text": "2026-11-10"},
    )
    data = digest_of(learner, "2026-W48", "2026-11-30 08:00")
    assert data.is_first
    assert data.starting_point is not None and data.starting_point.done == 2  # images, text
    assert keys(data.completions) == ["entry.data.audio"]
    assert data.overall.done == 3


def test_a_re_tick_in_one_week_counts_once_and_an_own_row_added_ticked_counts(
    tmp_path: Path,
) -> None:
    learner, week, now = retick_in_one_week(tmp_path)
    data = digest_of(learner, week, now)
    assert keys(data.completions) == ["entry.data.text", "custom.kaggle"]
    assert data.completions[0].completed_on == date(2026, 11, 26)  # the tick that stayed
    assert data.done_this_week == 2 and not data.reopened
    assert (data.overall.done, data.overall.total) == (3, 11)


def test_the_average_says_over_how_many_weeks_it_runs(tmp_path: Path) -> None:
    learner, week, now = empty_week(tmp_path)
    data = digest_of(learner, week, now)
    assert (data.four_week_average, data.average_weeks) == (0.67, 3)
    learner_, week_, now_ = normal_week(tmp_path / "normal")
    assert digest_of(learner_, week_, now_).average_weeks == 4


def test_the_first_headline_has_one_total_and_says_why_an_item_counts_earlier(
    tmp_path: Path,
) -> None:
    """An item skipped during the first week leaves the starting point's total too; an item
    ticked this week with an earlier Done on counts before the week, and the headline says so."""
    learner = Learner(tmp_path, "Europe/Berlin")
    learner.pull(
        "2026-11-24 19:00", {"entry.nets.cnn": "done"}, done_on={"entry.nets.cnn": "2026-11-14"}
    )
    learner.pull("2026-11-25 19:00", {"entry.data.audio": "done", "entry.nets.dense": "skipped"})
    data = digest_of(learner, "2026-W48", "2026-11-30 08:00")
    assert data.starting_point is not None
    assert data.starting_point.total == data.overall.total == 9  # 10 items, 1 skipped
    assert (data.starting_point.done, data.starting_point_backdated) == (1, 1)
    say = build_phrases(data)
    assert say.headline == (
        "Your first week: 2 of 9 items done (22%), 1 this week and 1 earlier (by its Done on date)."
    )
    assert say.skipped == "1 skipped item not counted."
    assert "starting point" not in say.subject and say.subject.endswith("2 of 9 done")
    assert say.consistency == "This is your first tracked week."
    assert say.pace.startswith("At this week's pace (1 item a week), ")


def test_a_rebuilt_baseline_is_earlier_but_not_backdated(tmp_path: Path) -> None:
    learner, week, now = first_week(tmp_path)
    data = digest_of(learner, week, now)
    assert data.starting_point_backdated == 0
    assert build_phrases(data).headline == (
        "Your first week: 3 of 10 items done (30%), 1 this week and 2 earlier."
    )


def test_in_progress_items_are_not_next_up_and_carry_their_notes(tmp_path: Path) -> None:
    learner = Learner(tmp_path, "Europe/Berlin")
    learner.pull("2026-11-16 19:00", {"entry.data.images": "in_progress"})
    learner.edit("entry.data.images", notes="Halfway  through\nMNIST.")
    learner.add_own("custom.blog", "Blog post", "in_progress")
    learner.pull("2026-11-24 19:00")
    data = digest_of(learner, "2026-W48", "2026-11-30 08:00")
    assert [(p.item.key, p.notes) for p in data.in_progress] == [
        ("entry.data.images", "Halfway through MNIST."),
        ("custom.blog", ""),
    ]
    assert "entry.data.images" not in keys_of_next(data)
    assert keys_of_next(data) == ["entry.data.text", "entry.data.audio", "entry.nets.dense"]


def keys_of_next(data: DigestData) -> list[str]:
    return [n.item.key for n in data.next_up]
