"""PURE: the numbers of a weekly digest, from the tick history, the last states and the runs.

No I/O and no clock: `now` is an argument. What counts, how percents round and what a completion
is are the rules of `sync.progress` (documented there and in the guide); this module arranges them
into one week's digest. Statuses "as of the week's end" come from the history, so a digest
rendered later for an old week shows that week as it was, corrected by any Done on the learner
set since (the learner's date wins).

A *reopening* is an item that was done when the week began and is not started or in progress
when it ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sync.checklist import Checklist
from sync.digest.data import (
    CategoryProgress,
    Completion,
    Consistency,
    DigestData,
    InProgress,
    ItemRef,
    LevelProgress,
    NextUp,
    Pace,
    Progress,
    Reopened,
    SyncHealth,
)
from sync.model import ItemState, RunRecord, Status, TickEvent
from sync.open_items import in_progress_items, next_up
from sync.progress import (
    OWN_ITEMS,
    ItemTimeline,
    ProgressReport,
    StatusOf,
    build_item_order,
    build_progress,
    build_timelines,
    completions_by_week,
    completions_in_week,
    sort_keys,
    status_at,
)
from sync.progress import Completion as Done
from sync.weeks import WeekId, WeekStart, build_week_window, week_of_day, weeks_between

STALLED_AFTER_DAYS = 21
AVERAGE_WEEKS = 4
PACE_WEEKS = 4
NEXT_UP_COUNT = 3
NOTE_LIMIT = 280


# ------------------------------------------------------------------------------------ helpers


def _web_url(value: str | None) -> str | None:
    """The URL when it is an absolute http(s) link, else None: the only links a digest makes."""
    if not value:
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if (
        parts.scheme.lower() in ("http", "https")
        and parts.netloc
        and not any(c.isspace() for c in text)
    ):
        return text
    return None


def _one_line(text: str, limit: int = NOTE_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class _View:
    """The checklist, the stored items and the history, seen at the end of the digest's week."""

    def __init__(
        self,
        checklist: Checklist,
        items: Mapping[str, ItemState],
        timelines: Mapping[str, ItemTimeline],
        end: datetime,
        zone: ZoneInfo,
    ) -> None:
        self.checklist = checklist
        self.items = items
        self.timelines = timelines
        self.zone = zone
        self.status: StatusOf = status_at(timelines, items, end)
        self.order = build_item_order(checklist, items)
        self.icons = {level.name: level.icon for level in checklist.levels}

    def ref(self, key: str) -> ItemRef:
        state, spec = self.items.get(key), self.checklist.item(key)
        timeline = self.timelines.get(key)
        level: str | None = None
        category: str | None = None
        source = spec or state
        if source is not None:
            level, category = source.level, source.category
        title = (
            state.title if state else spec.title if spec else timeline.title if timeline else key
        )
        return ItemRef(
            key=key,
            title=_one_line(title, 200),
            level=level,
            level_icon=self.icons.get(level) if level else None,
            category=category,
            url=_web_url(state.url) if state else None,
        )

    def sort_keys(self, keys: Iterable[str]) -> list[str]:
        """Checklist order, then your own items (as in the snapshot and `status`)."""
        return sort_keys(keys, self.order)

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def _completions(view: _View, done: Sequence[Done]) -> tuple[Completion, ...]:
    day = {c.key: c.day for c in done}
    result = []
    for key in view.sort_keys(day):
        state = view.items.get(key)
        evidence = (state.evidence or "") if state else ""
        url = _web_url(evidence)
        result.append(
            Completion(
                item=view.ref(key),
                completed_on=day[key],
                notes=_one_line(state.notes) if state else "",
                evidence_url=url,
                evidence_text="" if url else _one_line(evidence, 200),
            )
        )
    return tuple(result)


def _progress(value: ProgressReport) -> tuple[LevelProgress, ...]:
    """The digest's levels: those with items that count, each with its counting categories."""
    levels = []
    for level in value.levels:
        categories = tuple(
            CategoryProgress(c.name, Progress(c.tally.done, c.tally.total))
            for c in level.categories
            if c.tally.total
        )
        if level.tally.total:
            progress = Progress(level.tally.done, level.tally.total)
            levels.append(LevelProgress(level.name, level.icon, progress, categories))
    return tuple(levels)


