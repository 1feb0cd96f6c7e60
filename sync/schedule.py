"""When the daemon works: APScheduler triggers, job options, digest due-ness and sync back-off.

Pure: no I/O and no clock (`now` is always an argument). `sync/daemon.py` runs the jobs.

Every digest time comes from one owner, the week's slots (`build_digest_slots`): the daemon's
digest trigger only asks `next_digest_time` for the next slot, never cron arithmetic. A schedule
names its days (`mon`, `fri,sun`), never numbers: crontab counts from Sunday = 0 and APScheduler
from Monday = 0, so a numeric `1` would silently mean Tuesday to one of them. Whether a digest was
already sent is never decided here or by the scheduler's memory: the per-week delivery record in
the state store decides, so a digest that came due while the machine slept is sent once when it
wakes, and never twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync.config_values import DAY_NAMES, DigestSchedule
from sync.model import RunRecord
from sync.weeks import WeekId, WeekStart, first_day_of, week_containing

SYNC_JOB_ID = "sync"
DIGEST_JOB_ID = "digest"
MAX_SYNC_JITTER = 60
"""Seconds: the sync jitter is a tenth of the interval, at most this."""
MAX_BACKOFF = 3600.0
"""Seconds: after repeated failures a sync is retried at least this often (or every interval)."""
DIGEST_MISFIRE_GRACE = 7 * 24 * 3600
"""Seconds: a digest run missed (machine asleep) still runs up to a week late; the week's delivery
record makes sure that it sends nothing twice."""


# ------------------------------------------------------------------------------------ triggers


class DigestTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """The digest's APScheduler trigger: it only asks `next_digest_time` for the next slot.

    APScheduler's own CronTrigger adds 24 hours per day across a clock change (its issues #529
    and #606), which skipped a whole week around some changes; here the week's slots
    (`build_digest_slots`) are the one owner of every digest time.
    """

    __slots__ = ("schedule", "week_start", "zone")

    def __init__(
        self, schedule: DigestSchedule, zone: ZoneInfo, week_start: WeekStart = "mon"
    ) -> None:
        check_schedule_days(schedule)
        self.schedule, self.zone, self.week_start = schedule, zone, week_start

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = now if previous_fire_time is None else previous_fire_time
        fire = next_digest_time(self.schedule, self.zone, after, self.week_start)
        return fire.astimezone(timezone.utc)  # an ambiguous wall time is unequal to everything

    def __str__(self) -> str:
        return f"digest[{self.schedule} {self.zone.key}]"


def check_schedule_days(schedule: DigestSchedule) -> None:
    """Day names only (`mon`, `fri,sun`): a number means different days to different tools."""
    unknown = [day for day in schedule.days if day not in DAY_NAMES]
    if not schedule.days or unknown:
        raise ValueError(f"digest days must be names ({', '.join(DAY_NAMES)}), got {unknown}")


def build_digest_trigger(
    schedule: DigestSchedule, zone: ZoneInfo, week_start: WeekStart = "mon"
) -> DigestTrigger:
    """The digest job's trigger, in the learner's time zone."""
    return DigestTrigger(schedule, zone, week_start)


def build_sync_jitter(interval: int) -> int:
    """A little jitter for the sync: a tenth of the interval, at most a minute (0 below 10 s)."""
    return min(MAX_SYNC_JITTER, interval // 10)


def build_sync_trigger(
    interval: int, jitter: int | None = None, *, start: datetime | None = None
) -> IntervalTrigger:
    """Every `interval` seconds, each run delayed by up to `jitter` seconds (default: a tenth)."""
    if interval < 1:
        raise ValueError("the sync interval must be at least 1 second")
    spread = build_sync_jitter(interval) if jitter is None else jitter
    return IntervalTrigger(
        seconds=interval, jitter=spread or None, start_date=start, timezone=timezone.utc
    )


def build_sync_job_options(interval: int) -> dict[str, Any]:
    """`add_job` options for the sync job.

    One instance at a time; missed runs (a busy or sleeping machine) coalesce into one; the grace
    is one interval, so after a sleep the latest missed run still happens once on wake-up, and a
    run that would come later than the next regular one is dropped.
    """
    return {
        "id": SYNC_JOB_ID,
        "name": "sync",
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": interval,
        "replace_existing": True,
    }


def build_digest_job_options() -> dict[str, Any]:
    """`add_job` options for the digest job: one instance, coalesced, up to a week late."""
    return {
        "id": DIGEST_JOB_ID,
        "name": "weekly digest",
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": DIGEST_MISFIRE_GRACE,
        "replace_existing": True,
    }


# ------------------------------------------------------------------------------ digest due-ness


def build_digest_slots(
    schedule: DigestSchedule, zone: ZoneInfo, week: WeekId, week_start: WeekStart
) -> list[datetime]:
    """The digest times within one week (local wall times in `zone`, earliest first).

    A wall time that a clock change skips is read with the offset in force before the change
    (zoneinfo's fold=0), so `sun 02:30` on a day New York skips 02:00-03:00 is 03:30 EDT; a wall
    time that happens twice is the first of the two.
    """
    first: date = first_day_of(week, week_start)
    start_index = DAY_NAMES.index(week_start)
    days = sorted((DAY_NAMES.index(day) - start_index) % 7 for day in schedule.days)
    at = time(schedule.hour, schedule.minute)
    return [datetime.combine(first + timedelta(days=offset), at, tzinfo=zone) for offset in days]


def next_digest_time(
    schedule: DigestSchedule, zone: ZoneInfo, now: datetime, week_start: WeekStart = "mon"
) -> datetime:
    """The first digest slot strictly after `now` (aware, in `zone`): `doctor`'s "next digest"
    and the daemon's digest job both ask this, and it reads the week's slots.

    Compared in UTC: two datetimes in the same zone compare by wall time in Python, which is
    wrong across a clock change.
    """
    if now.tzinfo is None:
        raise ValueError("next_digest_time needs an aware datetime")
    check_schedule_days(schedule)
    moment = now.astimezone(timezone.utc)
    week = week_containing(moment, zone, week_start)
    # The week before too: a skipped wall time late on its last day can fall after `now`.
    for offset in (-1, 0, 1, 2):  # a slot is at most a week (and a clock change) away
        for slot in build_digest_slots(schedule, zone, week.shift(offset), week_start):
            fire = slot.astimezone(timezone.utc)
            if fire > moment:
                return fire.astimezone(zone)
    raise ValueError(f"the schedule {schedule} never fires")  # pragma: no cover - days checked


def is_digest_due(
    schedule: DigestSchedule, zone: ZoneInfo, now: datetime, week_start: WeekStart = "mon"
) -> tuple[bool, str]:
    """Has this week's digest time passed at `now`? And the label of the week the digest covers.

    The digest sent in a week reports on the last complete week, so the label is the previous
    week's (`2026-W47` for a digest due on Monday of W48). Whether it was already sent is for the
    per-week delivery record to say.
    """
    if now.tzinfo is None:
        raise ValueError("is_digest_due needs an aware datetime")
    week = week_containing(now, zone, week_start)
    moment = now.astimezone(timezone.utc)
    slots = build_digest_slots(schedule, zone, week, week_start)
    due = any(slot.astimezone(timezone.utc) <= moment for slot in slots)
    return due, str(week.shift(-1))


# ---------------------------------------------------------------------------------- back-off


def compute_backoff(failures: int, interval: float, cap: float = MAX_BACKOFF) -> float:
    """Seconds to wait after the latest of `failures` failed syncs in a row, before trying again.

    One interval after the first failure (the regular cadence), then doubling: 1, 2, 4, 8 ...
    intervals, capped at `cap` (or one interval, if that is longer). No failures: no wait.
    """
    if failures <= 0:
        return 0.0
    return float(min(max(cap, interval), interval * 2 ** min(failures - 1, 32)))


def count_failures(runs: Sequence[RunRecord]) -> tuple[int, RunRecord | None]:
    """Finished runs that failed in a row since the last successful one, and the latest of them.

    Runs still going (or left unfinished by a crash) are not counted either way.
    """
    failures = 0
    latest: RunRecord | None = None
    for run in sorted(runs, key=lambda r: r.run_id):
        if run.finished_at is None:
            continue
        if run.ok:
            failures, latest = 0, None
        else:
            failures, latest = failures + 1, run
    return failures, latest


def plan_next_attempt(
    runs: Sequence[RunRecord], interval: float, cap: float = MAX_BACKOFF
) -> datetime | None:
    """When a sync may be tried again after recent failures; None when the last run succeeded."""
    failures, latest = count_failures(runs)
    if latest is None:
        return None
    return latest.started_at + timedelta(seconds=compute_backoff(failures, interval, cap))


def check_backoff(
    runs: Sequence[RunRecord], interval: float, now: datetime, cap: float = MAX_BACKOFF
) -> datetime | None:
    """The time to wait for if a sync at `now` should be skipped (backing off), else None.

    Ticks come once an interval (plus jitter), so a tick up to half an interval before the
    planned attempt takes it: the wait is counted in ticks, not in exact seconds.
    """
    retry_at = plan_next_attempt(runs, interval, cap)
    if retry_at is None or now >= retry_at - timedelta(seconds=interval / 2):
        return None
    return retry_at
