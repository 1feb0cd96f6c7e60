"""Cohort fixtures: a sandbox holding a cohort, and the mentor's settings pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sync.checklist import Checklist
from sync.cohort.run import CohortSyncReport, run_cohort_sync
from sync.config import Settings, load_settings
from sync.sandbox import SandboxServer
from tests.engine.conftest import small_checklist

WRITES = ("POST", "PATCH", "DELETE", "PUT")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def checklist_items(checklist: Checklist) -> list[dict[str, Any]]:
    return [
        {"key": i.key, "title": i.title, "level": i.level, "category": i.category, "order": i.order}
        for i in checklist.ordered_items()
    ]


class Cohort:
    """A sandbox with a cohort made by the control call, and the mentor's tool pointed at it."""

    def __init__(self, sandbox: SandboxServer, state_dir: Path, checklist: Checklist) -> None:
        self.sandbox = sandbox
        self.control = sandbox.control
        self.state_dir = state_dir
        self.checklist = checklist
        self.page_id = ""
        self.learners: list[dict[str, Any]] = []

    def make(self, learners: int, seed: int = 1, in_columns: int | None = None) -> None:
        made = self.control.make_cohort(
            learners,
            checklist_items(self.checklist),
            in_columns=in_columns,
            seed=seed,
            levels=self.checklist.level_names(),
            categories=self.checklist.category_names(),
        )
        self.page_id = made["cohort_page_id"]
        self.learners = made["learners"]

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "NOTION_TOKEN": self.sandbox.token,
            "NOTION_BASE_URL": self.sandbox.base_url,
            "DSPROGRESS_COHORT_PAGE": self.page_id,
            "DSPROGRESS_STATE_DIR": str(self.state_dir),
            "DSPROGRESS_RATE_LIMIT": "0",
            "DSPROGRESS_TIMEZONE": "UTC",
            "DSPROGRESS_LOCK_TIMEOUT": "1",
        }
        values.update(overrides)
        return load_settings(None, **values)

    def sync(self, now: datetime | None = None, **kw: Any) -> CohortSyncReport:
        settings = kw.pop("settings", None) or self.settings()
        return run_cohort_sync(settings, now=now or self.now(), **kw)

    def now(self) -> datetime:
        """The sandbox's clock: Notion's time, as the rows' edit times are."""
        text = self.control._call("GET", "/clock")["now"]
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(timezone.utc)

    def writes(self) -> list[dict[str, Any]]:
        """Every write the sandbox received (a query is a POST that reads: not counted)."""
        return [
            e
            for e in self.control.requests()["entries"]
            if e["method"] in WRITES and not e["route"].endswith("/query")
        ]


@pytest.fixture
def cohort(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Cohort]:
    yield Cohort(sandbox, tmp_path / "mentor", small_checklist())
