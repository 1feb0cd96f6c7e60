"""The state machine's learner in flight and its settled checks.

An edit in flight: the learner edits one row while a run waits between its read and its first
page write (a latency rule in the sandbox holds that write; the edit lands during the wait). A
field the run does not write keeps the learner's value; the very field it writes is the one race
the design leaves (Notion has no conditional write).

Settled: after every state folder has synced twice with the learner idle, every folder's
snapshot, `status --json`, digest and history say the same, and Done and Status agree in Notion.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sync.progress import build_timelines
from sync.sandbox.control import SandboxControl
from sync.store import STATE_FILE, open_store
from tests.cli.agreement import read_numbers
from tests.engine.machine_model import Known, Page

UTC = ZoneInfo("UTC")
BASE_COLUMN = "Sync base (leave as is)"
LEARNER_FIELDS = ("done", "status_option", "done_on", "notes")
TYPED_KEY = "entry.networks.typo"  # what the learner types over a row's Key


@dataclass
class Edit:
    """One learner edit: a field of a row (the model's names) and its new value."""

    page_id: str
    name: str
    value: Any

    def send(self, control: SandboxControl) -> None:
        if self.name == "done":
            control.tick(self.page_id, bool(self.value))
        elif self.name == "status_option":
            control.set_select(self.page_id, "Status", self.value)
        elif self.name == "done_on":
            control.set_date(self.page_id, "Done on", self.value)
        elif self.name == "notes":
            control.set_text(self.page_id, "Notes", self.value)
        else:
            control.set_text(self.page_id, BASE_COLUMN, self.value)


@dataclass
class InFlight:
    """An edit sent while the run's first page write waits in the sandbox."""

    edit: Edit
    control: SandboxControl
    base_url: str
    landed: bool = False
    rule_id: str = ""
    finished: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.rule_id = self.control.add_fault(
            "latency", method="PATCH", route="/v1/pages/{id}", latency_ms=400, times=1
        )["id"]
        self.thread = threading.Thread(target=self._wait_and_edit)
        self.thread.start()

    def _wait_and_edit(self) -> None:
        with SandboxControl(self.base_url) as control:
            while not self.finished.is_set():
                rules = [r for r in control.faults() if r["id"] == self.rule_id]
                if rules and rules[0]["hits"]:
                    self.edit.send(control)
                    self.landed = True
                    return
                self.finished.wait(0.005)

    def stop(self) -> None:
        self.finished.set()
        if self.thread is not None:
            self.thread.join()
        self.control.clear_faults()


def lose_state(state_dir: Path, whole: bool) -> None:
    """A lost state folder: its state file (with SQLite's side files), or the whole folder."""
    if whole:
        import shutil

        shutil.rmtree(state_dir, ignore_errors=True)
        return
    for suffix in ("", "-wal", "-shm"):
        (state_dir / f"{STATE_FILE}{suffix}").unlink(missing_ok=True)


def known_from_store(state_dir: Path, key: str) -> Known | None:
    """What a folder recorded for `key`, read back (after a run the model cannot predict)."""
    with open_store(state_dir) as store:
        item = store.load_items().get(key)
    if item is None:
        return None
    return Known(
        item.page_id,
        item.status,
        bool(item.done_raw),
        item.status_raw,
        item.tool_done_on.isoformat() if item.tool_done_on else None,
        item.in_progress_since is not None,
        item.done_on.isoformat() if item.done_on else None,
    )


def page_fields(page: Mapping[str, Any]) -> dict[str, Any]:
    """A Notion row's learner fields and base, in the model's names."""
    props = page["properties"]
    status = props["Status"]["select"]
    day = props["Done on"]["date"]
    return {
        "done": props["Done"]["checkbox"],
        "status_option": status["name"] if status else None,
        "done_on": day["start"] if day else None,
        "notes": "".join(t["plain_text"] for t in props["Notes"]["rich_text"]),
        "base": base_value(props),
    }


def base_value(props: Mapping[str, Any]) -> Any:
    """The Sync base column as the model holds it (see `as_base`)."""
    column = props.get(BASE_COLUMN) or {"rich_text": []}
    return as_base("".join(t["plain_text"] for t in column["rich_text"]))


def as_base(text: str) -> Any:
    """A Sync base text as the model holds it: parsed JSON, else the text, else None."""
    import json

    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def check_intent(page: Page, actual: Mapping[str, Any]) -> None:
    """The learner's last Done or Status action stands (when it is the only one of the two the
    learner moved since the row's base); the learner's last Done on stands."""
    if page.intent is not None:
        name, value = page.intent
        if name == "done":
            assert actual["done"] is value, (page.page_id, page.intent, actual)
        elif value == "Done":
            assert actual["done"] is True, (page.page_id, page.intent, actual)
        else:
            assert (actual["done"], actual["status_option"]) == (False, value), (
                page.page_id,
                page.intent,
                actual,
            )
    if page.intent_on is not None:
        assert actual["done_on"] == page.intent_on, (page.page_id, page.intent_on, actual)


def check_settled(
    state_dirs: Mapping[str, Path],
    checklist: Path,
    notion: Mapping[str, Mapping[str, Any]],
    pages: Mapping[str, Page],
    chosen: Mapping[str, str],
) -> int:
    """Every folder tells the same story as the others and as Notion, and the learner's last
    actions stand. Returns how many of those actions were checked."""
    now = datetime.now(timezone.utc)
    checked = 0
    for key, page_id in chosen.items():
        actual = page_fields(notion[page_id])
        assert actual["done"] == (actual["status_option"] == "Done"), (key, actual)
        check_intent(pages[page_id], actual)
        checked += (pages[page_id].intent is not None) + (pages[page_id].intent_on is not None)
    if key_fight(state_dirs, notion):
        return -1
    stories = {name: _story(path, checklist, now, notion) for name, path in state_dirs.items()}
    (first, told), *others = stories.items()
    for name, story in others:
        for part, value in story.items():
            assert value == told[part], f"{first} and {name} differ in {part}: {told[part]} {value}"
    return checked


def key_fight(state_dirs: Mapping[str, Path], notion: Mapping[str, Mapping[str, Any]]) -> bool:
    """The one known way folders end up telling different stories (a finding, see
    tests/engine/test_one_story.py::test_two_folders_fight_over_a_retired_rows_typed_key): a
    folder that first saw a retired row under the Key the learner typed over it keeps that key,
    one that knew the row keeps the old one, and each restores its own Key on every run."""
    keys: dict[str, set[str]] = {}
    for path in state_dirs.values():
        with open_store(path) as store:
            for key, item in store.load_items().items():
                keys.setdefault(item.page_id, set()).add(key)
    fights = {page_id: found for page_id, found in keys.items() if len(found) > 1}
    for page_id, found in fights.items():
        props = notion[page_id]["properties"] if page_id in notion else None
        assert props is not None and props["Retired"]["checkbox"], (page_id, found)
        assert TYPED_KEY in found, (page_id, found)
    return bool(fights)


def _story(
    state_dir: Path, checklist: Path, now: datetime, notion: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """What one folder says: snapshot items, status and digest numbers, and per item the final
    status of its history and its completion's day (for rows with a Done on: without one, a
    rebuilt folder dates a tick made before it began by when it saw it, or not at all)."""
    status, snapshot, digest = read_numbers(state_dir, checklist, "UTC", now)
    with open_store(state_dir) as store:
        history = store.load_history()
        items = store.load_items()
    timelines = build_timelines(history, UTC)
    dated = {
        key
        for key, item in items.items()
        if item.page_id in notion and page_fields(notion[item.page_id])["done_on"] is not None
    }
    return {
        "snapshot items": sorted(snapshot["items"], key=lambda i: i["key"]),
        "progress": (status["progress"], digest["overall"]),
        "this week": [
            (e["key"], e["completed_on"]) for e in status["this_week"] if e["key"] in dated
        ],
        "final status": {key: timelines[key].observed[-1][1] for key in items},
        "completion day": {
            key: (timelines[key].spells[-1].day, timelines[key].spells[-1].counted)
            for key in sorted(dated)
            if items[key].status == "done" and timelines[key].spells
        },
    }
