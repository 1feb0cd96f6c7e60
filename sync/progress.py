"""PURE: the one owner of progress. What counts, how a percent is rounded, what a completion is.

The snapshot, `dsprogress status` and the weekly digest all read their numbers from here.

Counting. Every checklist item counts, and every own item of the learner (a row added in Notion)
that is not retired. A skipped item leaves the total (it is counted apart as `skipped`); a retired
item (gone from the checklist) does not count at all. A percent is a whole number rounded down,
so 100% means every counted item is done (and 0 of 0 is 0%).

Completions. The history is replayed per item into *spells*: stretches during which the item was
done. A spell begins on the completion's day: the row's Done on (whoever filled it; never later
than the day the tick was seen), otherwise the day a sync saw the tick, in the learner's time
zone. A Done on changed while the item stays done (a re-dated event) moves the completion to its
day. A spell ends when a sync sees the item no longer done. An item is *completed in a week* when
it was not done as the week began and is done as it ends: a tick, untick and re-tick inside one
week count once; a tick undone within its week does not count; a backdated Done on counts in the
week of that date, for past weeks and a first digest's starting point too.
The first observation of an item counts like any tick (an own item added already ticked is a
completion), except a done item seen first by a rebuilt state folder without a Done on (and
not ticked since the row's Sync base): that was done before tracking began.

Questions about a moment ("done before the week began?") are asked at local midnights or at now:
a spell begins at the local midnight of its day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sync.checklist import Checklist
from sync.model import ItemState, Status, TickEvent
from sync.weeks import (
    WeekId,
    WeekStart,
    WeekWindow,
    build_week_window,
    first_day_of,
    local_midnight,
    week_of_day,
)

OWN_ITEMS = "Your own items"
OPEN: tuple[Status, ...] = ("not_started", "in_progress")
StatusOf = Callable[[str], Status]


# ------------------------------------------------------------------------------------ counting


def percent_done(done: int, total: int) -> int:
    """Whole percent rounded down: 100 only when all `total` are done; 0 when nothing counts."""
    return 100 * done // total if total > 0 else 0


@dataclass(frozen=True)
class Tally:
    """Done over total of the items that count; skipped items are counted apart."""

    done: int = 0
    total: int = 0
    in_progress: int = 0
    skipped: int = 0

    @property
    def percent(self) -> int:
        return percent_done(self.done, self.total)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.done + other.done,
            self.total + other.total,
            self.in_progress + other.in_progress,
            self.skipped + other.skipped,
        )


def tally(statuses: Iterable[Status]) -> Tally:
    done = total = in_progress = skipped = 0
    for status in statuses:
        if status == "skipped":
            skipped += 1
            continue
        total += 1
        done += status == "done"
        in_progress += status == "in_progress"
    return Tally(done, total, in_progress, skipped)


@dataclass(frozen=True)
class GroupTally:
    """A level (with its categories, in checklist order) or the learner's own items."""

    name: str
    tally: Tally
    icon: str | None = None
    categories: tuple[GroupTally, ...] = ()


@dataclass(frozen=True)
class ProgressReport:
    overall: Tally
    levels: tuple[GroupTally, ...]  # every checklist level in order; own items last, when any

    @property
    def skipped(self) -> int:
        return self.overall.skipped


def build_item_order(checklist: Checklist, items: Mapping[str, ItemState]) -> dict[str, int]:
    """Where each item is listed: checklist order, then the state's other rows (own items,
    retired ones) by their Order and title. Keys known to neither sort last (`sort_keys`)."""
    others = sorted(
        (state for key, state in items.items() if checklist.item(key) is None),
        key=lambda s: (s.order if s.order is not None else 0.0, s.title.lower(), s.key),
    )
    ranked = [item.key for item in checklist.ordered_items()] + [s.key for s in others]
    return {key: index for index, key in enumerate(ranked)}


def sort_keys(keys: Iterable[str], order: Mapping[str, int]) -> list[str]:
    """`keys` in the order of `build_item_order`; unknown keys last, by key."""
    return sorted(keys, key=lambda key: (order.get(key, len(order)), key))


