"""Finding the learner's checklist database in Notion, and checking that it is still there.

Discovery reads the parent page's block children (never search, which is eventually consistent),
follows pagination, and descends into blocks that hold other blocks (columns, toggles, callouts)
to a small depth. Each `child_database` is retrieved: a linked database (which Notion refuses to
retrieve) is skipped; ours carries the mark (`sync.notion.mark`) or, from before the mark, our
columns. Every run also checks the database and its data source objects (`fetch_live_target`), so
a database moved to the Trash is a halt, never "no changes".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.errors import (
    DatabaseGoneError,
    NotionNotFoundError,
    NotionRequestError,
    SafetyHaltError,
)
from sync.notion.adapter import NotionAdapter
from sync.notion.mark import Mark, check_legacy_columns, check_marked_columns, parse_mark
from sync.notion.versions import is_in_trash

log = logging.getLogger("dsprogress.engine")
MAX_DEPTH = 3  # the page, a column list, a column (or a toggle in a toggle)
# Blocks whose children are content of the same page; child pages are other pages.
CONTAINER_BLOCKS = frozenset(
    {
        "column_list",
        "column",
        "toggle",
        "heading_1",
        "heading_2",
        "heading_3",
        "callout",
        "quote",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "synced_block",
        "tab",
    }
)


@dataclass(frozen=True)
class FoundDatabase:
    """A checklist database of ours under the parent page."""

    database_id: str
    data_source_id: str
    url: str
    title: str
    mark: Mark | None  # None: an earlier version's database, recognised by its columns
    database: dict[str, Any]  # the database object, as just read
    source: dict[str, Any]  # the data source object, as just read


@dataclass(frozen=True)
class LiveTarget:
    """The database a run works on, as Notion has it right now."""

    database: dict[str, Any]
    source: dict[str, Any]
    mark: Mark | None


def database_title(database: Mapping[str, Any]) -> str:
    return "".join(str(t.get("plain_text", "")) for t in database.get("title") or [])


def fetch_child_database_ids(notion: NotionAdapter, page_id: str) -> list[str]:
    """The ids of every child_database block under the page, in page order."""
    found: list[str] = []
    pending = [(page_id, 1)]
    while pending:
        block_id, depth = pending.pop(0)
        for block in notion.list_block_children(block_id):
            kind = block.get("type")
            if kind == "child_database" and not is_in_trash(block):
                found.append(str(block["id"]))
            elif kind in CONTAINER_BLOCKS and block.get("has_children") and depth < MAX_DEPTH:
                pending.append((str(block["id"]), depth + 1))
    return found


def _pick_source(notion: NotionAdapter, database: Mapping[str, Any]) -> FoundDatabase | None:
    """Ours when marked or carrying our columns: the data source with our columns."""
    mark = parse_mark(database.get("description"))
    sources = [s for s in database.get("data_sources") or [] if s.get("id")]
    if mark is not None and mark.data_source_id:
        sources.sort(key=lambda s: s["id"] != mark.data_source_id)
    fallback: dict[str, Any] | None = None
    for entry in sources:
        try:
            source = notion.fetch_data_source(str(entry["id"]))
        except NotionNotFoundError:
            continue  # a data source this token cannot read is not one we made
        if is_in_trash(source):
            continue
        properties = source.get("properties") or {}
        if mark is None and check_legacy_columns(properties):
            return _found(database, source, mark)
        if mark is not None and check_marked_columns(properties, mark):
            return _found(database, source, mark)
        fallback = fallback or source
    # Marked but without our Key column (the learner deleted it): still ours; the run adds the
    # missing columns back.
    if mark is not None and fallback is not None:
        return _found(database, fallback, mark)
    return None


def _found(database: Mapping[str, Any], source: dict[str, Any], mark: Mark | None) -> FoundDatabase:
    return FoundDatabase(
        database_id=str(database["id"]),
        data_source_id=str(source["id"]),
        url=str(database.get("url", "")),
        title=database_title(database),
        mark=mark,
        database=dict(database),
        source=source,
    )


def find_checklist_databases(notion: NotionAdapter, page_id: str) -> list[FoundDatabase]:
    """Every checklist database of ours directly on the page (or in its columns, toggles)."""
    found: list[FoundDatabase] = []
    for database_id in fetch_child_database_ids(notion, page_id):
        try:
            database = notion.fetch_database(database_id)
        except (NotionRequestError, NotionNotFoundError) as exc:
            # A linked database: Notion refuses to retrieve it ("is a linked database", or "does
            # not contain any data sources accessible by this API bot"). It is not ours.
            log.debug("discovery: skipping %s (%s)", database_id, exc)
            continue
        if is_in_trash(database):
            continue
        candidate = _pick_source(notion, database)
        if candidate is not None:
            found.append(candidate)
    return found


SEVERAL_FOUND_HINT = (
    "Choose the one to keep: set NOTION_DATABASE_ID to its id (the part of its URL before ?v=) in "
    ".env, then run the command again. Move the others to Notion's Trash when you no longer need "
    "them."
)


def build_several_found_error(
    found: list[FoundDatabase], hint: str = SEVERAL_FOUND_HINT
) -> SafetyHaltError:
    """The halt for several checklist databases under the page: each listed with its URL."""
    return SafetyHaltError(
        f"found {len(found)} checklist databases under your parent page; nothing was written",
        hint,
        details=[f"{f.title or 'Untitled'}: {f.url}" for f in found],
    )


def _gone(what: str, database_id: str) -> DatabaseGoneError:
    return DatabaseGoneError(f"the checklist database {database_id} {what}; nothing was written")


def fetch_live_target(notion: NotionAdapter, database_id: str, data_source_id: str) -> LiveTarget:
    """The database and its data source as Notion has them now; DatabaseGoneError when either is
    in the Trash or can no longer be read. Done on every run, whatever the pull reads after."""
    try:
        database = notion.fetch_database(database_id)
    except NotionNotFoundError as exc:
        raise _gone("can no longer be found (deleted, or no longer shared)", database_id) from exc
    if is_in_trash(database):
        raise _gone("is in Notion's Trash", database_id)
    listed = {str(s.get("id")) for s in database.get("data_sources") or []}
    if data_source_id not in listed:
        raise _gone("has lost its data source (in Notion's Trash, or removed)", database_id)
    try:
        source = notion.fetch_data_source(data_source_id)
    except NotionNotFoundError as exc:
        raise _gone("has lost its data source (it cannot be read)", database_id) from exc
    if is_in_trash(source):
        raise _gone("has its data source in Notion's Trash", database_id)
    return LiveTarget(database, source, parse_mark(database.get("description")))


def pick_data_source(notion: NotionAdapter, database: Mapping[str, Any]) -> str | None:
    """For a configured database: the data source with our columns, else its first one."""
    found = _pick_source(notion, database)
    if found is not None:
        return found.data_source_id
    sources = [s for s in database.get("data_sources") or [] if s.get("id")]
    return str(sources[0]["id"]) if sources else None
