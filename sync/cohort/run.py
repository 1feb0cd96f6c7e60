"""A cohort pass: discovery when due, then a read-only sync of every learner; and the grid read
back from the learners' state folders. I/O at this edge; the numbers come from `grid` (pure).

The mentor's state is `<state>/cohort/`: the cohort's own state file (the roster, the digest weeks
sent) and one folder per learner database, `<state>/cohort/<database_id>/`, the same kind of
state a learner's own tool keeps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sync.cohort.grid import CohortGrid, LearnerNumbers, build_cohort_grid, build_learner_numbers
from sync.cohort.grid import with_notes as add_notes
from sync.cohort.reading import (
    OPTIONS_META,
    UNREACHABLE_META,
    learner_folder,
    read_learner,
    record_unreachable,
)
from sync.cohort.roster import (
    Learner,
    Roster,
    fetch_learners,
    load_roster,
    merge_roster,
    write_roster,
)
from sync.config import Settings
from sync.discovery import LiveTarget
from sync.errors import (
    ConfigError,
    DatabaseGoneError,
    NotionNotFoundError,
    NotionRequestError,
    NotionUnavailableError,
)
from sync.lock import hold_lock
from sync.notion.adapter import NotionAdapter, RetryCallback
from sync.store import open_store
from sync.store_file import STATE_FILE
from sync.weeks import WeekWindow

log = logging.getLogger("dsprogress.cohort")
COHORT_FOLDER = "cohort"
COHORT_LOCK = "cohort.lock"
ProgressCallback = Callable[[int, int, str], None]
# What makes one learner unreachable; anything else (a rejected token) stops the pass.
UNREACHABLE = (DatabaseGoneError, NotionNotFoundError, NotionRequestError, NotionUnavailableError)


def cohort_dir(settings: Settings) -> Path:
    return settings.state_dir / COHORT_FOLDER


def require_cohort(settings: Settings) -> tuple[str, str]:
    """The token and the cohort page; ConfigError naming what is missing."""
    problems = []
    if settings.token is None:
        problems.append(
            "NOTION_TOKEN: not set (a token that can read the cohort page and the pages under it)"
        )
    if settings.cohort_page is None:
        problems.append("DSPROGRESS_COHORT_PAGE: not set (the page that holds the learners' pages)")
    if problems:
        raise ConfigError(
            "the cohort is not configured",
            hint="Set NOTION_TOKEN and DSPROGRESS_COHORT_PAGE in .env (see .env.example).",
            details=problems,
        )
    assert settings.token is not None and settings.cohort_page is not None
    return settings.token, settings.cohort_page


@dataclass(frozen=True)
class LearnerOutcome:
    learner: Learner
    read: str | None = None  # "full" or "delta"; None when unreachable
    reason: str | None = None  # why the learner could not be read


@dataclass
class CohortSyncReport:
    discovered: bool
    outcomes: list[LearnerOutcome] = field(default_factory=list)
    requests: int = 0
    duration: float = 0.0

    @property
    def unreachable(self) -> list[LearnerOutcome]:
        return [o for o in self.outcomes if o.reason is not None]


def run_cohort_sync(
    settings: Settings,
    *,
    now: datetime,
    rediscover: bool = False,
    full: bool = False,
    progress: ProgressCallback | None = None,
    on_retry: RetryCallback | None = None,
    adapter: NotionAdapter | None = None,
) -> CohortSyncReport:
    """Discovery when due (or asked), then every learner read-only. A learner who cannot be read
    is recorded as unreachable and the others are read; the report lists them."""
    token, cohort_page = require_cohort(settings)
    notion = adapter or NotionAdapter(
        token,
        settings.notion_base_url,
        rate_limit=settings.rate_limit,
        notion_version=settings.notion_version,
        on_retry=on_retry,
    )
    folder = cohort_dir(settings)
    started = time.monotonic()
    try:
        with hold_lock(folder, COHORT_LOCK, settings.lock_timeout, what="another cohort sync"):
            roster, live = _roster(notion, folder, cohort_page, now, rediscover, progress)
            report = CohortSyncReport(live is not None)
            total = len(roster.learners)
            for index, learner in enumerate(roster.learners, start=1):
                just_read = (live or {}).get(learner.database_id)
                outcome = _read_one(notion, settings, folder, learner, now, full, just_read)
                report.outcomes.append(outcome)
                if progress is not None:
                    progress(index, total, "read")
        report.requests = notion.requests
        report.duration = round(time.monotonic() - started, 3)
        return report
    finally:
        if adapter is None:
            notion.close()


def _roster(
    notion: NotionAdapter,
    folder: Path,
    cohort_page: str,
    now: datetime,
    rediscover: bool,
    progress: ProgressCallback | None,
) -> tuple[Roster, dict[str, LiveTarget] | None]:
    """The roster, looked up again when due; with the databases discovery read (None when it
    did not run)."""
    with open_store(folder, move_aside_malformed=True) as store:
        roster = load_roster(store)
        if not rediscover and not roster.check_due(now):
            return roster, None
        step = (lambda done, total: progress(done, total, "discover")) if progress else None
        found, live = fetch_learners(notion, cohort_page, step)
        roster = Roster(now, merge_roster(roster.learners, found))
        write_roster(store, roster)
        return roster, live


def _read_one(
    notion: NotionAdapter,
    settings: Settings,
    folder: Path,
    learner: Learner,
    now: datetime,
    full: bool,
    live: LiveTarget | None,
) -> LearnerOutcome:
    place = learner_folder(folder, learner.database_id)
    try:
        with open_store(place, move_aside_malformed=True) as store:
            done = read_learner(
                notion,
                store,
                learner.database_id,
                learner.data_source_id,
                now=now,
                full=full,
                full_read_interval=settings.full_read_interval,
                live=live,
            )
    except UNREACHABLE as exc:
        log.info("cohort: %s unreachable: %s", learner.name, exc.message)
        record_unreachable(place, exc.message, now)
        return LearnerOutcome(learner, reason=exc.message)
    return LearnerOutcome(learner, read=done.read)


def load_cohort_grid(
    settings: Settings, *, now: datetime, window: WeekWindow, include_notes: bool = False
) -> CohortGrid:
    """The grid from the learners' state folders (no network)."""
    folder = cohort_dir(settings)
    with open_store(folder) as store:
        roster = load_roster(store)
    learners = [
        _load_numbers(settings, folder, learner, now, window, include_notes)
        for learner in roster.learners
    ]
    return build_cohort_grid(learners, now=now)


def _load_numbers(
    settings: Settings,
    folder: Path,
    learner: Learner,
    now: datetime,
    window: WeekWindow,
    include_notes: bool,
) -> LearnerNumbers:
    place = learner_folder(folder, learner.database_id)
    if not (place / STATE_FILE).exists():
        return LearnerNumbers(
            learner.name,
            learner.database_id,
            learner.url,
            reachable=False,
            reason="not read yet: run `dsprogress cohort sync`",
        )
    with open_store(place) as store:
        items = store.load_items()
        history = store.load_history()
        options = store.get_json_meta(OPTIONS_META) or {}
        unreachable = store.get_json_meta(UNREACHABLE_META)
        synced_at = store.last_observation()
    numbers = build_learner_numbers(
        learner.name,
        learner.database_id,
        items,
        history,
        options,
        now=now,
        zone=settings.zone,
        week_start=settings.week_start,
        window=window,
        stalled_days=settings.cohort_stalled_days,
    )
    if include_notes:
        numbers = add_notes(numbers, items)
    return replace(
        numbers,
        url=learner.url,
        synced_at=synced_at,
        reachable=unreachable is None and synced_at is not None,
        reason=unreachable.get("reason") if isinstance(unreachable, dict) else None,
    )
