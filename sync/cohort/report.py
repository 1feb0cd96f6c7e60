"""PURE: the cohort's numbers as JSON-ready data, shared by `cohort status --json` and the cohort
digest's JSON. Every number is one `sync.cohort.grid` took from `sync.progress`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sync.cohort.grid import CohortGrid, LearnerNumbers
from sync.progress import OWN_ITEMS, Tally
from sync.weeks import WeekWindow


def _tally(tally: Tally) -> dict[str, int]:
    return {
        "done": tally.done,
        "total": tally.total,
        "percent": tally.percent,
        "in_progress": tally.in_progress,
        "skipped": tally.skipped,
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def build_learner_json(numbers: LearnerNumbers, *, include_notes: bool) -> dict[str, Any]:
    """One learner's entry under `learners`."""
    completed = []
    for c in numbers.completed:
        entry: dict[str, Any] = {"key": c.key, "title": c.title, "level": c.level}
        entry["completed_on"] = c.day.isoformat()
        if include_notes:
            entry.update(notes=c.notes, evidence=c.evidence)
        completed.append(entry)
    return {
        "name": numbers.name,
        "database_id": numbers.database_id,
        "url": numbers.url,
        "reachable": numbers.reachable,
        "unreachable_reason": numbers.reason,
        "synced_at": numbers.synced_at.isoformat() if numbers.synced_at else None,
        **_tally(numbers.overall),
        "levels": [{"name": g.name, **_tally(g.tally)} for g in numbers.levels],
        "done_this_week": len(numbers.completed),
        "completed_this_week": completed,
        "last_activity": _day(numbers.last_activity),
        "last_completion": _day(numbers.last_completion),
        "stalled": numbers.stalled,
        "behind": numbers.behind,
        "in_progress_items": [
            {"key": s.key, "title": s.title, "since": s.since.isoformat() if s.since else None}
            for s in numbers.in_progress
        ],
    }


def build_heat_days(today: date, days: int) -> list[date]:
    """The heatmap's days, oldest first, ending today."""
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def build_cohort_json(
    grid: CohortGrid,
    *,
    window: WeekWindow,
    now: datetime,
    stalled_days: int,
    include_notes: bool,
) -> dict[str, Any]:
    """The whole cohort: its summary, one entry per learner, and the lists a mentor acts on."""
    return {
        "week": str(window.week),
        "week_first_day": window.first_day.isoformat(),
        "week_last_day": window.last_day.isoformat(),
        "generated_at": now.isoformat(),
        "stalled_days": stalled_days,
        "learner_count": len(grid.learners),
        "reachable_count": len(grid.reachable),
        "median_percent": grid.median_percent,
        "done_this_week": grid.done_in_week,
        "learners": [build_learner_json(n, include_notes=include_notes) for n in grid.learners],
        "stalled": [n.name for n in grid.learners if n.reachable and n.stalled],
        "behind": [n.name for n in grid.learners if n.behind],
        "unreachable": [
            {"name": n.name, "reason": n.reason} for n in grid.learners if not n.reachable
        ],
        "in_progress_longest": [
            {"key": s.key, "title": s.title, "learners": s.learners, "days": s.days}
            for s in grid.longest_started
        ],
    }


def build_level_names(grid: CohortGrid) -> list[str]:
    """Every level any learner has, in the order learners list them (own items last)."""
    names: dict[str, None] = {}
    for numbers in grid.learners:
        for group in numbers.levels:
            names.setdefault(group.name)
    ordered = [n for n in names if n != OWN_ITEMS]
    return ordered + ([OWN_ITEMS] if OWN_ITEMS in names else [])


def find_level(numbers: LearnerNumbers, name: str) -> Tally | None:
    for group in numbers.levels:
        if group.name == name:
            return group.tally
    return None