def _in_progress(view: _View, end: datetime, reference: datetime) -> tuple[InProgress, ...]:
    result = []
    for key, since in in_progress_items(
        view.checklist, view.items, view.timelines, view.status, end
    ):
        days = max(0, (reference - since).days) if since else None
        state = view.items.get(key)
        result.append(
            InProgress(
                item=view.ref(key),
                since=view.day(since) if since else None,
                days=days,
                stalled=days is not None and days >= STALLED_AFTER_DAYS,
                notes=_one_line(state.notes) if state else "",
            )
        )
    return tuple(result)


def _reopened(view: _View, start: datetime, end: datetime) -> tuple[Reopened, ...]:
    found = {}
    for key, timeline in view.timelines.items():
        at = timeline.reopened_in(start, end)
        if at is not None:
            found[key] = at
    return tuple(
        Reopened(item=view.ref(key), reopened_on=view.day(found[key]), status=view.status(key))
        for key in view.sort_keys(found)
    )


def _next_up(view: _View) -> tuple[NextUp, ...]:
    return tuple(
        NextUp(item=view.ref(item.key), project_idea=item.project_idea)
        for item in next_up(view.checklist, view.status, NEXT_UP_COUNT)
    )


def _starting_point(view: _View, start: datetime) -> tuple[Progress, int]:
    """What was done as the first week began, over today's total (an item skipped or retired
    since leaves it), and how many of those a sync saw done only later (a Done on set back)."""
    then = status_at(view.timelines, view.items, start)

    def status_of(key: str) -> Status:
        return "skipped" if view.status(key) == "skipped" else then(key)

    report = build_progress(view.checklist, view.items, status_of)
    backdated = 0
    for key, timeline in view.timelines.items():
        spell = timeline.covering(start)
        seen_done = any(at < start and status == "done" for at, status in timeline.observed)
        if status_of(key) == "done" and spell and spell.counted and not seen_done:
            backdated += 1
    return Progress(report.overall.done, report.overall.total), backdated


def _active_runs(active: set[WeekId], first: WeekId, last: WeekId) -> list[int]:
    """Lengths of consecutive active-week runs from `first` to `last`, in order."""
    runs: list[int] = []
    current = 0
    for offset in range(weeks_between(first, last) + 1):
        if first.shift(offset) in active:
            current += 1
        else:
            if current:
                runs.append(current)
            current = 0
    runs.append(current)
    return runs


def _pace(levels: Sequence[LevelProgress], recent: Sequence[int], end: date) -> Pace:
    current = next((lv for lv in levels if lv.progress.done < lv.progress.total), None)
    remaining = current.progress.total - current.progress.done if current else 0
    per_week = sum(recent) / len(recent) if recent else 0.0
    weeks_needed = eta = None
    if per_week > 0 and remaining:
        weeks_needed = math.ceil(remaining / per_week)
        eta = end + timedelta(days=math.ceil(remaining / per_week * 7))
    return Pace(
        per_week=round(per_week, 2),
        weeks_measured=len(recent),
        level=current.name if current else None,
        remaining=remaining,
        weeks_needed=weeks_needed,
        eta=eta,
    )


# ------------------------------------------------------------------------------------ compute


