"""A hypothesis state machine for the engine (after vdirsyncer's `SyncMachine`).

The learner works in Notion (ticks, Status, Done on, Notes, Key edits, own rows, trash and
restore, a damaged Sync base, and an edit of Done, Status, Done on or Notes that lands between a
run's read and its write), the checklist changes (titles; items removed, brought back, added),
creates land late (a killed run's create arriving after the next query), and push, pull and sync
run against a real sandbox over HTTP from up to three state folders on one database (machines),
any of which may be lost at any step (its state file, or the whole folder). The model
(`machine_model.py`) says what every Notion row, each state folder and its history should hold
after each run, and when a run must halt; after each successful run the same run again must be a
no-op. A run an edit in flight met is checked as the design allows (`machine_races.py`): a field
it does not write keeps the learner's value, the field it writes holds its own.

Invariants: replaying a folder's history ends at its state; every done item in the snapshot has
the history event that made it done; the snapshot, the state and Notion agree on each status.
After every folder has synced twice with the learner idle (`settle`): Done and Status agree, the
learner's last action stands (or its documented derivation), and every folder's snapshot,
`status`, digest and history say the same.

Two findings are stepped around. Two folders restoring different Keys on a retired row
(`machine_races.key_fight`) is open, pinned by a strict-xfail test in test_one_story.py. A Done on
set in flight on a row filled after another write to it (`stale_follow_up`) is fixed and pinned
by a passing test there; the machine still sends that edit after the run rather than in flight.

CI runs a short profile; `DSPROGRESS_MACHINE=long` runs at least 10,000 steps.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
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
from sync.store import open_store
from tests.cli.agreement import assert_numbers_agree
from tests.engine.conftest import ITEMS, World, key_of, small_checklist_text
from tests.engine.machine_checks import Folder, check_notion, check_state_and_history
from tests.engine.machine_model import (
    CREATED_BASE,
    OPTIONS,
    Known,
    Page,
    Prediction,
    predict,
    valid_base,
)
from tests.engine.machine_races import (
    BASE_COLUMN,
    LEARNER_FIELDS,
    TYPED_KEY,
    Edit,
    InFlight,
    as_base,
    check_settled,
    known_from_store,
    lose_state,
    page_fields,
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
EDITS = st.one_of(
    st.tuples(st.just("done"), st.booleans()),
    st.tuples(st.just("status_option"), st.sampled_from([*OPTIONS, None])),
    st.tuples(st.just("done_on"), st.sampled_from(DAYS)),
    st.tuples(st.just("notes"), st.sampled_from(NOTES)),
)
DAMAGED = ["", "not a base", '{"v":2,"done":true}']
LONG = os.environ.get("DSPROGRESS_MACHINE") == "long"
# A long run's shard: DSPROGRESS_MACHINE_EXAMPLES=n examples; DSPROGRESS_MACHINE_SHRINK=0 reports
# the first failure as found. Read at import: the engine tests' fixture clears DSPROGRESS_*.
EXAMPLES = int(os.environ.get("DSPROGRESS_MACHINE_EXAMPLES", "0"))
NO_SHRINK = os.environ.get("DSPROGRESS_MACHINE_SHRINK") == "0"
ALL_PHASES = tuple(Phase)
PHASES = tuple(p for p in Phase if p not in (Phase.shrink, Phase.explain))
# The long profile prints these: examples, steps, runs checked; edits in flight that kept the
# learner's value, were lost to the write (the one race), met no write of their row, or landed
# after the run; state folders lost; settled checks, and the learner's actions they checked.
STEPS = dict.fromkeys(
    [
        "examples",
        "steps",
        "runs",
        "kept",
        "lost",
        "unmet",
        "unlanded",
        "losses",
        "settled",
        "intents",
        "key fights",
        "stale follow-up",
    ],
    0,
)


class PinnedWorld(World):
    """A state folder's World that keeps the database's ids once known (a lost folder forgets
    them; the machine's checks still read Notion)."""

    def __init__(self, sandbox: SandboxServer, state_dir: Path, pinned: dict[str, str]) -> None:
        super().__init__(sandbox, state_dir)
        self.pinned = pinned

    @property
    def data_source_id(self) -> str:
        if "data_source" not in self.pinned:
            with open_store(self.state_dir) as store:
                self.pinned["data_source"] = str(store.get_meta("data_source_id"))
                self.pinned["database"] = str(store.get_meta("database_id"))
        return self.pinned["data_source"]


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
        self.pinned: dict[str, str] = {}
        self.world = PinnedWorld(self.sandbox, self.tmp / "state", self.pinned)
        self.folders = {"first": Folder(self.world)}
        self.titles = {key: POOL[key][0] for key, *_ in ITEMS}  # the current checklist
        self.ever = set(self.titles)
        self.version = 1
        self.pages: dict[str, Page] = {}  # insertion order: deterministic picks
        self.in_flight: Edit | None = None  # lands during the next run's first page write
        self.after_run: Edit | None = None  # an edit in flight no write met: seen next run
        self.edited_after = False  # the last run had such an edit
        self.deferred: Edit | None = None  # an edit in flight sent after the run instead
        self.dirty = True  # something happened since the last settle
        self.unobserved: set[str] = set()  # pages changed since the last run saw them
        self.chosen: dict[str, str] = {}  # the last run's key -> row

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
    def learn(self, page: Page, name: str, value: Any) -> None:
        """Take one learner edit (already sent) into the model, with what must stand of it."""
        self.dirty = True  # something to settle
        setattr(page, name, value)
        if name in ("done", "status_option"):
            other = "status_option" if name == "done" else "done"
            ambiguous = other in page.moved or not valid_base(page.base)
            page.moved.add(name)
            page.intent = None if ambiguous else (name, value)
        elif name == "done_on":
            page.intent_on = value
        elif name == "base":  # the reference is gone: each folder's own memory decides
            page.moved |= {"done", "status_option"}
            page.intent = None

    def edit(self, pick: int, name: str, value: Any) -> None:
        page = self.live()[pick % len(self.live())]
        Edit(page.page_id, name, value).send(self.world.control)
        self.learn(page, name, as_base(value) if name == "base" else value)

    @precondition(lambda self: self.live())
    @rule(pick=PICK, done=st.booleans())
    def tick(self, pick: int, done: bool) -> None:
        self.edit(pick, "done", done)

    @precondition(lambda self: self.live())
    @rule(pick=PICK, option=st.sampled_from([*OPTIONS, None]))
    def set_status(self, pick: int, option: str | None) -> None:
        self.edit(pick, "status_option", option)

    @precondition(lambda self: self.live())
    @rule(pick=PICK, day=st.sampled_from(DAYS))
    def set_done_on(self, pick: int, day: str | None) -> None:
        self.edit(pick, "done_on", day)

    @precondition(lambda self: self.live())
    @rule(pick=PICK, notes=st.sampled_from(NOTES))
    def write_notes(self, pick: int, notes: str) -> None:
        self.edit(pick, "notes", notes)

    @precondition(lambda self: self.live())
    @rule(pick=PICK, text=st.sampled_from(DAMAGED))
    def damage_base(self, pick: int, text: str) -> None:
        """The learner empties or types over the Sync base column (it is theirs to break)."""
        self.edit(pick, "base", text)

    @precondition(lambda self: self.live())
    @rule(pick=PICK)
    def edit_key(self, pick: int) -> None:
        """The learner types over a row's Key (a typo nobody issued)."""
        self.dirty = True  # something to settle
        page = self.live()[pick % len(self.live())]
        self.world.control.set_text(page.page_id, "Key", TYPED_KEY)
        page.key = TYPED_KEY

    @rule(title=st.sampled_from(OWN_TITLES), done=st.booleans())
    def add_own_row(self, title: str, done: bool) -> None:
        self.dirty = True  # something to settle
        properties = {"Done": {"checkbox": True}} if done else None
        self.next_minute()
        page_id = self.world.control.add_row(self.world.data_source_id, title, properties)
        created = self.world.control.page(page_id)["created_time"]
        self.pages[page_id] = Page(page_id, created, None, title, own=True, done=done)

    @rule(pick=PICK)
    def create_lands_late(self, pick: int) -> None:
        """A create from a run killed midway lands now, after other runs made the key's row."""
        self.dirty = True  # something to settle
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
                    "rich_text": [
                        {"type": "text", "text": {"content": f"Learn {self.titles[key].lower()}"}}
                    ]
                },
                BASE_COLUMN: {
                    "rich_text": [{"type": "text", "text": {"content": json.dumps(CREATED_BASE)}}]
                },
            },
        )
        created = self.world.control.page(page_id)["created_time"]
        self.pages[page_id] = Page(
            page_id,
            created,
            key,
            self.titles[key],
            own=False,
            status_option="Not started",
            base=dict(CREATED_BASE),
        )

    @precondition(lambda self: self.live())
    @rule(pick=PICK, every_row=st.sampled_from([False, False, False, False, True]))
    def trash(self, pick: int, every_row: bool) -> None:
        """One row, or now and then every row (the next run meets the "no rows" halt)."""
        self.dirty = True  # something to settle
        live = self.live()
        for page in live if every_row else [live[pick % len(live)]]:
            self.world.control.trash(page.page_id)
            page.trashed = True

    @precondition(lambda self: self.trashed())
    @rule(pick=PICK)
    def restore(self, pick: int) -> None:
        self.dirty = True  # something to settle
        page = self.trashed()[pick % len(self.trashed())]
        self.world.control.restore(page.page_id)
        page.trashed = False

    @precondition(lambda self: self.live() and self.in_flight is None)
    @rule(pick=PICK, edit=EDITS, prime=st.sampled_from(["none", "retitle", "toggle"]))
    def edit_in_flight(self, pick: int, edit: tuple[str, Any], prime: str) -> None:
        """The learner's next edit lands between the next run's read and its first page write.
        `retitle` makes the run write the row's title (the edit is on a field it does not
        write); `toggle` ticks or unticks Done first, so the run writes Status and Done on."""
        self.dirty = True  # something to settle
        page = self.live()[pick % len(self.live())]
        if prime == "retitle" and page.key in self.titles:
            self.retitle(page.key)
        elif prime == "toggle":
            Edit(page.page_id, "done", not page.done).send(self.world.control)
            self.learn(page, "done", not page.done)
        self.in_flight = Edit(page.page_id, *edit)

    @precondition(lambda self: self.live() and self.in_flight is None)
    @rule(pick=PICK, edit=EDITS)
    def tick_then_edit_in_flight(self, pick: int, edit: tuple[str, Any]) -> None:
        """As `edit_in_flight` after a toggle of Done (the run's derived write meets the edit)."""
        self.edit_in_flight(pick, edit, "toggle")

    # -- the checklist changes -------------------------------------------------------------
    @rule(pick=PICK)
    def retitle_item(self, pick: int) -> None:
        self.retitle(self.current()[pick % len(self.current())])

    def retitle(self, key: str) -> None:
        self.dirty = True  # something to settle
        base = POOL[key][0]
        self.titles[key] = f"{base} in depth" if self.titles[key] == base else base
        self.version += 1

    @precondition(lambda self: len(self.titles) > 2)
    @rule(pick=PICK)
    def remove_item(self, pick: int) -> None:
        self.dirty = True  # something to settle
        del self.titles[self.current()[pick % len(self.current())]]
        self.version += 1

    @precondition(lambda self: self.removed())
    @rule(pick=PICK)
    def bring_back_item(self, pick: int) -> None:
        self.dirty = True  # something to settle
        key = self.removed()[pick % len(self.removed())]
        self.titles[key] = POOL[key][0]
        self.version += 1

    @precondition(lambda self: self.never_added())
    @rule(pick=PICK)
    def add_item(self, pick: int) -> None:
        self.dirty = True  # something to settle
        key = self.never_added()[pick % len(self.never_added())]
        self.titles[key] = POOL[key][0]
        self.ever.add(key)
        self.version += 1

    # -- state folders ---------------------------------------------------------------------
    @rule(which=st.sampled_from(["first", "second", "third"]), whole=st.booleans())
    def lose_state_folder(self, which: str, whole: bool) -> None:
        """A machine loses its state file (or its whole state folder); its next run rebuilds."""
        self.dirty = True  # something to settle
        if which not in self.folders:
            return
        STEPS["losses"] += 1
        note_event("state folder lost")
        world = self.folders[which].world
        lose_state(world.state_dir, whole)
        self.folders[which] = Folder(world)

    # -- runs ------------------------------------------------------------------------------
    @initialize()
    def first_sync(self) -> None:
        self.run_and_check("first", "sync", force=False)

    @rule(mode=st.sampled_from(["sync", "sync", "push", "pull"]), force=st.booleans())
    def run(self, mode: str, force: bool) -> None:
        self.run_twice("first", mode, force)

    @rule(
        which=st.sampled_from(["second", "second", "third"]),
        mode=st.sampled_from(["sync", "push", "pull"]),
        force=st.booleans(),
    )
    def run_on_another_machine(self, which: str, mode: str, force: bool) -> None:
        """Another state folder on the same database: new at first (a rebuilt state)."""
        if which not in self.folders:
            world = PinnedWorld(self.sandbox, self.tmp / f"state-{which}", self.pinned)
            self.folders[which] = Folder(world)
        self.run_twice(which, mode, force)

    @precondition(lambda self: self.dirty)
    @rule()
    def settle(self) -> None:
        """Every folder syncs twice with the learner idle (after an edit still in flight lands);
        then they all tell one story, the learner's (`machine_races.check_settled`)."""
        for _ in range(3 if self.in_flight is not None else 2):
            for name in list(self.folders):
                halt = self.predict(self.folders[name], "sync", False).halt
                self.run_and_check(name, "sync", force=halt is not None)
        path = self.tmp / "checklist.yaml"
        path.write_text(self.checklist_text(), encoding="utf-8")
        notion = {p["id"]: p for p in self.world.rows()}
        dirs = {name: folder.world.state_dir for name, folder in self.folders.items()}
        checked = check_settled(dirs, path, notion, self.pages, self.chosen)
        if checked < 0:  # the known Key fight (machine_races.key_fight)
            STEPS["key fights"] += 1
            note_event("settled: two folders fight over a retired row's Key")
        else:
            STEPS["intents"] += checked
            STEPS["settled"] += 1
        self.dirty = False
        note_event(f"settled: {len(self.folders)} folders")

    def run_twice(self, name: str, mode: str, force: bool) -> None:
        self.dirty = True  # something to settle
        report = self.run_and_check(name, mode, force)
        if report is not None and not self.edited_after:  # else the next run sees that edit
            again = self.run_and_check(name, mode, force)
            assert again is not None and again.plan.is_noop, (
                f"a second {mode} right after a {mode} is not a no-op: {again and again.applied}"
            )

    def settings_for(self, name: str) -> Any:
        folder = self.folders[name]
        if name == "first":
            return folder.world.settings()
        self.world.data_source_id  # noqa: B018 (pins the database's ids)
        return folder.world.settings(NOTION_DATABASE_ID=self.pinned["database"])

    def sync(self, name: str, mode: str, force: bool) -> SyncReport:
        return self.folders[name].world.sync(
            mode,
            checklist=self.checklist(),
            force=force,
            settings=self.settings_for(name),
            full=True,  # the model knows every row; incremental reads: test_incremental
        )

    def run_and_check(self, name: str, mode: str, force: bool) -> SyncReport | None:
        STEPS["runs"] += 1
        folder = self.folders[name]
        self.next_minute()
        self.unobserved = set()
        expected = self.predict(folder, mode, force)
        if expected.halt is not None:
            note_event(f"halt: {expected.halt.split(' ', 1)[-1]}")
            with pytest.raises(SafetyHaltError, match=expected.halt):
                self.sync(name, mode, force)
            self.check_notion(folder, mode, expected, halted=True)
            self.check_state_and_history(folder, [], halted=True)
            return None
        flight = self.take_in_flight(expected)
        report = self.sync(name, mode, force)
        if self.deferred is not None:
            self.deferred.send(self.world.control)
            self.after_run, self.deferred = self.deferred, None
        raced = flight is not None and self.edit_landed(flight, expected)
        for verb in ("adopt", "restore-key", "create", "retire", "heal", "duplicate", "align"):
            if report.counts()[verb] and not (verb == "create" and len(self.pages) == 0):
                note_event(f"{mode}: {verb}")
        if name != "first":
            note_event(f"{name} folder: {mode}")
        assert report.plan.is_noop == expected.is_noop, (report.applied, expected)
        self.commit(folder, expected, mode)
        uncertain = self.settle_race(folder, expected, flight) if raced and flight else set()
        self.check_notion(folder, mode, expected, halted=False)
        self.check_state_and_history(folder, expected.ticks, uncertain=uncertain)
        self.check_numbers_agree(folder)
        self.chosen = dict(expected.chosen)
        return report

    # -- an edit in flight -----------------------------------------------------------------
    def take_in_flight(self, expected: Prediction) -> InFlight | None:
        """Start the pending edit in flight (a row going to the trash keeps no edit)."""
        edit, self.in_flight = self.in_flight, None
        if edit is None:
            return None
        if self.pages[edit.page_id].trashed or edit.page_id in expected.trash:
            return None
        if stale_follow_up(edit, expected):
            STEPS["stale follow-up"] += 1
            note_event("in flight: skipped, the known stale follow-up")
            self.deferred = edit  # sent after the run instead
            return None
        flight = InFlight(edit, self.world.control, self.sandbox.base_url)
        flight.start()
        return flight

    def edit_landed(self, flight: InFlight, expected: Prediction) -> bool:
        """Stop the edit in flight. True when it landed before a write to its row (the run's
        answer shows it); else it is a plain edit after the run's read (sent now if it has not
        landed), which the next run sees."""
        flight.stop()
        edit = flight.edit
        written = (
            edit.page_id in expected.updates
            or edit.page_id in expected.fills
            or edit.page_id in {**expected.adopt, **expected.restore}
        )
        if flight.landed and written:
            return True
        if not flight.landed:
            edit.send(self.world.control)
        STEPS["unmet" if flight.landed else "unlanded"] += 1
        note_event("in flight: not met by a write")
        self.after_run = edit
        return False

    def settle_race(self, folder: Folder, expected: Prediction, flight: InFlight) -> set[str]:
        """The run met the edit in its answer: a field it did not write keeps the learner's
        value (the derivations follow it); the field it wrote holds its own (the one race the
        design leaves). The row and its folder's record are then read back."""
        edit = flight.edit
        page = self.pages[edit.page_id]
        before = dict(page_fields(self.world.control.page(edit.page_id)))
        wrote = {n for n in expected.updates.get(edit.page_id, {}) if n in LEARNER_FIELDS}
        if edit.page_id in expected.fills:
            wrote.add("done_on")
        if edit.name in wrote:
            STEPS["lost"] += 1
            note_event("in flight: lost to the write (the documented race)")
            assert before[edit.name] == getattr(page, edit.name), (edit, before)
            if edit.name == "done_on":
                page.intent_on = None
            else:
                page.intent = None
            # An answer before the write may have shown the edit: events of their own.
            return self.read_back_known(folder, expected, edit.page_id)
        STEPS["kept"] += 1
        note_event(f"in flight: {edit.name} kept")
        assert before[edit.name] == edit.value, (edit, before)
        assert before["done"] == (before["status_option"] == "Done"), before
        old_base = page.base
        for name, value in before.items():
            setattr(page, name, value)
        if edit.name == "done_on":
            page.intent_on = edit.value
        elif edit.name != "notes":
            other = "status_option" if edit.name == "done" else "done"
            ambiguous = other in page.moved or not valid_base(old_base)
            page.intent = None if ambiguous else (edit.name, edit.value)
            page.moved = {edit.name} if page.base == old_base else set()
        return self.read_back_known(folder, expected, edit.page_id)

    def read_back_known(self, folder: Folder, expected: Prediction, page_id: str) -> set[str]:
        """The folder's record of the row an edit in flight met, read back; its key's events
        are checked for consistency only (the replay), not against the model."""
        keys = {k for k, pid in expected.chosen.items() if pid == page_id}
        for key in keys:
            known = known_from_store(folder.world.state_dir, key)
            if known is not None:
                folder.state[key] = known
        return keys

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
            if "base" in changes:  # the tool's base holds everything the learner did so far
                self.pages[page_id].moved = set()
        for page_id in expected.trash:
            self.pages[page_id].trashed = True
        for page_id in expected.fills:
            self.pages[page_id].done_on = today
        for page_id in expected.merged:  # merged: done wins, notes joined, the earliest date
            self.pages[page_id].intent = self.pages[page_id].intent_on = None
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
                done_on=page.done_on,
            )
        for key in expected.creates:
            (new,) = [p for p in fresh if key_of(p) == key]
            self.pages[new["id"]] = Page(
                new["id"], new["created_time"], key, self.titles[key], own=False
            )
            self.pages[new["id"]].status_option = "Not started"
            self.pages[new["id"]].base = dict(CREATED_BASE)
            before = folder.state.get(key)
            if before is None or before.status != "not_started":
                expected.ticks.append((key, before.status if before else None, "not_started"))
            state[key] = Known(new["id"], "not_started", False, "Not started")
            expected.chosen[key] = new["id"]
        folder.state = state
        folder.synced_titles = dict(self.titles)
        folder.tracking = True
        self.edited_after = self.after_run is not None
        if self.after_run is not None:  # the learner's edit that came after the run's read
            edit, self.after_run = self.after_run, None
            self.learn(self.pages[edit.page_id], edit.name, edit.value)
            self.unobserved.add(edit.page_id)

    # -- checks ----------------------------------------------------------------------------
    def check_notion(self, folder: Folder, mode: str, expected: Prediction, halted: bool) -> None:
        check_notion(self.world, self.pages, self.titles, mode, expected, halted)

    def check_state_and_history(
        self,
        folder: Folder,
        ticks: list[tuple[str, str | None, str]],
        halted: bool = False,
        uncertain: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        check_state_and_history(
            self.world, folder, self.pages, ticks, self.unobserved, halted, uncertain
        )

    def check_numbers_agree(self, folder: Folder) -> None:
        """`status --json`, the snapshot and `digest --format json` give the same done counts,
        percents and levels, and the same completions this week (tests/cli/agreement.py)."""
        if not folder.world.history():  # a first run that saw no rows: no digest yet (an Error)
            note_event("no history yet")
            return
        path = self.tmp / "checklist.yaml"
        path.write_text(self.checklist_text(), encoding="utf-8")
        assert_numbers_agree(folder.world.state_dir, path, "UTC", datetime.now(timezone.utc))


def stale_follow_up(edit: Edit, expected: Prediction) -> bool:
    """A finding of this machine, fixed and pinned by tests/engine/test_one_story.py::
    test_a_done_on_set_while_a_tick_is_being_filled_leaves_one_story: a Done on set in flight
    on a row the run fills after another write to it (its title, Retired, Key, or a merge). The
    machine still sends such an edit after the run."""
    if edit.name != "done_on" or edit.page_id not in expected.fills:
        return False
    changes = expected.updates.get(edit.page_id, {})
    return (
        bool({"title", "retired", "notes", "done_on"} & set(changes))
        or edit.page_id in expected.merged
        or edit.page_id in {**expected.adopt, **expected.restore}
    )


@pytest.mark.usefixtures("fixed_clock")  # "today" and "this week" cannot change mid-run
def test_engine_state_machine() -> None:
    examples, steps = (300, 50) if LONG else (25, 12)
    examples = EXAMPLES or examples
    for name in STEPS:
        STEPS[name] = 0
    run_state_machine_as_test(
        EngineMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            phases=PHASES if NO_SHRINK else ALL_PHASES,
        ),
    )
    if LONG:
        print(f"state machine: {STEPS}")
