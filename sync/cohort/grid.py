"""PURE: a learner's numbers for the cohort grid, and the cohort's (median, behind, stalled).

Every number comes from `sync.progress`, the one owner of progress that a learner's own `status`
calls. What progress needs of a checklist is built from the learner's rows as their state holds
them (Key, Level, Category, Order, Retired) and from the order of the Level and Category options
in the learner's schema, never from the mentor's checklist: a learner may keep their own
checklist, or an older bundled one. Once the learner's own tool has synced (it retires what left
their checklist and keys their own items), these are the numbers of the learner's own `status`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sync.checklist import MAX_TITLE_LENGTH, Checklist, ChecklistItem, Level
from sync.model import CUSTOM_PREFIX, ItemState, TickEvent
from sync.open_items import in_progress_since
from sync.progress import (
    OWN_ITEMS,
    GroupTally,
    ProgressReport,
    Tally,
    build_progress,
    build_timelines,
    completions_by_week,
    completions_in_week,
    tally,
)
from sync.weeks import WeekStart, WeekWindow

NO_LEVEL = "No level"
NO_CATEGORY = "No category"
HEAT_DAYS = 56  # the heatmap's eight weeks


@dataclass(frozen=True)
class Completed:
    key: str
    title: str
    level: str | None
    day: date
    notes: str = ""
    evidence: str | None = None


@dataclass(frozen=True)
class Started:
    key: str
    title: str
    since: datetime | None


@dataclass(frozen=True)
class LearnerNumbers:
    """One learner's row of the grid (zeros and `reachable` False when never read)."""

    name: str
    database_id: str
    url: str = ""
    reachable: bool = True
    reason: str | None = None
    synced_at: datetime | None = None
    overall: Tally = field(default_factory=Tally)
    levels: tuple[GroupTally, ...] = ()
    completed: tuple[Completed, ...] = ()  # in the week asked about
    last_completion: date | None = None
    last_activity: date | None = None
    in_progress: tuple[Started, ...] = ()
    heat: Mapping[date, int] = field(default_factory=dict)  # completions a day, last 8 weeks
    stalled: bool = False
    behind: bool = False


def _rank(names: Sequence[str]) -> dict[str, int]:
    return {name: index for index, name in enumerate(names)}


def build_learner_checklist(
    name: str, items: Mapping[str, ItemState], options: Mapping[str, Sequence[str]]
) -> Checklist | None:
    """The learner's checklist as their rows say: every keyed, not retired, not own item, by
    Level and Category (ordered as the schema's options), then Order, title and key. None when
    the learner has no checklist item at all."""
    rows = [s for s in items.values() if not s.retired and not s.key.startswith(CUSTOM_PREFIX)]
    if not rows:
        return None
    level_rank, category_rank = _rank(options.get("level", ())), _rank(options.get("category", ()))
    levels: dict[str, dict[str, list[ItemState]]] = {}
    for state in rows:
        level = levels.setdefault(state.level or NO_LEVEL, {})
        level.setdefault(state.category or NO_CATEGORY, []).append(state)
    built_levels, built_items = [], []
    for level_name in sorted(levels, key=lambda n: (level_rank.get(n, len(level_rank)), n)):
        categories = sorted(
            levels[level_name], key=lambda n: (category_rank.get(n, len(category_rank)), n)
        )
        built_levels.append(Level(name=level_name, categories=tuple(categories)))
        for category in categories:
            ranked = sorted(
                levels[level_name][category],
                key=lambda s: (s.order if s.order is not None else 0.0, s.title, s.key),
            )
            built_items += [
                ChecklistItem(
                    key=s.key,
                    title=(s.title.strip() or s.key)[:MAX_TITLE_LENGTH],
                    level=level_name,
                    category=category,
                    order=position,
                )
                for position, s in enumerate(ranked, start=1)
            ]
    return Checklist(title=name, version=1, levels=tuple(built_levels), items=tuple(built_items))


def build_learner_progress(
    checklist: Checklist | None, items: Mapping[str, ItemState]
) -> ProgressReport:
    """`sync.progress.build_progress` over the learner's own checklist; a learner with only own
    items has those alone (the same tally)."""
    if checklist is not None:
        return build_progress(checklist, items)
    own = [s.status for s in items.values() if s.custom and not s.retired]
    if not own:
        return ProgressReport(Tally(), ())
    counted = tally(own)
    return ProgressReport(counted, (GroupTally(OWN_ITEMS, counted),))


