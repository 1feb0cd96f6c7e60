"""PURE: the numbers of a weekly digest, from the tick history, the last states and the runs.

No I/O and no clock: `now` is an argument. Every count comes from the append-only tick history,
bucketed by when a pull observed the change (never Notion's `last_edited_time`). A history event
with `from_status=None` is the first observation of an item: the baseline, never a completion.

Per week and item, a *completion* is an item that was not done when the week began, is done when it
ends, and got there through an observed change; a *reopening* is an item that was done when the
week began and is not started or in progress when it ends. Statuses "as of the week's end" come from
the history, so a digest rendered later for an old week shows that week as it was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
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
from sync.digest.week import (
    WeekId,
    WeekStart,
    build_week_window,
    week_containing,
    weeks_between,
)
from sync.logs import redact
from sync.model import ItemState, RunRecord, Status, TickEvent

STALLED_AFTER_DAYS = 21
AVERAGE_WEEKS = 4
PACE_WEEKS = 4
NEXT_UP_COUNT = 3
NOTE_LIMIT = 280
_OPEN: tuple[Status, ...] = ("not_started", "in_progress")


# ------------------------------------------------------------------------------- the history


@dataclass
class _WeekOutcome:
    completed: dict[str, datetime] = field(default_factory=dict)
    reopened: dict[str, tuple[datetime, Status]] = field(default_factory=dict)


@dataclass
class _Replay:
    """The history replayed up to the end of the digest week."""

    weeks: dict[WeekId, _WeekOutcome]
    status: dict[str, Status]
    in_progress_since: dict[str, datetime]


def _replay(
    history: Iterable[TickEvent],
    resolve: Mapping[str, str],
    zone: ZoneInfo,
    week_start: WeekStart,
    end: datetime,
) -> _Replay:
    events = sorted((e for e in history if e.observed_at < end), key=lambda e: e.observed_at)
    status: dict[str, Status] = {}
    since: dict[str, datetime] = {}
    weeks: dict[WeekId, _WeekOutcome] = {}
    for week, group in groupby(
        events, key=lambda e: week_containing(e.observed_at, zone, week_start)
    ):
        before: dict[str, Status | None] = {}
        reached_done: dict[str, datetime] = {}
        left_done: dict[str, datetime] = {}
        for event in group:
            key = resolve.get(event.key, event.key)
            previous = status.get(key)
            before.setdefault(key, previous)
            status[key] = event.to_status
            if event.to_status == "in_progress" and previous != "in_progress":
                since[key] = event.observed_at
            elif event.to_status != "in_progress":
                since.pop(key, None)
            if event.from_status is not None and event.to_status == "done":
                reached_done[key] = event.observed_at
            if previous == "done" and event.to_status != "done":
                left_done[key] = event.observed_at
        outcome = _WeekOutcome()
        for key, was in before.items():
            if key in reached_done and status[key] == "done" and was != "done":
                outcome.completed[key] = reached_done[key]
            if was == "done" and status[key] in _OPEN:
                outcome.reopened[key] = (left_done[key], status[key])
        weeks[week] = outcome
    return _Replay(weeks, status, since)


def _active_runs(weeks: Mapping[WeekId, _WeekOutcome], first: WeekId, last: WeekId) -> list[int]:
    """Lengths of consecutive active-week runs from `first` to `last`, in order."""
    runs: list[int] = []
    current = 0
    for offset in range(weeks_between(first, last) + 1):
        outcome = weeks.get(first.shift(offset))
        if outcome is not None and outcome.completed:
            current += 1
        else:
            if current:
                runs.append(current)
            current = 0
    runs.append(current)
    return runs


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
    """The checklist, the stored items and the replayed history, seen at the week's end."""

    def __init__(
        self,
        checklist: Checklist,
        items: Mapping[str, ItemState],
        history: Sequence[TickEvent],
        replay: _Replay,
        resolve: Mapping[str, str],
        zone: ZoneInfo,
    ) -> None:
        self.checklist = checklist
        self.items = items
        self.replay = replay
        self.zone = zone
        self.ordered = list(checklist.ordered_items())
        self.by_key = {item.key: item for item in self.ordered}
        self.rank = {item.key: index for index, item in enumerate(self.ordered)}
        self.icons = {level.name: level.icon for level in checklist.levels}
        self.last_event = {resolve[e.key]: e for e in history}

    def status(self, key: str) -> Status:
        """The status at the week's end; an item the history never saw keeps its stored status."""
        if key in self.replay.status:
            return self.replay.status[key]
        state = self.items.get(key)
        if state is not None and key not in self.last_event:
            return state.status
        return "not_started"

    def ref(self, key: str) -> ItemRef:
        state, spec, event = self.items.get(key), self.by_key.get(key), self.last_event.get(key)
        level: str | None = None
        category: str | None = None
        source = spec or state or event
        if source is not None:
            level, category = source.level, source.category
        title = state.title if state else spec.title if spec else event.title if event else key
        return ItemRef(
            key=key,
            title=_one_line(title, 200),
            level=level,
            level_icon=self.icons.get(level) if level else None,
            category=category,
            url=_web_url(state.url) if state else None,
        )

    def sort_keys(self, keys: Iterable[str]) -> list[str]:
        """Checklist order; items outside the checklist (your own) last, by key."""
        return sorted(keys, key=lambda k: (self.rank.get(k, len(self.rank)), k))

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def _completions(view: _View, outcome: _WeekOutcome) -> tuple[Completion, ...]:
    result = []
    for key in view.sort_keys(outcome.completed):
        state = view.items.get(key)
        evidence = (state.evidence or "") if state else ""
        url = _web_url(evidence)
        result.append(
            Completion(
                item=view.ref(key),
                completed_on=view.day(outcome.completed[key]),
                notes=_one_line(state.notes) if state else "",
                evidence_url=url,
                evidence_text="" if url else _one_line(evidence, 200),
            )
        )
    return tuple(result)


