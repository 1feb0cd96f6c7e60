"""The nouns of a weekly digest: frozen, typed, plain data that the templates and JSON read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sync.model import Status
from sync.progress import percent_done
from sync.weeks import WeekWindow


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        """Rounded down, so 100 means every item is done (the rule of `sync.progress`)."""
        return percent_done(self.done, self.total)


@dataclass(frozen=True)
class CategoryProgress:
    name: str
    progress: Progress


@dataclass(frozen=True)
class LevelProgress:
    name: str
    icon: str | None
    progress: Progress
    categories: tuple[CategoryProgress, ...]


@dataclass(frozen=True)
class ItemRef:
    """An item as the digest shows it; `url` is its Notion page (http/https only) or None."""

    key: str
    title: str
    level: str | None
    level_icon: str | None
    category: str | None
    url: str | None


@dataclass(frozen=True)
class Completion:
    item: ItemRef
    completed_on: date
    notes: str
    evidence_url: str | None
    evidence_text: str


@dataclass(frozen=True)
class InProgress:
    item: ItemRef
    since: date | None
    days: int | None
    stalled: bool
    notes: str = ""

    @property
    def weeks(self) -> int | None:
        return None if self.days is None else self.days // 7


@dataclass(frozen=True)
class Reopened:
    item: ItemRef
    reopened_on: date
    status: Status


@dataclass(frozen=True)
class NextUp:
    item: ItemRef
    project_idea: str | None


@dataclass(frozen=True)
class Consistency:
    """Active weeks (at least one completion) in a row up to this week, and the longest run."""

    current_run: int
    longest_run: int
    active_weeks: int
    tracked_weeks: int


@dataclass(frozen=True)
class Pace:
    """Completions per week over the last weeks, and when the current level would be finished."""

    per_week: float
    weeks_measured: int
    level: str | None
    remaining: int
    weeks_needed: int | None
    eta: date | None


@dataclass(frozen=True)
class SyncHealth:
    last_success: datetime | None
    failures: int
    failures_since: datetime
    last_failure_at: datetime | None
    last_failure_error: str | None


@dataclass(frozen=True)
class DigestData:
    title: str
    week: str
    window: WeekWindow
    generated_at: datetime
    is_first: bool
    is_quiet: bool
    done_this_week: int
    done_last_week: int | None
    four_week_average: float | None  # over `average_weeks` weeks: fewer than 4 early on
    average_weeks: int
    overall: Progress
    starting_point: Progress | None  # the first digest only: done as the week began
    levels: tuple[LevelProgress, ...]
    completions: tuple[Completion, ...]
    in_progress: tuple[InProgress, ...]
    reopened: tuple[Reopened, ...]
    next_up: tuple[NextUp, ...]
    consistency: Consistency
    pace: Pace
    sync: SyncHealth
    tracking_since: datetime | None = None
    skipped: int = 0
    database_url: str | None = None  # the checklist database in Notion (http/https only)
    starting_point_backdated: int = 0  # of the starting point: seen done only in the first week
    progress_url: str | None = None  # its Progress tab (the charts), when there is one

    @property
    def stalled_count(self) -> int:
        return sum(1 for item in self.in_progress if item.stalled)