def own_item_keys(checklist: Checklist, items: Mapping[str, ItemState]) -> list[str]:
    """The learner's own items that count (not retired, not a checklist key), in listing order."""
    own = [
        key
        for key, state in items.items()
        if state.custom and not state.retired and checklist.item(key) is None
    ]
    return sort_keys(own, build_item_order(checklist, items))


def stored_status(items: Mapping[str, ItemState]) -> StatusOf:
    """Each item's status as the state holds it (not started when the state has no row)."""

    def status_of(key: str) -> Status:
        state = items.get(key)
        return state.status if state is not None else "not_started"

    return status_of


def build_progress(
    checklist: Checklist, items: Mapping[str, ItemState], status_of: StatusOf | None = None
) -> ProgressReport:
    """Done/total per level and category and overall; `status_of` defaults to the stored one."""
    status = status_of or stored_status(items)
    groups: dict[tuple[str, str], list[Status]] = {}
    for item in checklist.ordered_items():
        groups.setdefault((item.level, item.category), []).append(status(item.key))
    levels: list[GroupTally] = []
    for level in checklist.levels:
        categories = tuple(
            GroupTally(name, tally(groups.get((level.name, name), []))) for name in level.categories
        )
        total = sum((c.tally for c in categories), Tally())
        levels.append(GroupTally(level.name, total, level.icon, categories))
    own = own_item_keys(checklist, items)
    if own:
        levels.append(GroupTally(OWN_ITEMS, tally(status(key) for key in own)))
    return ProgressReport(sum((lv.tally for lv in levels), Tally()), tuple(levels))


# ---------------------------------------------------------------------------------- the history


@dataclass(frozen=True)
class Spell:
    """A stretch during which an item was done.

    `day` is the completion's day (None: done before tracking began); `start` its local midnight
    in UTC; `end` when a sync saw the item no longer done (None: still done). A spell that is not
    `counted` (a rebuilt state's first sight of a done item) is no completion.
    """

    day: date | None
    start: datetime | None
    end: datetime | None
    counted: bool

    def covers(self, moment: datetime) -> bool:
        """Done just before `moment`: begun before it, and no untick seen before it."""
        return (self.start is None or self.start < moment) and (
            self.end is None or self.end >= moment
        )


@dataclass
class ItemTimeline:
    """One item's observed statuses (in order) and its done spells."""

    key: str
    title: str
    observed: list[tuple[datetime, Status]] = field(default_factory=list)
    spells: list[Spell] = field(default_factory=list)

    def covering(self, moment: datetime) -> Spell | None:
        found = None
        for spell in self.spells:
            if spell.covers(moment):
                found = spell
        return found

    def status_before(self, moment: datetime) -> Status | None:
        """The status just before `moment`; None when no sync had seen the item by then."""
        if self.covering(moment) is not None:
            return "done"
        last: Status | None = None
        for at, status in self.observed:
            if at >= moment:
                break
            last = status
        return last

    def completed_in(self, start: datetime, end: datetime) -> date | None:
        """The completion's day when the item went from not done to done within [start, end)."""
        at_end = self.covering(end)
        if at_end is None or not at_end.counted or self.covering(start) is not None:
            return None
        return at_end.day

    def reopened_in(self, start: datetime, end: datetime) -> datetime | None:
        """When a sync saw the item undone, if it was done at `start` and open at `end`."""
        at_start = self.covering(start)
        if at_start is None or self.status_before(end) not in OPEN:
            return None
        return at_start.end

    def in_progress_since(self, moment: datetime) -> datetime | None:
        """When a sync first saw the current run of "in progress" (None when not in progress)."""
        since = None
        previous: Status | None = None
        for at, status in self.observed:
            if at >= moment:
                break
            if status == "in_progress" and previous != "in_progress":
                since = at
            previous = status
        return since if self.status_before(moment) == "in_progress" else None


