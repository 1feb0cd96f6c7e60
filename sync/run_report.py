"""What a run did (or, with --dry-run, would do): the report every command prints from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sync.actions import Mode, Plan
from sync.model import TickEvent

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class SyncReport:
    """What a run did (or, with --dry-run, would do)."""

    mode: Mode
    dry_run: bool
    plan: Plan
    database_id: str | None
    database_url: str | None
    created_database: bool = False
    found_database: bool = False  # adopted from under the parent page (a new or rebuilt state)
    switched_from: str | None = None  # the database the state followed before NOTION_DATABASE_ID
    state_moved_aside: Path | None = None  # where a malformed state file went
    applied: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    read: str = "none"  # how the rows were read: "full", "delta" (edited since the last) or "none"
    rows_read: int = 0  # rows Notion returned
    duration: float = 0.0
    snapshot_path: Path | None = None
    late_ticks: list[TickEvent] = field(default_factory=list)  # seen in our writes' answers
    cockpit_added: bool = False  # the Progress dashboard was added to the database

    def counts(self) -> dict[str, int]:
        verbs = (
            "create",
            "update",
            "adopt",
            "restore-key",
            "migrate",
            "retire",
            "trash",
            "fill-done-on",
            "align",
            "tick",
            "heal",
            "trash-duplicate",
            "duplicate",
            "unknown-key",
        )
        counts = {verb: self.plan.count(verb) for verb in verbs}
        counts["tick"] += len(self.late_ticks)
        return counts


def describe_action(action: Any) -> dict[str, Any]:
    """A JSON-ready description of a plan action (stable keys, no secrets)."""
    data: dict[str, Any] = {"action": action.verb}
    for name, value in vars(action).items():
        if name == "event":
            value = {
                "key": value.key,
                "from": value.from_status,
                "to": value.to_status,
                "title": value.title,
            }
        elif isinstance(value, Mapping):
            value = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in value.items()}
        elif isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[name] = value
    return data
