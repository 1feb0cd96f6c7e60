"""Digest test worlds: a small checklist and a simulated learner whose pulls fill a real Store.

`Learner.pull(at, {...})` does what a pull does to the state: one run, a tick event for every
status that changed (the first pull records the baseline with `from_status=None`), and the items
table replaced. Times are local wall times in the learner's zone, so scenarios read like a diary.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sync.checklist import Checklist, parse_checklist
from sync.config import Settings
from sync.model import ItemState, Status, TickEvent
from sync.store import Store, open_store

CHECKLIST_YAML = """
title: Data Science progress checklist
version: 1
levels:
  - name: Entry
    icon: "🌱"
    categories: [Data handling, Networks]
  - name: Intermediate
    icon: "🚀"
    categories: [Training]
  - name: Advanced
    icon: "🏔️"
    categories: [General]
items:
  - {key: entry.data.images, title: Small image datasets, level: Entry, category: Data handling,
     order: 1, project_idea: Train a digit classifier on MNIST.}
  - {key: entry.data.text, title: Small text datasets, level: Entry, category: Data handling,
     order: 2, project_idea: Classify IMDB reviews by sentiment.}
  - {key: entry.data.audio, title: Small audio datasets, level: Entry, category: Data handling,
     order: 3}
  - {key: entry.nets.dense, title: Dense networks, level: Entry, category: Networks, order: 1,
     project_idea: Predict house prices with a small dense network.}
  - {key: entry.nets.cnn, title: Convolutional networks, level: Entry, category: Networks,
     order: 2}
  - {key: intermediate.training.schedules, title: Learning-rate schedules, level: Intermediate,
     category: Training, order: 1, project_idea: Compare step and cosine schedules on CIFAR-10.}
  - {key: intermediate.training.callbacks, title: Custom callbacks, level: Intermediate,
     category: Training, order: 2}
  - {key: intermediate.training.multi_gpu, title: Multi-GPU training, level: Intermediate,
     category: Training, order: 3}
  - {key: advanced.general.papers, title: Reimplement a paper, level: Advanced, category: General,
     order: 1, project_idea: Reproduce one table of a recent paper.}
  - {key: advanced.general.teach, title: Teach what you know, level: Advanced, category: General,
     order: 2, ongoing: true}
"""


def build_checklist() -> Checklist:
    return parse_checklist(CHECKLIST_YAML, "test")


class Learner:
    """Ticks items in "Notion" and pulls them into a real state store."""

    def __init__(self, state_dir: Path, zone: str, checklist: Checklist | None = None) -> None:
        self.checklist = checklist or build_checklist()
        self.zone = ZoneInfo(zone)
        self.store: Store = open_store(state_dir)
        self.items: dict[str, ItemState] = {}
        for number, item in enumerate(self.checklist.ordered_items(), start=1):
            page_id = f"00000000-0000-4000-8000-{number:012d}"
            self.items[item.key] = ItemState(
                key=item.key,
                page_id=page_id,
                title=item.title,
                level=item.level,
                category=item.category,
                order=float(item.order),
                status="not_started",
                url=f"https://www.notion.so/{page_id.replace('-', '')}",
            )
        self.seen: dict[str, Status] = {}
        self.last_pull: datetime | None = None

    def at(self, text: str) -> datetime:
        """`2026-11-24 21:30` in the learner's zone, as an aware UTC datetime."""
        local = datetime.fromisoformat(text).replace(tzinfo=self.zone)
        return local.astimezone(timezone.utc)

    def edit(self, key: str, **fields: object) -> None:
        """Change what Notion holds (title, notes, evidence ...) without a pull."""
        self.items[key] = replace(self.items[key], **fields)  # type: ignore[arg-type]

    def add_own(self, key: str, title: str, status: Status = "not_started") -> None:
        """The learner adds a row of their own in Notion (seen by the next pull)."""
        self.items[key] = ItemState(
            key=key,
            page_id=f"00000000-0000-4000-8000-{len(self.items) + 1:012d}",
            title=title,
            level=None,
            category=None,
            order=None,
            status=status,
            custom=True,
        )

    def pull(
        self,
        when: str,
        statuses: dict[str, Status] | None = None,
        *,
        done_on: dict[str, str] | None = None,
    ) -> None:
        """Set these statuses (and Done on dates, `2026-11-19`) in Notion, then pull at `when`."""
        at = self.at(when)
        for key, day in (done_on or {}).items():
            self.items[key] = replace(self.items[key], done_on=date.fromisoformat(day))
        for key, status in (statuses or {}).items():
            item = self.items[key]
            since = item.in_progress_since
            if status == "in_progress" and item.status != "in_progress":
                since = at
            elif status != "in_progress":
                since = None
            self.items[key] = replace(item, status=status, in_progress_since=since)
        events = []
        for key, item in self.items.items():
            before = self.seen.get(key)
            if key in self.seen and before == item.status:
                continue
            events.append(
                TickEvent(
                    key=key,
                    title=item.title,
                    level=item.level,
                    category=item.category,
                    from_status=before,
                    to_status=item.status,
                    observed_at=at,
                    window_start=self.last_pull,
                    rebuilt=self.last_pull is None,  # the first pull adopts an existing database
                    done_on=item.done_on if item.status == "done" else None,
                )
            )
            self.seen[key] = item.status
        run_id = self.store.start_run("pull", at)
        with self.store.transaction():
            self.store.append_ticks(events, run_id)
            self.store.replace_items(list(self.items.values()))
            self.store.finish_run(run_id, ok=True, finished_at=at, counts={"ticks": len(events)})
        self.last_pull = at

    def failed_pull(self, when: str, error: str) -> None:
        at = self.at(when)
        run_id = self.store.start_run("pull", at)
        self.store.finish_run(run_id, ok=False, finished_at=at, error=error)

    def close(self) -> None:
        self.store.close()


