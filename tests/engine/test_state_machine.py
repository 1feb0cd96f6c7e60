"""A hypothesis state machine for the engine (after vdirsyncer's `SyncMachine`).

The learner works in Notion (ticks, Status, Notes, own rows, trash and restore), the checklist
changes (titles; items removed, brought back, added), and push, pull and sync run against a real
sandbox over HTTP. A small model says what every Notion row, the state and the tick history should
hold after each run, and when a run must halt ("no rows", too many retired); after each successful
run the same run again must be a no-op.

A row the learner trashed is recreated by the next push; its key's history continues from the
last known status (e.g. `done -> not_started`), so replaying the history always ends at the state.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sync.checklist import Checklist
from sync.engine import SyncReport
from sync.errors import SafetyHaltError
from sync.sandbox import SandboxServer
from sync.store import open_store
from tests.engine.conftest import ITEMS, World, key_of, small_checklist

CUSTOM = "custom."
EXTRA_ITEMS = [
    ("entry.general.pandas", "Pandas dataframes", "Entry", "General", 2),
    ("entry.networks.gan", "Generative adversarial networks", "Entry", "Networks", 4),
    ("advanced.general.transformers", "Transformers", "Advanced", "General", 2),
]
# Every item the checklist may ever hold, in a fixed order: key -> (title, level, category, order).
POOL = {key: (title, lv, cat, order) for key, title, lv, cat, order in [*ITEMS, *EXTRA_ITEMS]}
OPTIONS = {"Not started": "not_started", "In progress": "in_progress", "Done": "done"}
OPTIONS["Skipped"] = "skipped"
OWN_TITLES = ["Kaggle Titanic", "Read a paper", "Blog post"]
NOTES = ["", "chapter 3", "redo the exercises"]
PICK = st.integers(min_value=0, max_value=11)
RETIRE_THRESHOLD = 0.25


def plain(items: list[dict[str, Any]]) -> str:
    return "".join(item["plain_text"] for item in items)


def note_event(name: str) -> None:
    """Count what the examples reached (`--hypothesis-show-statistics`); no-op outside a test."""
    if currently_in_test_context():
        event(name)


def status_of(done: bool, option: str | None) -> str:
    """The design's rule: done when Done is ticked or Status is Done; otherwise Status decides."""
    return "done" if done else OPTIONS.get(option or "", "not_started")


@dataclass
class Page:
    """What one Notion row should hold."""

    page_id: str
    created_time: str
    key: str | None
    title: str
    own: bool
    done: bool = False
    status_option: str | None = None
    notes: str = ""
    done_on: bool = False
    retired: bool = False
    trashed: bool = False
    restored: bool = False

    @property
    def status(self) -> str:
        return status_of(self.done, self.status_option)

    @property
    def has_learner_data(self) -> bool:
        started = self.status_option not in (None, "Not started")
        return self.done or started or self.done_on or bool(self.notes)


