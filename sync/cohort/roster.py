"""The cohort's learners: found under the cohort page by the mark, on a schedule of their own.

Every child page of the cohort page (also inside its columns and toggles) is a learner, named by
the page's title; their checklist databases are found as a learner's own run finds one
(`sync.discovery.find_checklist_databases`: the mark, or an earlier version's columns). Discovery
reads every learner's page, so it runs daily (`DISCOVERY_INTERVAL`) or on `--rediscover`, never on
every pass. The roster is kept in the cohort's own state (`<state>/cohort/`); a learner found
once stays on it, so a database trashed or unshared since shows as unreachable, not as gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sync.discovery import CONTAINER_BLOCKS, MAX_DEPTH, LiveTarget, find_checklist_databases
from sync.notion.adapter import NotionAdapter
from sync.notion.versions import is_in_trash
from sync.store import Store

DISCOVERY_INTERVAL = timedelta(days=1)
ROSTER_META: Final = "cohort_roster"
UNTITLED = "Untitled"


@dataclass(frozen=True)
class Learner:
    """One learner's checklist database, as discovery found it."""

    name: str
    page_id: str
    database_id: str
    data_source_id: str
    url: str


@dataclass(frozen=True)
class Roster:
    discovered_at: datetime | None
    learners: tuple[Learner, ...]

    def check_due(self, now: datetime) -> bool:
        """Whether discovery should run again (never run, or a day old)."""
        return self.discovered_at is None or now - self.discovered_at >= DISCOVERY_INTERVAL


def _page_title(block: dict[str, Any]) -> str:
    title = (block.get("child_page") or {}).get("title")
    return str(title).strip() if title else UNTITLED


def fetch_learner_pages(notion: NotionAdapter, cohort_page_id: str) -> list[tuple[str, str]]:
    """(page id, title) of every child page of the cohort page, in page order; pages inside
    columns, toggles and other containers count too."""
    found: list[tuple[str, str]] = []
    pending = [(cohort_page_id, 1)]
    while pending:
        block_id, depth = pending.pop(0)
        for block in notion.list_block_children(block_id):
            kind = block.get("type")
            if is_in_trash(block):
                continue
            if kind == "child_page":
                found.append((str(block["id"]), _page_title(block)))
            elif kind in CONTAINER_BLOCKS and block.get("has_children") and depth < MAX_DEPTH:
                pending.append((str(block["id"]), depth + 1))
    return found


def fetch_learners(
    notion: NotionAdapter,
    cohort_page_id: str,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Learner], dict[str, LiveTarget]]:
    """Every learner's checklist database under the cohort page, and each database as just
    read (the pass that follows needs not read it again). A learner with two databases is listed
    twice, the second as "Name (2)"."""
    pages = fetch_learner_pages(notion, cohort_page_id)
    learners: list[Learner] = []
    live: dict[str, LiveTarget] = {}
    for index, (page_id, title) in enumerate(pages, start=1):
        for number, found in enumerate(find_checklist_databases(notion, page_id), start=1):
            name = title if number == 1 else f"{title} ({number})"
            learners.append(
                Learner(name, page_id, found.database_id, found.data_source_id, found.url)
            )
            live[found.database_id] = LiveTarget(found.database, found.source, found.mark)
        if progress is not None:
            progress(index, len(pages))
    return learners, live


def merge_roster(old: Iterable[Learner], found: Iterable[Learner]) -> tuple[Learner, ...]:
    """The learners just found, then those found before and missing now (their database may be
    in the Trash or unshared: a sync says so)."""
    fresh = {learner.database_id: learner for learner in found}
    kept = [learner for learner in old if learner.database_id not in fresh]
    return (*fresh.values(), *kept)


def load_roster(store: Store) -> Roster:
    data = store.get_json_meta(ROSTER_META) or {}
    when = data.get("discovered_at")
    learners = tuple(Learner(**entry) for entry in data.get("learners", []))
    return Roster(datetime.fromisoformat(when) if when else None, learners)


def write_roster(store: Store, roster: Roster) -> None:
    store.set_json_meta(
        ROSTER_META,
        {
            "discovered_at": roster.discovered_at.isoformat() if roster.discovered_at else None,
            "learners": [asdict(learner) for learner in roster.learners],
        },
    )
