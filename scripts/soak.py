#!/usr/bin/env python3
"""Soak: two machines sync one database in a loop while a learner edits rows; count lost edits.

A sandbox runs in this process on loopback. Machines A and B (two state folders) each run
`run_sync` in a loop; a learner ticks, unticks, sets Status and *Done on* on random rows of a
small checklist. When the time is up the learner stops, each machine syncs twice, and every row
the learner touched is compared with the learner's last action on it:
- Done ticked or Status Done -> the row is done (Done ticked and Status Done);
- unticked -> not done; Status set to another option -> not done, with that option;
- a *Done on* the learner set on a done row -> still that date.
A row that differs is a lost edit. Each edit is also checked just before the learner's next
edit on the same row: a row whose Done and Status agree but say the opposite of that edit had
it undone by a machine. The one race the design leaves (an edit to the very field a
machine is writing, in the instant between its read and its write) can lose an edit; the count
says how often that happened here. It asserts nothing: read the numbers.

    ./scripts/soak.py --seconds 300
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sync.checklist import parse_checklist
from sync.config import load_settings
from sync.engine import run_sync
from sync.errors import DsprogressError
from sync.sandbox import SandboxServer

CHECKLIST = """
title: Soak
version: 1
levels:
  - name: Entry
    categories: [General]
items:
{items}
migrations: []
"""
OPTIONS = ("Not started", "In progress", "Done", "Skipped")


@dataclass
class Intent:
    """The learner's last action on one row."""

    done: bool
    option: str | None = None  # a Status the learner chose that is not Done
    done_on: str | None = None


@dataclass
class Tally:
    edits: int = 0
    checked: dict[str, int] = field(default_factory=lambda: {"kept": 0, "pending": 0, "lost": 0})
    lost: list[str] = field(default_factory=list)
    syncs: dict[str, int] = field(default_factory=lambda: {"A": 0, "B": 0})
    failures: dict[str, int] = field(default_factory=lambda: {"A": 0, "B": 0})


def build_checklist(size: int) -> Any:
    items = "".join(
        f"  - {{key: entry.general.i{n}, title: Item {n}, level: Entry, category: General,"
        f" order: {n}, description: Item {n}}}\n"
        for n in range(1, size + 1)
    )
    return parse_checklist(CHECKLIST.format(items=items), "soak")


def machine_loop(
    name: str, settings: Any, checklist: Any, stop: threading.Event, tally: Tally
) -> None:
    while not stop.is_set():
        try:
            run_sync(settings, checklist, mode="sync")
            tally.syncs[name] += 1
        except DsprogressError:
            tally.failures[name] += 1  # busy, a halt or a refused request: the next run goes on
        time.sleep(random.uniform(0.05, 0.3))


def learner_loop(
    server: SandboxServer,
    pages: list[str],
    intents: dict[str, Intent],
    stop: threading.Event,
    tally: Tally,
    today: date,
) -> None:
    control = server.control
    while not stop.is_set():
        page = random.choice(pages)
        action = random.choice(("tick", "untick", "status", "status", "done_on"))
        current = intents.get(page)
        if current is not None:
            # Before the next edit on this row: was the last one undone in the meantime?
            verdict = judge(control.page(page)["properties"], current)
            tally.checked[verdict] += 1
            if verdict == "lost":
                tally.lost.append(f"{page}: learner {current} undone before the next edit")
        if action == "tick":
            control.tick(page, True)
            intents[page] = Intent(True, done_on=current.done_on if current else None)
        elif action == "untick":
            control.tick(page, False)
            intents[page] = Intent(False, done_on=current.done_on if current else None)
        elif action == "status":
            option = random.choice(OPTIONS)
            control.set_select(page, "Status", option)
            done = option == "Done"
            kept = current.done_on if current else None
            intents[page] = Intent(done, None if done else option, kept)
        elif current is not None and current.done:
            day = (today - timedelta(days=random.randint(1, 30))).isoformat()
            control.set_date(page, "Done on", day)
            intents[page] = Intent(True, None, day)
        else:
            continue
        tally.edits += 1
        time.sleep(random.uniform(0.05, 0.4))


