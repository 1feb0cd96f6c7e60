"""Trigger arithmetic, digest due-ness and back-off: pure, with fixed clocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.config_values import DAY_NAMES, DigestSchedule, parse_schedule
from sync.model import RunRecord
from sync.schedule import (
    DIGEST_MISFIRE_GRACE,
    MAX_BACKOFF,
    build_digest_job_options,
    build_digest_slots,
    build_digest_trigger,
    build_sync_job_options,
    build_sync_trigger,
    check_backoff,
    compute_backoff,
    count_failures,
    is_digest_due,
    next_digest_time,
    plan_next_attempt,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")
KOLKATA = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")
MONDAY_8 = parse_schedule("mon 08:00")


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


# ------------------------------------------------------------------------------ digest trigger


@pytest.mark.parametrize(
    "now",
    [
        local(BERLIN, 2026, 11, 25, 12, 0),  # a Wednesday
        local(BERLIN, 2026, 11, 29, 23, 59),  # Sunday night
        local(BERLIN, 2026, 11, 30, 7, 59),  # Monday, just before
    ],
)
def test_mon_0800_fires_on_monday_at_eight(now: datetime) -> None:
    fire = next_digest_time(MONDAY_8, BERLIN, now)
    assert fire == local(BERLIN, 2026, 11, 30, 8, 0)
    assert fire.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 08:00"


def test_mon_0800_on_monday_after_eight_fires_next_monday() -> None:
    fire = next_digest_time(MONDAY_8, BERLIN, local(BERLIN, 2026, 11, 30, 8, 0, 1))
    assert fire == local(BERLIN, 2026, 12, 7, 8, 0)


def test_trigger_uses_day_names_not_numbers() -> None:
    trigger = build_digest_trigger(parse_schedule("fri,sun 18:30"), BERLIN)
    assert str(trigger) == "digest[fri,sun 18:30 Europe/Berlin]"
    # Crontab counts from Sunday = 0, APScheduler from Monday = 0: a number is refused.
    with pytest.raises(ValueError, match="names"):
        build_digest_trigger(DigestSchedule(("1",), 8, 0), BERLIN)
    with pytest.raises(ValueError):
        build_digest_trigger(DigestSchedule((), 8, 0), BERLIN)


def test_next_digest_across_spring_forward_keeps_local_time() -> None:
    # Europe/Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    fire = next_digest_time(MONDAY_8, BERLIN, local(BERLIN, 2026, 3, 27, 12, 0))
    assert fire.astimezone(timezone.utc) == datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc)
    assert fire.astimezone(BERLIN).hour == 8


def test_next_digest_across_fall_back_keeps_local_time() -> None:
    # Europe/Berlin moves back to UTC+1 on Sunday 25 October 2026.
    fire = next_digest_time(MONDAY_8, BERLIN, local(BERLIN, 2026, 10, 23, 12, 0))
    assert fire.astimezone(timezone.utc) == datetime(2026, 10, 26, 7, 0, tzinfo=timezone.utc)


def test_schedule_inside_the_skipped_hour_fires_once_just_after_the_gap() -> None:
    # New York skips 02:00-03:00 on Sunday 8 March 2026: "sun 02:30" runs at 03:30 EDT that day.
    schedule = parse_schedule("sun 02:30")
    fire = next_digest_time(schedule, NEW_YORK, local(NEW_YORK, 2026, 3, 7, 12, 0))
    assert fire.astimezone(timezone.utc) == datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)
    assert is_digest_due(schedule, NEW_YORK, fire)[0]
    assert not is_digest_due(schedule, NEW_YORK, fire - timedelta(seconds=1))[0]
    after = next_digest_time(schedule, NEW_YORK, fire + timedelta(seconds=1))
    assert after == local(NEW_YORK, 2026, 3, 15, 2, 30)


def test_non_utc_zone_where_the_utc_day_differs() -> None:
    # Monday 08:00 in Auckland (UTC+13 in summer) is Sunday 19:00 UTC.
    fire = next_digest_time(MONDAY_8, AUCKLAND, datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert fire.astimezone(timezone.utc) == datetime(2026, 11, 29, 19, 0, tzinfo=timezone.utc)
    assert fire.astimezone(AUCKLAND).strftime("%a %H:%M") == "Mon 08:00"
    # Half-hour offsets: Monday 08:00 in Kolkata is Monday 02:30 UTC.
    fire = next_digest_time(MONDAY_8, KOLKATA, datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert fire.astimezone(timezone.utc) == datetime(2026, 11, 30, 2, 30, tzinfo=timezone.utc)


def test_southern_hemisphere_dst_change() -> None:
    # Auckland leaves summer time on Sunday 5 April 2026 (UTC+13 -> UTC+12).
    fire = next_digest_time(MONDAY_8, AUCKLAND, local(AUCKLAND, 2026, 4, 3, 12, 0))
    assert fire.astimezone(timezone.utc) == datetime(2026, 4, 5, 20, 0, tzinfo=timezone.utc)


ZONES = st.sampled_from([BERLIN, NEW_YORK, AUCKLAND, KOLKATA, UTC])
SCHEDULES = st.builds(
    DigestSchedule,
    st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True).map(
        lambda days: tuple(d for d in DAY_NAMES if d in days)
    ),
    st.integers(0, 23),
    st.integers(0, 59),
)
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(schedule=SCHEDULES, zone=ZONES, now=INSTANTS, week_start=st.sampled_from(["mon", "sun"]))
def test_trigger_and_due_check_agree(
    schedule: DigestSchedule, zone: ZoneInfo, now: datetime, week_start: str
) -> None:
    fire = next_digest_time(schedule, zone, now)
    assert fire > now - timedelta(microseconds=1)
    assert fire - now <= timedelta(days=7, hours=1)
    assert fire.astimezone(zone).strftime("%a").lower() in schedule.days
    # The fire time is one of the week's slots, and the digest is due from that instant on.
    due, _ = is_digest_due(schedule, zone, fire, week_start)  # type: ignore[arg-type]
    assert due


# ---------------------------------------------------------------------------- digest due-ness


def test_digest_due_from_the_scheduled_time_on_for_the_previous_week() -> None:
    before = local(BERLIN, 2026, 11, 30, 7, 59)  # Monday of 2026-W49
    assert is_digest_due(MONDAY_8, BERLIN, before) == (False, "2026-W48")
    assert is_digest_due(MONDAY_8, BERLIN, local(BERLIN, 2026, 11, 30, 8, 0)) == (True, "2026-W48")
    # Still due (for the same week) later in the week: the delivery record says if it was sent.
    assert is_digest_due(MONDAY_8, BERLIN, local(BERLIN, 2026, 12, 6, 23, 0)) == (True, "2026-W48")


def test_digest_due_is_judged_in_the_learner_zone() -> None:
    # 2026-11-30 06:30 UTC is Monday 12:00 in Kolkata but Monday 07:30 in Berlin.
    now = datetime(2026, 11, 30, 6, 30, tzinfo=timezone.utc)
    assert is_digest_due(MONDAY_8, KOLKATA, now) == (True, "2026-W48")
    assert is_digest_due(MONDAY_8, BERLIN, now) == (False, "2026-W48")
    # 2026-11-29 20:00 UTC is Monday 09:00 in Auckland (W49 begun), Sunday 21:00 in Berlin (W48).
    now = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)
    assert is_digest_due(MONDAY_8, AUCKLAND, now) == (True, "2026-W48")
    assert is_digest_due(MONDAY_8, BERLIN, now) == (True, "2026-W47")


def test_sunday_digest_with_sunday_weeks_and_monday_weeks() -> None:
    schedule = parse_schedule("sun 09:00")
    sunday = local(BERLIN, 2026, 11, 29, 10, 0)
    saturday = local(BERLIN, 2026, 11, 28, 10, 0)
    assert is_digest_due(schedule, BERLIN, sunday, "sun")[0]
    assert is_digest_due(schedule, BERLIN, saturday, "sun")[0]  # the week began on Sunday
    assert is_digest_due(schedule, BERLIN, sunday, "mon")[0]
    assert not is_digest_due(schedule, BERLIN, saturday, "mon")[0]  # Sunday is still to come


def test_slots_are_in_week_order() -> None:
    from sync.weeks import WeekId

    slots = build_digest_slots(parse_schedule("mon,fri 18:00"), BERLIN, WeekId(2026, 48), "sun")
    assert [s.strftime("%a %d") for s in slots] == ["Mon 23", "Fri 27"]


def test_due_check_needs_an_aware_time() -> None:
    with pytest.raises(ValueError):
        is_digest_due(MONDAY_8, BERLIN, datetime(2026, 11, 30, 9, 0))


# ---------------------------------------------------------------------------- sync trigger


def test_sync_trigger_every_interval_with_a_little_jitter() -> None:
    start = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    trigger = build_sync_trigger(900, start=start)
    assert trigger.jitter == 60  # a tenth of 15 minutes is 90 s: capped at a minute
    for _ in range(20):
        fire = trigger.get_next_fire_time(start, start)
        assert start + timedelta(seconds=900) <= fire <= start + timedelta(seconds=960)
    assert build_sync_trigger(120).jitter == 12
    assert build_sync_trigger(2).jitter is None  # seconds-long intervals: no jitter
    assert build_sync_trigger(900, 0).jitter is None
    with pytest.raises(ValueError):
        build_sync_trigger(0)


def test_job_options() -> None:
    sync = build_sync_job_options(900)
    assert sync["coalesce"] is True
    assert sync["max_instances"] == 1
    assert sync["misfire_grace_time"] == 900
    digest = build_digest_job_options()
    assert digest["coalesce"] is True
    assert digest["max_instances"] == 1
    assert digest["misfire_grace_time"] == DIGEST_MISFIRE_GRACE >= 24 * 3600


# --------------------------------------------------------------------------------- back-off

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


def run(run_id: int, ok: bool | None, minutes: int = 0) -> RunRecord:
    started = T0 + timedelta(minutes=minutes)
    return RunRecord(
        run_id=run_id,
        kind="sync",
        started_at=started,
        finished_at=None if ok is None else started + timedelta(seconds=5),
        ok=bool(ok),
        error=None if ok else "NotionUnavailableError: down",
    )


def test_backoff_grows_and_is_capped() -> None:
    assert compute_backoff(0, 900) == 0
    delays = [compute_backoff(n, 900) for n in range(1, 8)]
    assert delays[:3] == [900, 1800, 3600]
    assert delays == sorted(delays)
    assert max(delays) == MAX_BACKOFF
    assert compute_backoff(10_000, 2) == MAX_BACKOFF  # no overflow
    assert compute_backoff(5, 7200) == 7200  # never more often than the interval


def test_count_failures_since_the_last_success() -> None:
    assert count_failures([]) == (0, None)
    runs = [run(1, False), run(2, True, 15), run(3, False, 30), run(4, False, 45)]
    assert count_failures(runs) == (2, runs[3])
    # A run still going (or left by a crash) is not counted either way.
    assert count_failures([*runs, run(5, None, 60)]) == (2, runs[3])
    assert count_failures([*runs, run(5, True, 60)]) == (0, None)


def test_backoff_skips_ticks_after_repeated_failures() -> None:
    interval = 900
    one = [run(1, False)]
    # After one failure the next regular tick (even a little early) retries.
    assert check_backoff(one, interval, T0 + timedelta(seconds=interval - 60)) is None
    three = [run(1, False), run(2, False, 15), run(3, False, 30)]
    retry_at = plan_next_attempt(three, interval)
    assert retry_at == T0 + timedelta(minutes=30, seconds=4 * interval)
    assert check_backoff(three, interval, T0 + timedelta(minutes=45)) == retry_at
    assert check_backoff(three, interval, T0 + timedelta(minutes=75)) == retry_at
    assert check_backoff(three, interval, retry_at) is None
    assert check_backoff([*three, run(4, True, 40)], interval, T0 + timedelta(minutes=45)) is None
    assert plan_next_attempt([run(1, True)], interval) is None