def compute_digest(
    checklist: Checklist,
    items: Mapping[str, ItemState],
    history: Sequence[TickEvent],
    runs: Sequence[RunRecord],
    week: WeekId,
    zone: ZoneInfo,
    week_start: WeekStart,
    now: datetime,
    *,
    last_successful_sync: datetime | None = None,
    database_url: str | None = None,
    progress_url: str | None = None,
) -> DigestData:
    """Everything a digest shows for `week`, as plain numbers and items.

    `history` is the whole tick history (the streaks need it); `runs` are the runs since the week
    began (for the failure count); `last_successful_sync` is `Store.last_successful_pull()`.
    """
    window = build_week_window(week, zone, week_start)
    timelines = build_timelines(history, zone, checklist)
    view = _View(checklist, items, timelines, window.end, zone)
    by_week = completions_by_week(timelines, zone, week_start)
    completions = _completions(view, completions_in_week(timelines, window))  # as `status` lists

    tracking_since, first_week = _tracking_since(history, view, week_start, week)
    is_first = first_week >= week
    before, previous, recent = _weekly_counts(by_week, first_week, week)
    report = build_progress(checklist, items, view.status)
    levels = _progress(report)
    # the first digest's baseline: what was done as the week began
    starting_point, backdated = _starting_point(view, window.start) if is_first else (None, 0)

    return DigestData(
        title=_one_line(checklist.title, 200),
        week=str(week),
        window=window,
        generated_at=now.astimezone(zone),
        is_first=is_first,
        is_quiet=not is_first and not completions,
        done_this_week=len(completions),
        done_last_week=before[0],
        four_week_average=round(sum(previous) / len(previous), 2) if previous else None,
        average_weeks=len(previous),
        overall=Progress(report.overall.done, report.overall.total),
        starting_point=starting_point,
        starting_point_backdated=backdated,
        levels=levels,
        completions=completions,
        in_progress=_in_progress(view, window.end, min(now, window.end)),
        reopened=_reopened(view, window.start, window.end),
        next_up=_next_up(view),
        consistency=_consistency(by_week, first_week, week, tracking=tracking_since is not None),
        pace=_pace([lv for lv in levels if lv.name != OWN_ITEMS], recent, window.end_local.date()),
        sync=compute_sync_health(runs, window.start, now, last_successful_sync, zone),
        tracking_since=tracking_since.astimezone(zone) if tracking_since else None,
        skipped=report.skipped,
        database_url=_web_url(database_url),
        progress_url=_web_url(progress_url),
    )


def _tracking_since(
    history: Sequence[TickEvent], view: _View, week_start: WeekStart, week: WeekId
) -> tuple[datetime | None, WeekId]:
    """The first observation, and the week it fell in (`week` when there is none yet)."""
    since = min((e.observed_at for e in history), default=None)
    return since, week_of_day(view.day(since), week_start) if since else week


def _weekly_counts(
    by_week: Mapping[WeekId, Sequence[Done]], first_week: WeekId, week: WeekId
) -> tuple[list[int | None], list[int], list[int]]:
    """Completions in each of the `AVERAGE_WEEKS` weeks before `week` (None: before tracking
    began), the same without those None, and in the `PACE_WEEKS` weeks up to `week` that were
    tracked."""

    def done_in(target: WeekId) -> int | None:
        return None if target < first_week else len(by_week.get(target, ()))

    before = [done_in(week.shift(-n)) for n in range(1, AVERAGE_WEEKS + 1)]
    recent = [c for c in (done_in(week.shift(-n)) for n in range(PACE_WEEKS)) if c is not None]
    return before, [count for count in before if count is not None], recent


def _consistency(
    by_week: Mapping[WeekId, Sequence[Done]], first_week: WeekId, week: WeekId, *, tracking: bool
) -> Consistency:
    """The runs of weeks with a completion, from the first tracked week to `week`."""
    active = {w for w, done in by_week.items() if done and first_week <= w <= week}
    runs_of_weeks = _active_runs(active, min(first_week, week), week)
    return Consistency(
        current_run=runs_of_weeks[-1],
        longest_run=max(runs_of_weeks),
        active_weeks=len(active),
        tracked_weeks=weeks_between(first_week, week) + 1 if tracking else 0,
    )


def compute_sync_health(
    runs: Sequence[RunRecord],
    since: datetime,
    now: datetime,
    last_successful_sync: datetime | None,
    zone: ZoneInfo,
) -> SyncHealth:
    """Failed runs in [since, now] and the last successful pull.

    A run left unfinished while a later one started (a crash) counts as failed; the last run may
    still be going and does not.
    """
    considered = [r for r in runs if since <= r.started_at <= now]
    failed = [
        r
        for index, r in enumerate(considered)
        if not r.ok and (r.finished_at is not None or index < len(considered) - 1)
    ]
    last = failed[-1] if failed else None
    return SyncHealth(
        last_success=last_successful_sync.astimezone(zone) if last_successful_sync else None,
        failures=len(failed),
        failures_since=since.astimezone(zone),
        last_failure_at=(last.finished_at or last.started_at).astimezone(zone) if last else None,
        last_failure_error=_one_line(last.error, 200) if last and last.error else None,
    )