def judge(props: dict[str, Any], intent: Intent) -> str:
    """ "kept" (the row says what the learner last did), "pending" (Done and Status disagree: a
    sync has not derived the other yet) or "lost" (the row says the opposite, coherently)."""
    done = props["Done"]["checkbox"]
    option = (props["Status"]["select"] or {}).get("name")
    done_on = (props["Done on"]["date"] or {}).get("start")
    if done != (option == "Done"):
        return "pending"
    ok = done == intent.done
    if intent.option is not None:
        ok = ok and option == intent.option
    if intent.done and intent.done_on is not None:
        ok = ok and done_on == intent.done_on
    return "kept" if ok else "lost"


def lost_edits(server: SandboxServer, intents: dict[str, Intent]) -> list[str]:
    lost = []
    for page_id, intent in intents.items():
        props = server.control.page(page_id)["properties"]
        if judge(props, intent) != "kept":
            lost.append(f"{page_id}: learner {intent}, Notion {_fields(props)}")
    return lost


def _fields(props: dict[str, Any]) -> str:
    done_on = (props["Done on"]["date"] or {}).get("start")
    return f"{props['Done']['checkbox']}/{(props['Status']['select'] or {}).get('name')}/{done_on}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long the learner edits")
    parser.add_argument("--items", type=int, default=5, help="rows in the checklist")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    checklist = build_checklist(args.items)
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(rate_limit=None) as server:

        def settings(name: str) -> Any:
            return load_settings(
                None,
                NOTION_TOKEN=server.token,
                NOTION_PARENT_PAGE_ID=server.root_page_id,
                NOTION_BASE_URL=server.base_url,
                DSPROGRESS_STATE_DIR=str(Path(tmp) / name),
                DSPROGRESS_RATE_LIMIT="0",
                DSPROGRESS_TIMEZONE="UTC",
                DSPROGRESS_LOCK_TIMEOUT="1",
            )

        machines = {"A": settings("a"), "B": settings("b")}
        run_sync(machines["A"], checklist, mode="sync")
        run_sync(machines["B"], checklist, mode="sync")
        pages = [
            p["id"]
            for p in server.control.pages(_data_source(machines["A"]))
            if not p.get("in_trash")
        ]
        intents: dict[str, Intent] = {}
        tally = Tally()
        stop_learner, stop_machines = threading.Event(), threading.Event()
        threads = [
            threading.Thread(
                target=machine_loop, args=(n, s, checklist, stop_machines, tally), daemon=True
            )
            for n, s in machines.items()
        ]
        today = datetime.now(timezone.utc).date()  # the machines' zone is UTC
        learner = threading.Thread(
            target=learner_loop,
            args=(server, pages, intents, stop_learner, tally, today),
            daemon=True,
        )
        started = time.monotonic()
        for thread in [*threads, learner]:
            thread.start()
        time.sleep(args.seconds)
        stop_learner.set()
        learner.join()
        stop_machines.set()
        for thread in threads:
            thread.join()
        for _ in range(2):
            for name in ("A", "B"):
                run_sync(machines[name], checklist, mode="sync")
        lost = lost_edits(server, intents)
        elapsed = time.monotonic() - started
    print(f"soak: {elapsed:.0f} s, {args.items} rows, seed {args.seed}")
    print(f"learner edits: {tally.edits} on {len(intents)} rows")
    print(f"syncs: A {tally.syncs['A']}, B {tally.syncs['B']}; failed runs: {tally.failures}")
    checked = tally.checked
    print(
        f"edits checked before the row's next edit: {sum(checked.values())}"
        f" (kept {checked['kept']}, not yet derived {checked['pending']}, undone {checked['lost']})"
    )
    for line in tally.lost:
        print("  " + line)
    print(f"rows whose last learner edit was lost after settling: {len(lost)}")
    for line in lost:
        print("  " + line)
    return 0


def _data_source(settings: Any) -> str:
    from sync.store import open_store

    with open_store(settings.state_dir) as store:
        value = store.get_meta("data_source_id")
    assert value is not None
    return value


if __name__ == "__main__":
    sys.exit(main())
