"""The next digest time in every IANA zone that changes its clocks between 2020 and 2035.

The oracle here is independent of `sync.schedule`: it walks calendar days one by one, reads each
scheduled wall time with zoneinfo's fold=0 (a wall time a clock change skips gets the offset in
force before the change) and takes the first instant after `now`. The scheduler's answer, the
daemon's trigger and the due check must all agree with it.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sync.config_values import DAY_NAMES, DigestSchedule
from sync.schedule import build_digest_trigger, is_digest_due, next_digest_time

FIRST, LAST = datetime(2020, 1, 1, tzinfo=timezone.utc), datetime(2035, 12, 31, tzinfo=timezone.utc)
TIMES = [(0, 0), (2, 30), (23, 59)]


@functools.cache
def changing_zones() -> tuple[str, ...]:
    """Every zone whose UTC offset changes at least once from 2020 to 2035 (sampled every third
    day at noon UTC: no change of offset lasts less, Morocco's Ramadan month included)."""
    found = []
    days = (LAST - FIRST).days
    for name in sorted(zoneinfo.available_timezones()):
        zone = ZoneInfo(name)
        offsets = {
            (FIRST + timedelta(days=n, hours=12)).astimezone(zone).utcoffset()
            for n in range(0, days, 3)
        }
        if len(offsets) > 1:
            found.append(name)
    return tuple(found)


def oracle(schedule: DigestSchedule, zone: ZoneInfo, now: datetime) -> datetime:
    """The first scheduled wall time (fold=0) after `now`, day by day."""
    day: date = now.astimezone(zone).date() - timedelta(days=2)
    at = time(schedule.hour, schedule.minute)
    while True:
        if DAY_NAMES[day.weekday()] in schedule.days:
            fire = datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)
            if fire > now:
                return fire
        day += timedelta(days=1)


def check_next(
    schedule: DigestSchedule, zone: ZoneInfo, now: datetime, *, trigger: bool = True
) -> None:
    fire = next_digest_time(schedule, zone, now)
    expected = oracle(schedule, zone, now)
    # Compared in UTC: Python never finds an ambiguous wall time equal to another zone's time.
    assert fire.astimezone(timezone.utc) == expected, (zone.key, str(schedule), now, fire)
    assert fire.tzinfo is zone
    # At most a week away, plus the clock change between now and then.
    change = abs(
        (now.astimezone(zone).utcoffset() or timedelta()) - (fire.utcoffset() or timedelta())
    )
    assert now < fire <= now + timedelta(days=7) + change
    if trigger:  # the daemon's trigger asks the same owner; the due check agrees from then on
        digest_trigger = build_digest_trigger(schedule, zone)
        assert digest_trigger.get_next_fire_time(None, now) == expected
        assert digest_trigger.get_next_fire_time(expected, expected) == oracle(
            schedule, zone, expected
        )
        assert is_digest_due(schedule, zone, fire)[0]


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # Measured with APScheduler's CronTrigger: a week late (2024-10-07 and 2025-04-07).
        ("Pacific/Auckland", datetime(2024, 9, 23, 0, 0), datetime(2024, 9, 30, 0, 0)),
        ("Europe/Berlin", datetime(2025, 3, 23, 23, 30), datetime(2025, 3, 31, 0, 0)),
        ("Europe/London", datetime(2025, 3, 24, 0, 30), datetime(2025, 3, 31, 0, 0)),
        ("America/New_York", datetime(2025, 3, 3, 6, 0), datetime(2025, 3, 10, 0, 0)),
        ("Australia/Sydney", datetime(2025, 9, 28, 14, 30), datetime(2025, 10, 6, 0, 0)),
    ],
)
def test_monday_midnight_in_the_week_before_the_clocks_go_forward(
    zone: str, now: datetime, expected: datetime
) -> None:
    tz = ZoneInfo(zone)
    monday = DigestSchedule(("mon",), 0, 0)
    fire = next_digest_time(monday, tz, now.replace(tzinfo=timezone.utc))
    assert fire.replace(tzinfo=None) == expected
    check_next(monday, tz, now.replace(tzinfo=timezone.utc))


def test_a_midnight_that_does_not_exist_is_read_with_the_offset_before_the_change() -> None:
    # Santiago skips 00:00-01:00 on Sunday 8 September 2024: "sun 00:00" is 01:00 that day.
    santiago = ZoneInfo("America/Santiago")
    fire = next_digest_time(
        DigestSchedule(("sun",), 0, 0), santiago, datetime(2024, 9, 5, tzinfo=timezone.utc)
    )
    assert fire.strftime("%a %d %H:%M %Z") == "Sun 08 01:00 -03"


def test_the_zone_list_holds_the_zones_that_change() -> None:
    zones = changing_zones()
    assert {"Europe/Berlin", "Pacific/Auckland", "America/Santiago", "Africa/Casablanca"} <= set(
        zones
    )
    assert "Asia/Kolkata" not in zones and "UTC" not in zones


@pytest.mark.slow
def test_every_changing_zone_around_each_of_its_changes() -> None:
    """Every zone, the week before and the day after each change from 2020 to 2035, for the
    change's weekday at 00:00, 02:30 and 23:59."""
    for name in changing_zones():
        zone = ZoneInfo(name)
        for change in _changes(zone):
            for hour, minute in TIMES:
                schedule = DigestSchedule((DAY_NAMES[change.weekday()],), hour, minute)
                for step in range(-8 * 24, 2 * 24, 29):  # every 29 hours: any hour of the day
                    check_next(schedule, zone, change + timedelta(hours=step), trigger=False)


def _changes(zone: ZoneInfo) -> list[datetime]:
    """The instants (to the day) where `zone`'s offset changes, 2020-2035."""
    found = []
    previous = FIRST.astimezone(zone).utcoffset()
    moment = FIRST
    while moment < LAST:
        moment += timedelta(days=1)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return found


@settings(max_examples=400, deadline=None)
@given(
    days=st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True),
    at=st.sampled_from(TIMES),
    zone=st.deferred(lambda: st.sampled_from(changing_zones())),
    now=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 12, 31),
        timezones=st.just(timezone.utc),
    ),
)
@example(
    days=["mon"], at=(0, 0), zone="Pacific/Auckland", now=datetime(2024, 9, 23, tzinfo=timezone.utc)
)
def test_next_digest_is_the_first_slot_after_now(
    days: list[str], at: tuple[int, int], zone: str, now: datetime
) -> None:
    schedule = DigestSchedule(tuple(d for d in DAY_NAMES if d in days), *at)
    check_next(schedule, ZoneInfo(zone), now)


def test_the_daemon_scheduler_is_told_only_the_next_slot() -> None:
    """A real APScheduler job with the digest trigger: its next run is the owner's next slot."""
    zone = ZoneInfo("Pacific/Auckland")
    schedule = DigestSchedule(("mon",), 0, 0)
    scheduler = BackgroundScheduler(timezone=zone)
    job = scheduler.add_job(print, build_digest_trigger(schedule, zone))
    now = datetime(2024, 9, 23, tzinfo=timezone.utc)
    first = job.trigger.get_next_fire_time(None, now)
    assert first == next_digest_time(schedule, zone, now)
    assert first.astimezone(zone).strftime("%Y-%m-%d %H:%M") == "2024-09-30 00:00"
    after = job.trigger.get_next_fire_time(first, first)
    assert after.astimezone(zone).strftime("%Y-%m-%d %H:%M") == "2024-10-07 00:00"