def _last_activity(history: Iterable[TickEvent], zone: ZoneInfo) -> date | None:
    """The last day (in the mentor's zone) the learner changed a status: a change a pass saw, or
    a Done on they set."""
    days = [
        event.done_on or event.observed_at.astimezone(zone).date()
        for event in history
        if event.from_status is not None or event.done_on is not None
    ]
    return max(days, default=None)


def build_learner_numbers(
    name: str,
    database_id: str,
    items: Mapping[str, ItemState],
    history: Sequence[TickEvent],
    options: Mapping[str, Sequence[str]],
    *,
    now: datetime,
    zone: ZoneInfo,
    week_start: WeekStart,
    window: WeekWindow,
    stalled_days: int,
) -> LearnerNumbers:
    """The learner's row: progress, the week's completions, activity, what is in progress."""
    checklist = build_learner_checklist(name, items, options)
    report = build_learner_progress(checklist, items)
    timelines = build_timelines(history, zone)
    completed = tuple(
        Completed(c.key, *_describe(items, timelines[c.key].title, c.key), c.day)
        for c in completions_in_week(timelines, window)
    )
    today = now.astimezone(zone).date()
    first_heat_day = today - timedelta(days=HEAT_DAYS - 1)
    heat: dict[date, int] = {}
    last_completion: date | None = None
    for found in completions_by_week(timelines, zone, week_start).values():
        for completion in found:
            last_completion = max(last_completion or completion.day, completion.day)
            if first_heat_day <= completion.day <= today:
                heat[completion.day] = heat.get(completion.day, 0) + 1
    started = tuple(
        Started(s.key, s.title, in_progress_since(timelines.get(s.key), s, now))
        for s in items.values()
        if s.status == "in_progress" and not s.retired
    )
    stalled = last_completion is None or (today - last_completion).days >= stalled_days
    return LearnerNumbers(
        name=name,
        database_id=database_id,
        overall=report.overall,
        levels=report.levels,
        completed=completed,
        last_completion=last_completion,
        last_activity=_last_activity(history, zone),
        in_progress=started,
        heat=heat,
        stalled=stalled,
    )


def _describe(items: Mapping[str, ItemState], title: str, key: str) -> tuple[str, str | None]:
    state = items.get(key)
    return (state.title or title, state.level) if state else (title, None)


def with_notes(numbers: LearnerNumbers, items: Mapping[str, ItemState]) -> LearnerNumbers:
    """The week's completions with the learner's Notes and Evidence (only when asked for)."""
    completed = tuple(
        replace(c, notes=items[c.key].notes, evidence=items[c.key].evidence)
        if c.key in items
        else c
        for c in numbers.completed
    )
    return replace(numbers, completed=completed)


@dataclass(frozen=True)
class LongestStarted:
    """An item in progress at several learners, with the days summed over them."""

    key: str
    title: str
    learners: int
    days: int


@dataclass(frozen=True)
class CohortGrid:
    learners: tuple[LearnerNumbers, ...]
    median_percent: float | None
    longest_started: tuple[LongestStarted, ...]

    @property
    def reachable(self) -> tuple[LearnerNumbers, ...]:
        return tuple(n for n in self.learners if n.reachable)

    @property
    def done_in_week(self) -> int:
        return sum(len(n.completed) for n in self.learners)


def build_cohort_grid(
    learners: Sequence[LearnerNumbers], *, now: datetime, top: int = 5
) -> CohortGrid:
    """Behind: a reachable learner whose percent done is below the median of the reachable
    learners'. The items in progress the longest: days in progress summed over learners."""
    read = [n for n in learners if n.reachable]
    median = statistics.median(n.overall.percent for n in read) if read else None
    marked = tuple(
        replace(n, behind=median is not None and n.reachable and n.overall.percent < median)
        for n in learners
    )
    summed: dict[str, tuple[str, int, int]] = {}
    for numbers in read:
        for item in numbers.in_progress:
            days = max(0, (now - item.since).days) if item.since else 0
            title, count, total = summed.get(item.key, (item.title, 0, 0))
            summed[item.key] = (title, count + 1, total + days)
    longest = sorted(
        (LongestStarted(key, title, count, days) for key, (title, count, days) in summed.items()),
        key=lambda s: (-s.days, -s.learners, s.key),
    )
    return CohortGrid(marked, median, tuple(longest[:top]))