@dataclass
class Prediction:
    """What the model expects one run to do."""

    halt: str | None = None
    adopt: dict[str, str] = field(default_factory=dict)  # page_id -> new key
    creates: list[str] = field(default_factory=list)  # keys
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # page_id -> changes
    fills: set[str] = field(default_factory=set)  # page ids that get a Done on
    ticks: list[tuple[str, str | None, str]] = field(default_factory=list)
    chosen: dict[str, str] = field(default_factory=dict)  # key -> page_id

    @property
    def is_noop(self) -> bool:
        return not (self.adopt or self.creates or self.updates or self.fills or self.ticks)


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sandbox = SandboxServer(rate_limit=None, port=0).start()
        self.tmp = Path(tempfile.mkdtemp(prefix="dsprogress-machine-"))
        self.world = World(self.sandbox, self.tmp / "state")
        self.titles = {key: POOL[key][0] for key, *_ in ITEMS}  # the current checklist
        self.ever = set(self.titles)
        self.version = 1
        self.pages: dict[str, Page] = {}  # insertion order: deterministic picks
        self.state: dict[str, tuple[str, str]] = {}  # key -> (page_id, status)
        self.synced_titles = dict(self.titles)  # the checklist of the last successful run
        self.seen_events = 0
        self.used_keys: set[str] = set()  # every key the tick history has seen
        self.replay: dict[str, str] = {}  # the tick history replayed so far: key -> status

    def teardown(self) -> None:
        self.sandbox.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------
    def checklist(self) -> Checklist:
        items = [(k, self.titles[k], *POOL[k][1:]) for k in POOL if k in self.titles]
        return small_checklist(items, version=self.version)

    def live(self) -> list[Page]:
        return [p for p in self.pages.values() if not p.trashed]

    def trashed(self) -> list[Page]:
        return [p for p in self.pages.values() if p.trashed]

    def removed(self) -> list[str]:
        return [k for k in POOL if k in self.ever and k not in self.titles]

    def never_added(self) -> list[str]:
        return [k for k in POOL if k not in self.ever]

    def current(self) -> list[str]:
        return [k for k in POOL if k in self.titles]

    def next_minute(self) -> None:
        """Notion's created_time has minutes only, and ties go by page id (random): a minute
        between creations keeps "the oldest row" (and so every example) deterministic."""
        self.world.control.advance_clock(60)

    # -- the learner, in Notion ------------------------------------------------------------
    @precondition(lambda self: self.live())
    @rule(pick=PICK, done=st.booleans())
    def tick(self, pick: int, done: bool) -> None:
        page = self.live()[pick % len(self.live())]
        self.world.control.tick(page.page_id, done)
        page.done = done

    @precondition(lambda self: self.live())
    @rule(pick=PICK, option=st.sampled_from([*OPTIONS, None]))
    def set_status(self, pick: int, option: str | None) -> None:
        page = self.live()[pick % len(self.live())]
        self.world.control.set_select(page.page_id, "Status", option)
        page.status_option = option

    @precondition(lambda self: self.live())
    @rule(pick=PICK, notes=st.sampled_from(NOTES))
    def write_notes(self, pick: int, notes: str) -> None:
        page = self.live()[pick % len(self.live())]
        self.world.control.set_text(page.page_id, "Notes", notes)
        page.notes = notes

    @rule(title=st.sampled_from(OWN_TITLES), done=st.booleans())
    def add_own_row(self, title: str, done: bool) -> None:
        properties = {"Done": {"checkbox": True}} if done else None
        self.next_minute()
        page_id = self.world.control.add_row(self.world.data_source_id, title, properties)
        created = self.world.control.page(page_id)["created_time"]
        self.pages[page_id] = Page(page_id, created, None, title, own=True, done=done)

    @precondition(lambda self: self.live())
    @rule(pick=PICK, every_row=st.sampled_from([False, False, False, False, True]))
    def trash(self, pick: int, every_row: bool) -> None:
        """One row, or now and then every row (the next run meets the "no rows" halt)."""
        live = self.live()
        for page in live if every_row else [live[pick % len(live)]]:
            self.world.control.trash(page.page_id)
            page.trashed = True

    @precondition(lambda self: self.trashed())
    @rule(pick=PICK)
    def restore(self, pick: int) -> None:
        page = self.trashed()[pick % len(self.trashed())]
        self.world.control.restore(page.page_id)
        page.trashed, page.restored = False, True

    # -- the checklist changes -------------------------------------------------------------
    @rule(pick=PICK)
    def retitle_item(self, pick: int) -> None:
        key = self.current()[pick % len(self.current())]
        base = POOL[key][0]
        self.titles[key] = f"{base} in depth" if self.titles[key] == base else base
        self.version += 1

    @precondition(lambda self: len(self.titles) > 2)
    @rule(pick=PICK)
    def remove_item(self, pick: int) -> None:
        del self.titles[self.current()[pick % len(self.current())]]
        self.version += 1

    @precondition(lambda self: self.removed())
    @rule(pick=PICK)
    def bring_back_item(self, pick: int) -> None:
        key = self.removed()[pick % len(self.removed())]
        self.titles[key] = POOL[key][0]
        self.version += 1

    @precondition(lambda self: self.never_added())
    @rule(pick=PICK)
    def add_item(self, pick: int) -> None:
        key = self.never_added()[pick % len(self.never_added())]
        self.titles[key] = POOL[key][0]
        self.ever.add(key)
        self.version += 1

    # -- runs ------------------------------------------------------------------------------
    @initialize()
    def first_sync(self) -> None:
        self.run_and_check("sync", force=False)

    @rule(force=st.booleans())
    def sync(self, force: bool) -> None:
        self.run_twice("sync", force)

    @rule(force=st.booleans())
    def push(self, force: bool) -> None:
        self.run_twice("push", force)

    @rule(force=st.booleans())
    def pull(self, force: bool) -> None:
        self.run_twice("pull", force)

    def run_twice(self, mode: str, force: bool) -> None:
        report = self.run_and_check(mode, force)
        if report is not None:
            again = self.run_and_check(mode, force)
            assert again is not None and again.plan.is_noop, (
                f"a second {mode} right after a {mode} is not a no-op: {again and again.applied}"
            )

    def run_and_check(self, mode: str, force: bool) -> SyncReport | None:
        self.next_minute()
        expected = self.predict(mode, force)
        if expected.halt is not None:
            note_event(f"halt: {expected.halt.split(' ', 1)[-1]}")
            with pytest.raises(SafetyHaltError, match=expected.halt):
                self.world.sync(mode, checklist=self.checklist(), force=force)
            self.check_notion(mode, halted=True)
            self.check_state_and_history([], pulled=False)
            return None
        report = self.world.sync(mode, checklist=self.checklist(), force=force)
        for verb in ("adopt", "create", "retire", "duplicate", "fill-done-on"):
            if report.counts()[verb] and not (verb == "create" and len(self.pages) == 0):
                note_event(f"{mode}: {verb}")
        assert report.plan.is_noop == expected.is_noop, (report.applied, expected)
        self.commit(expected, mode)
        self.check_notion(mode, halted=False)
        self.check_state_and_history(expected.ticks, pulled=mode in ("pull", "sync"))
        return report

    # -- the model -------------------------------------------------------------------------
    def winner(self, group: list[Page], known: str | None) -> Page:
        """The design's rule: the learner's data wins, then the row we know, then the oldest."""
        return min(
            group,
            key=lambda p: (not p.has_learner_data, p.page_id != known, p.created_time, p.page_id),
        )

    def predict(self, mode: str, force: bool) -> Prediction:
        push, pull = mode in ("push", "sync"), mode in ("pull", "sync")
        out = Prediction()
        live = self.live()
        if not live and self.state and not force:
            return Prediction(halt="no rows")
        groups: dict[str, list[Page]] = {}
        for page in live:
            if page.key is not None:
                groups.setdefault(page.key, []).append(page)
        known_keys = set(groups)
        keyless = [p for p in live if p.key is None]
        for page in sorted(keyless, key=lambda p: (p.created_time, p.page_id)):
            base = CUSTOM + page.title.lower().replace(" ", "-")
            key, n = base, 2
            while key in known_keys or key in self.state or key in self.used_keys:
                key, n = f"{base}-{n}", n + 1
            out.adopt[page.page_id] = key
            known_keys.add(key)
            groups[key] = [page]
        known = {key: page_id for key, (page_id, _) in self.state.items()}
        chosen = {key: self.winner(group, known.get(key)) for key, group in groups.items()}
        out.chosen = {key: page.page_id for key, page in chosen.items()}
        retiring = 0
        if push:
            for key in self.current():
                row = chosen.get(key)
                if row is None:
                    out.creates.append(key)
                    continue
                changes: dict[str, Any] = {}
                if row.title != self.titles[key]:
                    changes["title"] = self.titles[key]
                if row.retired:
                    changes["retired"] = False
                if changes:
                    out.updates[row.page_id] = changes
            for key, row in chosen.items():
                if not key.startswith(CUSTOM) and key not in self.titles and not row.retired:
                    retiring += 1
                    out.updates[row.page_id] = {"retired": True}
        checklist_rows = sum(1 for key in chosen if not key.startswith(CUSTOM))
        if not force and checklist_rows and retiring > RETIRE_THRESHOLD * checklist_rows:
            return Prediction(halt=f"{retiring} of {checklist_rows} rows would be retired")
        for key, row in sorted(chosen.items()):
            before = self.state.get(key)
            previous = before[1] if before else None
            # Done on is filled the first time a row is seen done: by a pull, or at first sight.
            seen_done = (pull or before is None) and row.status == "done" != previous
            if seen_done and not row.done_on:
                out.fills.add(row.page_id)
            moved = before is not None and before[0] != row.page_id
            if before is None or ((pull or moved) and previous != row.status):
                out.ticks.append((key, previous, row.status))
        for key in out.creates:  # a recreated row continues its key's history
            previous = self.state[key][1] if key in self.state else None
            if previous != "not_started":
                out.ticks.append((key, previous, "not_started"))
        return out

    def commit(self, expected: Prediction, mode: str) -> None:
        """Take the run's expected effects into the model; new pages are read from Notion."""
        for page_id, key in expected.adopt.items():
            self.pages[page_id].key = key
        for page_id, changes in expected.updates.items():
            for name, value in changes.items():
                setattr(self.pages[page_id], name, value)
        for page_id in expected.fills:
            self.pages[page_id].done_on = True
        fresh = [p for p in self.world.rows(include_trashed=True) if p["id"] not in self.pages]
        assert sorted(key_of(p) for p in fresh) == sorted(expected.creates), (
            f"created {[key_of(p) for p in fresh]}, expected {expected.creates}"
        )
        for key in expected.creates:
            (new,) = [p for p in fresh if key_of(p) == key]
            self.pages[new["id"]] = Page(
                new["id"], new["created_time"], key, self.titles[key], own=False
            )
            self.pages[new["id"]].status_option = "Not started"
            expected.chosen[key] = new["id"]
        pulled = mode in ("pull", "sync")
        state: dict[str, tuple[str, str]] = {}
        for key, page_id in expected.chosen.items():
            before = self.state.get(key)
            page = self.pages[page_id]
            fresh_view = pulled or before is None or before[0] != page_id
            state[key] = (page_id, page.status if fresh_view else before[1])
        self.state = state
        self.synced_titles = dict(self.titles)

    # -- checks ----------------------------------------------------------------------------
    def check_notion(self, mode: str, halted: bool) -> None:
        pages = {p["id"]: p for p in self.world.rows(include_trashed=True)}
        assert set(pages) == set(self.pages), "rows appeared or vanished"
        for page_id, model in self.pages.items():
            props = pages[page_id]["properties"]
            status = props["Status"]["select"]
            actual = {
                "trashed": pages[page_id]["in_trash"],
                "key": key_of(pages[page_id]) or None,
                "title": plain(props["Name"]["title"]),
                "done": props["Done"]["checkbox"],
                "status_option": status["name"] if status else None,
                "notes": plain(props["Notes"]["rich_text"]),
                "done_on": props["Done on"]["date"] is not None,
                "retired": props["Retired"]["checkbox"],
            }
            wanted = {name: getattr(model, name) for name in actual}
            assert actual == wanted, f"{page_id} ({model.key}) in Notion: {actual}, model {wanted}"
        if halted:
            return
        live = self.live()
        for page in live:  # own rows are adopted with a custom key
            assert page.key is not None and (page.key.startswith(CUSTOM) or not page.own)
        if mode in ("push", "sync"):
            for key in self.titles:  # one row per checklist key, more only if the learner restored
                rows = [p for p in live if p.key == key]
                assert len(rows) == 1 or (rows and any(p.restored for p in rows)), (key, rows)
            for key, (page_id, _) in self.state.items():  # removed items retired, not trashed
                if not key.startswith(CUSTOM) and key not in self.titles:
                    assert self.pages[page_id].retired and not self.pages[page_id].trashed

    def check_state_and_history(
        self, ticks: list[tuple[str, str | None, str]], pulled: bool
    ) -> None:
        with open_store(self.world.state_dir) as store:
            items = store.load_items()
            history = store.load_history()
        assert {k: (s.page_id, s.status) for k, s in items.items()} == self.state
        for key, item in items.items():
            custom = key.startswith(CUSTOM)
            removed = not custom and key not in self.synced_titles
            retired = self.pages[item.page_id].retired or removed
            assert (item.custom, item.retired) == (custom, retired), key
        new = [(e.key, e.from_status, e.to_status) for e in history[self.seen_events :]]
        assert sorted(new, key=str) == sorted(ticks, key=str), "tick events differ from the model"
        for seen in history[self.seen_events :]:
            if seen.from_status is not None:
                assert seen.from_status == self.replay.get(seen.key), (
                    f"history jumps for {seen.key}: {self.replay.get(seen.key)} then "
                    f"{seen.from_status} -> {seen.to_status}"
                )
            self.replay[seen.key] = seen.to_status
            self.used_keys.add(seen.key)
        self.seen_events = len(history)
        for key, item in items.items():
            assert self.replay.get(key) == item.status, (
                f"replaying the history of {key} ends at {self.replay.get(key)}, the state says "
                f"{item.status}"
            )
        if pulled:
            notion = {p["id"]: p for p in self.world.rows()}
            for key, item in self.world.snapshot_items().items():
                props = notion[item.page_id]["properties"]
                option = props["Status"]["select"]
                derived = status_of(props["Done"]["checkbox"], option and option["name"])
                assert item.status == derived == items[key].status, (key, item.status, derived)
            assert set(self.world.snapshot_items()) == set(items)


def test_engine_state_machine() -> None:
    run_state_machine_as_test(
        EngineMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
