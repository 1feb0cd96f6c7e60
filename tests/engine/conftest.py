"""Engine fixtures: dsprogress configured for a fresh sandbox and a small checklist."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.checklist import Checklist, parse_checklist
from sync.checklist_files import load_checklist
from sync.config import Settings, load_settings
from sync.engine import SyncReport, run_sync
from sync.sandbox import SandboxServer
from sync.snapshot import load_snapshot
from sync.store import open_store

SMALL = """
title: Small checklist
version: {version}
levels:
  - name: Entry
    categories: [Networks, General]
  - name: Advanced
    categories: [General]
items:
{items}
migrations: {migrations}
"""
ITEMS = [
    ("entry.networks.dense", "Dense layers", "Entry", "Networks", 1),
    ("entry.networks.cnn", "Convolutional neural networks", "Entry", "Networks", 2),
    ("entry.networks.rnn", "Recurrent neural networks", "Entry", "Networks", 3),
    ("entry.general.callbacks", "Callbacks", "Entry", "General", 1),
    ("advanced.general.rl", "Reinforcement learning", "Advanced", "General", 1),
]


def small_checklist_text(
    items: list[tuple[str, str, str, str, int]] | None = None,
    version: int = 1,
    migrations: str = "[]",
) -> str:
    body = "".join(
        f"  - {{key: {k}, title: {t}, level: {lv}, category: {c}, order: {o},"
        f" description: Learn {t.lower()}}}\n"
        for k, t, lv, c, o in (ITEMS if items is None else items)
    )
    return SMALL.format(version=version, items=body, migrations=migrations)


def small_checklist(
    items: list[tuple[str, str, str, str, int]] | None = None,
    version: int = 1,
    migrations: str = "[]",
) -> Checklist:
    return parse_checklist(small_checklist_text(items, version, migrations), "t")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


class World:
    """A sandbox, settings pointing at it, and helpers to run and inspect syncs."""

    def __init__(self, sandbox: SandboxServer, state_dir: Path) -> None:
        self.sandbox = sandbox
        self.control = sandbox.control
        self.state_dir = state_dir
        self.checklist = small_checklist()

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "NOTION_TOKEN": self.sandbox.token,
            "NOTION_PARENT_PAGE_ID": self.sandbox.root_page_id,
            "NOTION_BASE_URL": self.sandbox.base_url,
            "DSPROGRESS_STATE_DIR": str(self.state_dir),
            "DSPROGRESS_RATE_LIMIT": "0",
            "DSPROGRESS_TIMEZONE": "UTC",
            "DSPROGRESS_LOCK_TIMEOUT": "1",
        }
        values.update(overrides)
        return load_settings(None, **values)

    def sync(self, mode: str = "sync", checklist: Checklist | None = None, **kw: Any) -> SyncReport:
        settings = kw.pop("settings", None) or self.settings()
        return run_sync(settings, checklist or self.checklist, mode=mode, **kw)  # type: ignore[arg-type]

    @property
    def data_source_id(self) -> str:
        with open_store(self.state_dir) as store:
            value = store.get_meta("data_source_id")
        assert value is not None
        return value

    def rows(self, include_trashed: bool = False) -> list[dict[str, Any]]:
        return self.control.pages(self.data_source_id, include_trashed=include_trashed)

    def page_of(self, key: str) -> dict[str, Any]:
        (page,) = [p for p in self.rows() if key_of(p) == key]
        return page

    def keys(self) -> list[str]:
        return sorted(key_of(p) for p in self.rows())

    def snapshot_items(self) -> dict[str, Any]:
        snapshot = load_snapshot(self.state_dir)
        assert snapshot is not None
        return {item.key: item for item in snapshot.items}

    def history(self) -> list[Any]:
        with open_store(self.state_dir) as store:
            return store.load_history()

    def writes(self) -> int:
        entries = self.control.requests()["entries"]
        return sum(
            1
            for e in entries
            if e["method"] in ("POST", "PATCH", "DELETE") and not e["route"].endswith("/query")
        )


def key_of(page: dict[str, Any]) -> str:
    prop = page["properties"].get("Key") or {"rich_text": []}
    return "".join(t["plain_text"] for t in prop["rich_text"])


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Iterator[World]:
    yield World(sandbox, tmp_path / "state")


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def bundled() -> Checklist:
    return load_checklist()


Runner = Callable[..., SyncReport]