def build_timelines(
    history: Iterable[TickEvent], zone: ZoneInfo, checklist: Checklist | None = None
) -> dict[str, ItemTimeline]:
    """Replay the history per item, under its current key (the checklist's migrations map a
    renamed or merged key to the one it became)."""
    timelines: dict[str, ItemTimeline] = {}
    for event in sorted(history, key=lambda e: e.observed_at):
        key = (checklist.resolve_key(event.key) if checklist else None) or event.key
        timeline = timelines.get(key)
        first = timeline is None
        if timeline is None:
            timeline = timelines[key] = ItemTimeline(key, event.title)
        timeline.title = event.title
        previous = timeline.observed[-1][1] if timeline.observed else None
        timeline.observed.append((event.observed_at, event.to_status))
        if event.to_status == "done" and previous != "done":
            timeline.spells.append(_begin_spell(event, zone, first=first))
        elif event.to_status == "done" and event.done_on is not None and timeline.spells:
            # Re-dated: the Done on of a done item changed; its completion moves to that day.
            last = timeline.spells[-1]
            day = _completion_day(event, zone)
            timeline.spells[-1] = Spell(day, local_midnight(day, zone), last.end, counted=True)
        elif event.to_status != "done" and previous == "done":
            last = timeline.spells[-1]
            timeline.spells[-1] = Spell(last.day, last.start, event.observed_at, last.counted)
    return timelines


def _begin_spell(event: TickEvent, zone: ZoneInfo, *, first: bool) -> Spell:
    seen = event.observed_at.astimezone(zone).date()
    if event.done_before_tracking:
        if first:
            return Spell(None, None, None, counted=False)
        return Spell(seen, local_midnight(seen, zone), None, counted=False)
    day = _completion_day(event, zone)
    return Spell(day, local_midnight(day, zone), None, counted=True)


def _completion_day(event: TickEvent, zone: ZoneInfo) -> date:
    """The row's Done on, never later than the day the sync saw it; else that day."""
    seen = event.observed_at.astimezone(zone).date()
    return min(event.done_on, seen) if event.done_on is not None else seen


def status_at(
    timelines: Mapping[str, ItemTimeline], items: Mapping[str, ItemState], moment: datetime
) -> StatusOf:
    """Each item's status just before `moment`: from the history, else the stored status for an
    item the history never saw; not started for one the history saw only later."""
    stored = stored_status(items)

    def status_of(key: str) -> Status:
        timeline = timelines.get(key)
        if timeline is None:
            return stored(key)
        return timeline.status_before(moment) or "not_started"

    return status_of


# ----------------------------------------------------------------------------------- the weeks


@dataclass(frozen=True)
class Completion:
    key: str
    day: date


def completions_in_week(
    timelines: Mapping[str, ItemTimeline], window: WeekWindow
) -> list[Completion]:
    """The items completed in the week, each once, by day then key."""
    found = []
    for key, timeline in timelines.items():
        day = timeline.completed_in(window.start, window.end)
        if day is not None:
            found.append(Completion(key, day))
    return sorted(found, key=lambda c: (c.day, c.key))


def completions_by_week(
    timelines: Mapping[str, ItemTimeline], zone: ZoneInfo, week_start: WeekStart
) -> dict[WeekId, list[Completion]]:
    """Every week that has completions, with them (each item at most once per week)."""
    windows: dict[WeekId, WeekWindow] = {}
    weeks: dict[WeekId, dict[str, Completion]] = {}
    for key, timeline in timelines.items():
        for spell in timeline.spells:
            if not spell.counted or spell.day is None:
                continue
            week = week_of_day(spell.day, week_start)
            window = windows.get(week) or windows.setdefault(
                week, build_week_window(week, zone, week_start)
            )
            day = timeline.completed_in(window.start, window.end)
            if day is not None:
                weeks.setdefault(week, {})[key] = Completion(key, day)
    return {
        week: sorted(found.values(), key=lambda c: (c.day, c.key))
        for week, found in sorted(weeks.items())
    }


def done_by_week(items: Mapping[str, ItemState], week_start: WeekStart) -> list[tuple[date, int]]:
    """Done items that count (not retired, not skipped), by the week of their Done on: (the
    week's first day, how many), oldest first. The Progress dashboard's line chart shows this,
    added up; an item done without a Done on is in no week."""
    weeks: dict[date, int] = {}
    for item in items.values():
        if item.retired or item.status != "done" or item.done_on is None:
            continue
        first = first_day_of(week_of_day(item.done_on, week_start), week_start)
        weeks[first] = weeks.get(first, 0) + 1
    return sorted(weeks.items())