# ------------------------------------------------------------------------------ golden worlds
# Each returns the learner (its store filled), the digest week and the frozen "now".


def normal_week(state_dir: Path) -> tuple[Learner, str, str]:
    """Tracking since W44; one completion in W45 and W47, three in W48; a failed pull."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-10-28 20:00", {"entry.data.images": "done"})
    me.pull("2026-11-04 21:00", {"entry.data.text": "done"})
    me.pull("2026-11-11 21:00", {"entry.data.audio": "in_progress"})
    me.pull("2026-11-18 21:00", {"entry.data.audio": "done", "entry.nets.dense": "in_progress"})
    me.edit(
        "entry.nets.dense",
        notes="Used Keras;  92% on the test set.\nNext: try dropout.",
        evidence="https://github.com/learner/dense-net",
    )
    me.pull("2026-11-24 21:15", {"entry.nets.dense": "done"})
    me.edit("entry.nets.cnn", notes="Followed the *CS231n* notes.", evidence="my notebook")
    me.pull("2026-11-26 19:00", {"entry.nets.cnn": "done", "advanced.general.teach": "done"})
    me.failed_pull("2026-11-27 09:00", "Notion is unavailable (HTTP 503) after 5 attempts")
    me.pull("2026-11-28 10:00", {"intermediate.training.schedules": "in_progress"})
    return me, "2026-W48", "2026-11-30 08:00"


def first_week(state_dir: Path) -> tuple[Learner, str, str]:
    """The first pull happens in W48: a baseline, then one real completion."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull(
        "2026-11-24 19:00",
        {"entry.data.images": "done", "entry.data.text": "in_progress", "entry.data.audio": "done"},
    )
    me.pull("2026-11-26 20:00", {"entry.data.text": "done"})
    return me, "2026-W48", "2026-11-30 08:00"


def empty_week(state_dir: Path) -> tuple[Learner, str, str]:
    """Two active weeks, then nothing in W47 and W48 (the pulls keep running)."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-11-02 18:00")
    me.pull("2026-11-04 18:00", {"entry.data.images": "done"})
    me.pull("2026-11-10 18:00", {"entry.data.text": "done"})
    me.pull("2026-11-18 18:00")
    me.pull("2026-11-25 18:00")
    return me, "2026-W48", "2026-11-30 08:00"


def dst_berlin(state_dir: Path) -> tuple[Learner, str, str]:
    """2026-W43 in Berlin holds the end of summer time (Sun 25 Oct): the week is 169 hours."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-10-12 18:00")
    me.pull("2026-10-18 23:30", {"entry.nets.dense": "in_progress"})  # W42, CEST
    me.pull("2026-10-19 00:30", {"entry.data.images": "done"})  # W43 starts 00:00 CEST
    me.pull("2026-10-25 23:30", {"entry.data.text": "done"})  # CET: 22:30 UTC, still W43
    me.pull("2026-10-26 00:30", {"entry.data.audio": "done"})  # W44 starts 00:00 CET
    return me, "2026-W43", "2026-10-26 08:00"