OWN_ITEMS = "Your own items"


def _levels(view: _View) -> tuple[tuple[LevelProgress, ...], int]:
    """Done/total per level and category (skipped items are not counted), and the skip count."""
    levels = []
    skipped = 0
    for level in view.checklist.levels:
        categories = []
        for category in level.categories:
            statuses = [
                view.status(i.key)
                for i in view.ordered
                if i.level == level.name and i.category == category
            ]
            skipped += statuses.count("skipped")
            counted = [s for s in statuses if s != "skipped"]
            if counted:
                progress = Progress(counted.count("done"), len(counted))
                categories.append(CategoryProgress(category, progress))
        if categories:
            done = sum(c.progress.done for c in categories)
            total = sum(c.progress.total for c in categories)
            levels.append(
                LevelProgress(level.name, level.icon, Progress(done, total), tuple(categories))
            )
    own = [
        view.status(key)
        for key, state in view.items.items()
        if state.custom and not state.retired and key not in view.by_key
    ]
    skipped += own.count("skipped")
    counted_own = [s for s in own if s != "skipped"]
    if counted_own:  # the learner's own rows count in progress, as in the snapshot
        progress = Progress(counted_own.count("done"), len(counted_own))
        levels.append(LevelProgress(OWN_ITEMS, None, progress, ()))
    return tuple(levels), skipped


def _in_progress(view: _View, reference: datetime) -> tuple[InProgress, ...]:
    result = []
    for key in view.sort_keys(k for k in view.by_key if view.status(k) == "in_progress"):
        state = view.items.get(key)
        since = view.replay.in_progress_since.get(key) or (
            state.in_progress_since if state else None
        )
        days = max(0, (reference - since).days) if since else None
        result.append(
            InProgress(
                item=view.ref(key),
                since=view.day(since) if since else None,
                days=days,
                stalled=days is not None and days >= STALLED_AFTER_DAYS,
            )
        )
    result.sort(key=lambda p: (p.since is None, p.since or date.max))
    return tuple(result)


def _next_up(view: _View) -> tuple[NextUp, ...]:
    result = []
    for item in view.ordered:
        state = view.items.get(item.key)
        if view.status(item.key) in _OPEN and not (state and state.retired):
            result.append(
                NextUp(
                    item=view.ref(item.key),
                    project_idea=item.project_idea,
                    in_progress=view.status(item.key) == "in_progress",
                )
            )
        if len(result) == NEXT_UP_COUNT:
            break
    return tuple(result)


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
) -> DigestData:
    """Everything a digest shows for `week`, as plain numbers and items.

    `history` is the whole tick history (the streaks need it); `runs` are the runs since the week
    began (for the failure count); `last_successful_sync` is `Store.last_successful_pull()`.
    """
    window = build_week_window(week, zone, week_start)
    resolve = {e.key: checklist.resolve_key(e.key) or e.key for e in history}
    replay = _replay(history, resolve, zone, week_start, window.end)
    view = _View(checklist, items, history, replay, resolve, zone)
    this_week = replay.weeks.get(week, _WeekOutcome())
    completions = _completions(view, this_week)

    tracking_since = min((e.observed_at for e in history), default=None)
    first_week = week_containing(tracking_since, zone, week_start) if tracking_since else week
    is_first = first_week >= week

    def done_in(target: WeekId) -> int | None:
        if target < first_week:
            return None
        outcome = replay.weeks.get(target)
        return len(outcome.completed) if outcome else 0

    before = [done_in(week.shift(-n)) for n in range(1, AVERAGE_WEEKS + 1)]
    previous = [count for count in before if count is not None]
    recent = [c for c in (done_in(week.shift(-n)) for n in range(PACE_WEEKS)) if c is not None]
    runs_of_weeks = _active_runs(replay.weeks, min(first_week, week), week)
    levels, skipped = _levels(view)
    in_progress = _in_progress(view, min(now, window.end))
    overall = Progress(
        sum(lv.progress.done for lv in levels), sum(lv.progress.total for lv in levels)
    )
    starting_point = None
    if is_first:  # the first digest's baseline: what was done before this week's changes
        net = sum(k in view.by_key for k in this_week.completed) - sum(
            k in view.by_key for k in this_week.reopened
        )
        starting_point = Progress(overall.done - net, overall.total)

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
        overall=overall,
        starting_point=starting_point,
        levels=levels,
        completions=completions,
        in_progress=in_progress,
        reopened=tuple(
            Reopened(item=view.ref(key), reopened_on=view.day(at), status=status)
            for key in view.sort_keys(this_week.reopened)
            for at, status in [this_week.reopened[key]]
        ),
        next_up=_next_up(view),
        consistency=Consistency(
            current_run=runs_of_weeks[-1],
            longest_run=max(runs_of_weeks),
            active_weeks=sum(1 for outcome in replay.weeks.values() if outcome.completed),
            tracked_weeks=weeks_between(first_week, week) + 1 if tracking_since else 0,
        ),
        pace=_pace([lv for lv in levels if lv.name != OWN_ITEMS], recent, window.end_local.date()),
        sync=compute_sync_health(runs, window.start, now, last_successful_sync, zone),
        tracking_since=tracking_since.astimezone(zone) if tracking_since else None,
        skipped=skipped,
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
        last_failure_error=_one_line(redact(last.error), 200) if last and last.error else None,
    )
