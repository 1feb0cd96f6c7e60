"""A hypothesis state machine for the engine (after vdirsyncer's `SyncMachine`).

The learner works in Notion (ticks, Status, Done on, Notes, Key edits, own rows, trash and
restore, a tick that lands while our write to the same row is in flight), the checklist changes
(titles; items removed, brought back, added), creates land late (a killed run's create arriving
after the next query), and push, pull and sync run against a real sandbox over HTTP — from the
first state folder or from a second one on the same database (another machine, or a lost state).
The model (`machine_model.py`) says what every Notion row, each state folder and its history
should hold after each run, and when a run must halt; after each successful run the same run
again must be a no-op.

Invariants: replaying a folder's history ends at its state; every done item in the snapshot has
the history event that made it done; the snapshot, the state and Notion agree on each status.

CI runs a short profile; `DSPROGRESS_MACHINE=long` runs at least 10,000 steps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sync.checklist import Checklist, parse_checklist
from sync.engine import SyncReport
from sync.errors import SafetyHaltError
from sync.sandbox import SandboxServer
from sync.sandbox.control import SandboxControl
from sync.store import open_store
from tests.cli.agreement import assert_numbers_agree
from tests.engine.conftest import ITEMS, World, key_of, small_checklist_text
from tests.engine.machine_checks import Folder, check_notion, check_state_and_history
from tests.engine.machine_model import (
    OPTIONS,
    Known,
    Page,
    Prediction,
    predict,
)

EXTRA_ITEMS = [
    ("entry.general.pandas", "Pandas dataframes", "Entry", "General", 2),
    ("entry.networks.gan", "Generative adversarial networks", "Entry", "Networks", 4),
    ("advanced.general.transformers", "Transformers", "Advanced", "General", 2),
]
# Every item the checklist may ever hold, in a fixed order: key -> (title, level, category, order).
POOL = {key: (title, lv, cat, order) for key, title, lv, cat, order in [*ITEMS, *EXTRA_ITEMS]}
OWN_TITLES = ["Kaggle Titanic", "Read a paper", "Blog post"]
NOTES = ["", "chapter 3", "redo the exercises"]
DAYS = [None, "2026-01-05", "2026-02-10"]
PICK = st.integers(min_value=0, max_value=11)
LONG = os.environ.get("DSPROGRESS_MACHINE") == "long"
STEPS = {"examples": 0, "steps": 0, "runs": 0}  # the long profile prints these


def note_event(name: str) -> None:
    """Count what the examples reached (`--hypothesis-show-statistics`); no-op outside a test."""
    if currently_in_test_context():
        event(name)


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        STEPS["examples"] += 1
        self.sandbox = SandboxServer(rate_limit=None, port=0).start()
        self.tmp = Path(tempfile.mkdtemp(prefix="dsprogress-machine-"))
        self.world = World(self.sandbox, self.tmp / "state")
        self.folders = {"first": Folder(self.world)}
        self.titles = {key: POOL[key][0] for key, *_ in ITEMS}  # the current checklist
        self.ever = set(self.titles)
        self.version = 1
        self.pages: dict[str, Page] = {}  # insertion order: deterministic picks
        self.during: str | None = None  # a page the learner toggles during the next write
        self.toggled = False  # the last run met that toggle
        self.after_run: Page | None = None  # a toggle that landed after the run's writes
        self.unobserved: set[str] = set()  # pages changed since the last run saw them

    def teardown(self) -> None:
        self.sandbox.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------
    def checklist(self) -> Checklist:
        return parse_checklist(self.checklist_text(), "machine")

    def checklist_text(self) -> str:
        items = [(k, self.titles[k], *POOL[k][1:]) for k in POOL if k in self.titles]
        return small_checklist_text(items, version=self.version)

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

    def held_rows(self) -> list[Page]:
        """Live rows the first folder knows under a current checklist key (one row for it), with
        Done and Status agreeing."""
        known = {k.page_id: key for key, k in self.folders["first"].state.items()}
        holders = [p.key for p in self.live()]
        return [
            p
            for p in self.live()
            if known.get(p.page_id) in self.titles
            and p.key == known[p.page_id]
            and holders.count(p.key) == 1
            and p.coherent
        ]

    def next_minute(self) -> None:
        """Notion's created_time has minutes only, and ties go by page id (random): a minute
        between creations keeps "the oldest row" (and so every example) deterministic."""
        self.world.control.advance_clock(60)

    @invariant()
    def count_step(self) -> None:
        STEPS["steps"] += 1
        if LONG and STEPS["steps"] % 250 == 0:  # the long profile's progress, for a look in
            print(f"state machine: {STEPS}", flush=True)

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
    @rule(pick=PICK, day=st.sampled_from(DAYS))
    def set_done_on(self, pick: int, day: str | None) -> None:
        page = self.live()[pick % len(self.live())]
        self.world.control.set_date(page.page_id, "Done on", day)
        page.done_on = day

    @precondition(lambda self: self.live())
    @rule(pick=PICK, notes=st.sampled_from(NOTES))
    def write_notes(self, pick: int, notes: str) -> None:
        page = self.live()[pick % len(self.live())]
        self.world.control.set_text(page.page_id, "Notes", notes)
        page.notes = notes

    @precondition(lambda self: self.live())
    @rule(pick=PICK)
    def edit_key(self, pick: int) -> None:
        """The learner types over a row's Key (a typo nobody issued)."""
        page = self.live()[pick % len(self.live())]
        self.world.control.set_text(page.page_id, "Key", "entry.networks.typo")
        page.key = "entry.networks.typo"

    @rule(title=st.sampled_from(OWN_TITLES), done=st.booleans())
    def add_own_row(self, title: str, done: bool) -> None:
        properties = {"Done": {"checkbox": True}} if done else None
        self.next_minute()
        page_id = self.world.control.add_row(self.world.data_source_id, title, properties)
        created = self.world.control.page(page_id)["created_time"]
        self.pages[page_id] = Page(page_id, created, None, title, own=True, done=done)

    @rule(pick=PICK)
    def create_lands_late(self, pick: int) -> None:
        """A create from a run killed midway lands now, after other runs made the key's row."""
        key = self.current()[pick % len(self.current())]
        self.next_minute()
        page_id = self.world.control.add_row(
            self.world.data_source_id,
            self.titles[key],
            {
                "Key": {"rich_text": [{"type": "text", "text": {"content": key}}]},
                "Status": {"select": {"name": "Not started"}},
                "Level": {"select": {"name": POOL[key][1]}},
                "Category": {"select": {"name": POOL[key][2]}},
                "Order": {"number": POOL[key][3]},
                "Description": {
                    "rich_text": [{"type": "text", "text": {"content": f"Learn {key}"}}]
                },
            },
        )
        created = self.world.control.page(page_id)["created_time"]
        self.pages[page_id] = Page(
            page_id, created, key, self.titles[key], own=False, status_option="Not started"
        )

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
        page.trashed = False

    # Not once another machine syncs: its derived writes (Status from Done) look like the
    # learner's to this folder, and the model predicts a toggle as one observation, not two.
    @precondition(lambda self: self.held_rows() and self.during is None and len(self.folders) == 1)
    @rule(pick=PICK)
    def toggle_during_next_write(self, pick: int) -> None:
        """The learner toggles Done on a row while the next run's write to it is delayed: its
        item is retitled so the run writes it, and the write waits in the sandbox."""
        page = self.held_rows()[pick % len(self.held_rows())]
        key = page.key or ""
        base = POOL[key][0]
        self.titles[key] = f"{base} in depth" if self.titles[key] == base else base
        self.version += 1
        self.during = page.page_id

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
        self.run_and_check("first", "sync", force=False)

    @rule(mode=st.sampled_from(["sync", "sync", "push", "pull"]), force=st.booleans())
    def run(self, mode: str, force: bool) -> None:
        self.run_twice("first", mode, force)

    @rule(mode=st.sampled_from(["sync", "push", "pull"]), force=st.booleans())
    def run_on_another_machine(self, mode: str, force: bool) -> None:
        """A second state folder on the same database: new at first (a rebuilt state)."""
        if "second" not in self.folders:
            second = World(self.sandbox, self.tmp / "state-second")
            self.folders["second"] = Folder(second)
        self.run_twice("second", mode, force)

    def run_twice(self, name: str, mode: str, force: bool) -> None:
        report = self.run_and_check(name, mode, force)
        if report is not None and not self.toggled:  # else the next run records the toggle
            again = self.run_and_check(name, mode, force)
            assert again is not None and again.plan.is_noop, (
                f"a second {mode} right after a {mode} is not a no-op: {again and again.applied}"
            )

    def settings_for(self, name: str) -> Any:
        folder = self.folders[name]
        if name == "first":
            return folder.world.settings()
        with open_store(self.world.state_dir) as store:
            database_id = store.get_meta("database_id")
        return folder.world.settings(NOTION_DATABASE_ID=database_id)

    def run_and_check(self, name: str, mode: str, force: bool) -> SyncReport | None:
        STEPS["runs"] += 1
        folder = self.folders[name]
        self.next_minute()
        self.toggled = False
        self.unobserved = set()
        expected = self.predict(folder, mode, force)
        during = None
        if name == "first" and mode in ("push", "sync") and expected.halt is None:
            self.during = self.during if len(self.folders) == 1 else None
            during = self.during if self.during in {p.page_id for p in self.held_rows()} else None
            self.during = None
        if expected.halt is not None:
            note_event(f"halt: {expected.halt.split(' ', 1)[-1]}")
            with pytest.raises(SafetyHaltError, match=expected.halt):
                folder.world.sync(
                    mode,
                    checklist=self.checklist(),
                    force=force,
                    settings=self.settings_for(name),
                    full=True,  # the model knows every row; incremental reads: test_incremental
                )
            self.check_notion(folder, mode, expected, halted=True)
            self.check_state_and_history(folder, [], halted=True)
            return None
        toggler = self.start_toggle(during) if during else None
        report = folder.world.sync(
            mode,
            checklist=self.checklist(),
            force=force,
            settings=self.settings_for(name),
            full=True,  # the model knows every row; incremental reads: test_incremental
        )
        if toggler is not None and during is not None:
            expected = self.settle_toggle(toggler, during, folder, mode, force, expected, report)
        for verb in ("adopt", "restore-key", "create", "retire", "heal", "duplicate", "align"):
            if report.counts()[verb] and not (verb == "create" and len(self.pages) == 0):
                note_event(f"{mode}: {verb}")
        if name == "second":
            note_event(f"second folder: {mode}")
        assert report.plan.is_noop == expected.is_noop or toggler is not None, (
            report.applied,
            expected,
        )
        self.commit(folder, expected, mode)
        self.check_notion(folder, mode, expected, halted=False)
        self.check_state_and_history(folder, expected.ticks)
        self.check_numbers_agree(folder)
        return report

    # -- a toggle while our write is in flight ---------------------------------------------
    def start_toggle(self, page_id: str) -> tuple[threading.Thread, threading.Event, list[bool]]:
        """Delay the run's first page write in the sandbox; toggle Done while it waits."""
        rule_id = self.world.control.add_fault(
            "latency", method="PATCH", route="/v1/pages/{id}", latency_ms=400, times=1
        )["id"]
        finished, toggled = threading.Event(), [False]
        done = not self.pages[page_id].done
        base_url = self.sandbox.base_url

        def toggle() -> None:
            with SandboxControl(base_url) as control:
                while not finished.is_set():
                    rules = [r for r in control.faults() if r["id"] == rule_id]
                    if rules and rules[0]["hits"]:
                        control.tick(page_id, done)
                        toggled[0] = True
                        return
                    finished.wait(0.005)

        thread = threading.Thread(target=toggle)
        thread.start()
        return thread, finished, toggled

    def settle_toggle(
        self,
        toggler: tuple[threading.Thread, threading.Event, list[bool]],
        page_id: str,
        folder: Folder,
        mode: str,
        force: bool,
        before_toggle: Prediction,
        report: SyncReport,
    ) -> Prediction:
        """Which of the two orders happened: the toggle landed before one of our writes' answers
        about that row (the run recorded it, as if made before the run), or after them (the next
        run records it)."""
        thread, finished, toggled = toggler
        finished.set()
        thread.join()
        self.world.control.clear_faults()
        self.toggled = True
        page = self.pages[page_id]
        if toggled[0] and page.key in {e.key for e in report.late_ticks}:
            note_event("toggle: seen in our write's answer")
            page.done = not page.done
            expected = self.predict(folder, mode, force)
            # The query saw the row before the toggle: a change it saw is an event of its own.
            for seen in [t for t in before_toggle.ticks if t[0] == page.key]:
                lates = [t for t in expected.ticks if t[0] == page.key]
                final = lates[0][2] if lates else seen[1]  # where the toggle left it
                for late in lates:
                    expected.ticks.remove(late)
                expected.ticks.append(seen)
                if final != seen[2]:
                    expected.ticks.append((seen[0], seen[2], final))
            return expected
        if not toggled[0]:  # the run wrote no page: the toggle comes after it
            self.world.control.tick(page_id, not page.done)
        note_event("toggle: after our writes")
        self.after_run = page
        return before_toggle

    # -- the model -------------------------------------------------------------------------
    def predict(self, folder: Folder, mode: str, force: bool) -> Prediction:
        return predict(
            self.pages,
            folder.state,
            titles=self.titles,
            used_keys=folder.used_keys,
            tracking=folder.tracking,
            mode=mode,
            force=force,
        )

    def commit(self, folder: Folder, expected: Prediction, mode: str) -> None:
        """Take the run's expected effects into the model; new pages are read from Notion."""
        today = datetime.now(timezone.utc).date().isoformat()
        for page_id, key in {**expected.adopt, **expected.restore}.items():
            self.pages[page_id].key = key
        for page_id, changes in expected.updates.items():
            for name, value in changes.items():
                setattr(self.pages[page_id], name, value)
        for page_id in expected.trash:
            self.pages[page_id].trashed = True
        for page_id in expected.fills:
            self.pages[page_id].done_on = today
        fresh = [p for p in self.world.rows(include_trashed=True) if p["id"] not in self.pages]
        assert sorted(key_of(p) for p in fresh) == sorted(expected.creates), (
            f"created {[key_of(p) for p in fresh]}, expected {expected.creates}"
        )
        state: dict[str, Known] = {}
        for key, page_id in expected.chosen.items():
            page = self.pages[page_id]
            known = expected.known[key]
            tool_date = today if page_id in expected.fills else known.tool_date
            state[key] = replace(
                known,
                done_raw=page.done,
                status_raw=page.status_option,
                tool_date=tool_date if page.done_on == tool_date else None,
            )
        for key in expected.creates:
            (new,) = [p for p in fresh if key_of(p) == key]
            self.pages[new["id"]] = Page(
                new["id"], new["created_time"], key, self.titles[key], own=False
            )
            self.pages[new["id"]].status_option = "Not started"
            before = folder.state.get(key)
            if before is None or before.status != "not_started":
                expected.ticks.append((key, before.status if before else None, "not_started"))
            state[key] = Known(new["id"], "not_started", False, "Not started")
            expected.chosen[key] = new["id"]
        folder.state = state
        folder.synced_titles = dict(self.titles)
        folder.tracking = True
        if self.after_run is not None:  # the learner's toggle that landed after our writes
            self.after_run.done = not self.after_run.done
            self.unobserved.add(self.after_run.page_id)
            self.after_run = None

    # -- checks ----------------------------------------------------------------------------
    def check_notion(self, folder: Folder, mode: str, expected: Prediction, halted: bool) -> None:
        check_notion(self.world, self.pages, self.titles, mode, expected, halted)

    def check_state_and_history(
        self, folder: Folder, ticks: list[tuple[str, str | None, str]], halted: bool = False
    ) -> None:
        check_state_and_history(self.world, folder, self.pages, ticks, self.unobserved, halted)

    def check_numbers_agree(self, folder: Folder) -> None:
        """`status --json`, the snapshot and `digest --format json` give the same done counts,
        percents and levels, and the same completions this week (tests/cli/agreement.py)."""
        path = self.tmp / "checklist.yaml"
        path.write_text(self.checklist_text(), encoding="utf-8")
        assert_numbers_agree(folder.world.state_dir, path, "UTC", datetime.now(timezone.utc))


@pytest.mark.usefixtures("fixed_clock")  # "today" and "this week" cannot change mid-run
def test_engine_state_machine() -> None:
    examples, steps = (300, 50) if LONG else (25, 12)
    STEPS.update(examples=0, steps=0, runs=0)
    run_state_machine_as_test(
        EngineMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    if LONG:
        print(
            f"state machine: {STEPS['examples']} examples, {STEPS['steps']} steps, "
            f"{STEPS['runs']} runs checked"
        )