def dst_new_york(state_dir: Path) -> tuple[Learner, str, str]:
    """Sunday-start weeks; W45 runs Sun 1 Nov (EDT) to Sun 8 Nov (EST): 169 hours."""
    me = Learner(state_dir, "America/New_York")
    me.pull("2026-10-21 18:00")
    me.pull("2026-10-31 23:30", {"entry.data.images": "done"})  # the week before
    me.pull("2026-11-01 00:30", {"entry.data.text": "done"})  # first minutes of W45, EDT
    me.pull("2026-11-07 23:30", {"entry.data.audio": "done"})  # EST: 04:30 UTC on the 8th
    me.pull("2026-11-08 00:30", {"entry.nets.dense": "done"})  # the week after
    return me, "2026-W45", "2026-11-08 08:00"


def reopened_and_stalled(state_dir: Path) -> tuple[Learner, str, str]:
    """An item reopened, one ticked and unticked within the week, one stalled for five weeks."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-10-05 18:00", {"entry.data.images": "done", "entry.data.text": "done"})
    me.pull("2026-10-26 20:00", {"intermediate.training.schedules": "in_progress"})
    me.pull("2026-11-18 20:00", {"intermediate.training.callbacks": "in_progress"})
    me.pull("2026-11-24 20:00", {"entry.nets.dense": "done"})
    me.pull("2026-11-25 20:00", {"entry.data.text": "in_progress"})
    me.pull("2026-11-26 20:00", {"entry.nets.dense": "not_started"})
    me.pull("2026-11-27 20:00", {"entry.data.audio": "done"})
    return me, "2026-W48", "2026-11-30 08:00"


def backdated_done_on(state_dir: Path) -> tuple[Learner, str, str]:
    """Done on set to last week wins: counted in W47 (last week), not in W48."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-11-04 18:00", {"entry.data.images": "done"})  # the starting point
    me.pull("2026-11-11 18:00", {"entry.data.text": "done"})
    me.pull("2026-11-18 18:00", {"entry.data.audio": "done"})
    me.edit("entry.nets.dense", notes="Did it last Thursday, ticked it today.")
    me.pull(
        "2026-11-24 09:00",
        {"entry.nets.dense": "done"},
        done_on={"entry.nets.dense": "2026-11-19"},
    )
    me.pull("2026-11-26 20:00", {"entry.nets.cnn": "done"})
    return me, "2026-W48", "2026-11-30 08:00"


def backdated_week_rendered_later(state_dir: Path) -> tuple[Learner, str, str]:
    """The same world, W47 rendered afterwards: the backdated item is there, on its Done on."""
    me, _, now = backdated_done_on(state_dir)
    return me, "2026-W47", now


def retick_in_one_week(state_dir: Path) -> tuple[Learner, str, str]:
    """Ticked, unticked and ticked again in one week counts once; an own row added ticked counts."""
    me = Learner(state_dir, "Europe/Berlin")
    me.pull("2026-11-09 18:00")
    me.pull("2026-11-17 18:00", {"entry.data.images": "done"})
    me.pull("2026-11-24 19:00", {"entry.data.text": "done"})
    me.pull("2026-11-25 19:00", {"entry.data.text": "not_started"})
    me.pull("2026-11-26 19:00", {"entry.data.text": "done"})
    me.add_own("custom.kaggle", "Kaggle: Titanic competition", "done")
    me.pull("2026-11-27 19:00")
    return me, "2026-W48", "2026-11-30 08:00"


SCENARIOS = {
    "normal": normal_week,
    "first": first_week,
    "empty": empty_week,
    "dst_berlin": dst_berlin,
    "dst_new_york": dst_new_york,
    "reopened_stalled": reopened_and_stalled,
    "backdated": backdated_done_on,
    "backdated_week": backdated_week_rendered_later,
    "retick": retick_in_one_week,
}


def make_settings(state_dir: Path, **env: object) -> Settings:
    """Settings from these variables only (no .env file): `make_settings(p, SMTP_HOST="...")`."""
    values: dict[str, Any] = {
        "DSPROGRESS_STATE_DIR": str(state_dir),
        "DSPROGRESS_TIMEZONE": "Europe/Berlin",
    }
    values.update({name: str(value) for name, value in env.items()})
    return Settings(_env_file=None, **values)
