"""`dsprogress doctor`: which checklist database a sync would use, and why; other checklist
databases under the parent page (a learner split across several by an earlier version is told).

The choice follows `sync.database_choice`: NOTION_DATABASE_ID, else the database recorded in the
state, else the one discovery finds under the parent page, else a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.access import TokenInfo
from sync.discovery import FoundDatabase, database_title, find_checklist_databases
from sync.doctor_local import CheckResult, skip_check
from sync.errors import DatabaseGoneError, DsprogressError
from sync.notion.adapter import NotionAdapter
from sync.notion.versions import is_in_trash

NAME = "database"
OTHERS = "other databases"


def build_choice_detail(why: str, database: Mapping[str, Any]) -> str:
    title = database_title(database) or str(database.get("id", ""))
    return f"{why}: {title!r} {database.get('url') or ''}".rstrip()


def check_database_state(database_id: str, database: Mapping[str, Any]) -> CheckResult | None:
    """A failing result when the database is in the Trash or has no data source, else None."""
    if is_in_trash(database):
        return CheckResult(
            NAME,
            False,
            f"the database {database_id} is in Notion's Trash",
            DatabaseGoneError.default_hint,
        )
    if not database.get("data_sources"):
        return CheckResult(
            NAME,
            False,
            f"the database {database_id} has no data source (in Notion's Trash?)",
            DatabaseGoneError.default_hint,
        )
    return None


def check_discovered(found: list[FoundDatabase]) -> CheckResult:
    """With nothing configured or recorded: what a sync would find under the parent page."""
    if not found:
        return skip_check(
            NAME, "none under the parent page yet: `dsprogress sync` (or init) creates it"
        )
    if len(found) > 1:
        return CheckResult(
            NAME,
            False,
            f"{len(found)} checklist databases under the parent page: a sync halts until you "
            "choose one",
            "Set NOTION_DATABASE_ID to the one to keep (the id in its URL, before ?v=).",
            details=tuple(f"{f.title or 'Untitled'}: {f.url}" for f in found),
        )
    (one,) = found
    how = "by its mark" if one.mark is not None else "by its columns (made before the mark)"
    return CheckResult(
        NAME,
        True,
        f"found under the parent page {how}: {one.title!r} {one.url}; a sync will use it",
    )


def check_other_databases(
    notion: NotionAdapter, parent_page_id: str | None, used_database_id: str | None
) -> tuple[CheckResult | None, list[FoundDatabase]]:
    """(a warning listing checklist databases under the page besides the one in use, the found
    databases). No result when there are none, or nothing to compare."""
    if parent_page_id is None:
        return None, []
    try:
        found = find_checklist_databases(notion, parent_page_id)
    except DsprogressError:
        return None, []
    others = [f for f in found if f.database_id != used_database_id]
    if used_database_id is None or not others:
        return None, found
    return (
        CheckResult(
            OTHERS,
            True,
            f"{len(others)} more checklist database{'s' if len(others) != 1 else ''} under the "
            "parent page (ticks there are not synced)",
            "Copy any ticks you made there into the database in use, then move the others to "
            "Notion's Trash.",
            details=tuple(f"{f.title or 'Untitled'}: {f.url}" for f in others),
            warning=True,
        ),
        found,
    )


def explain_not_found(
    what: str, object_id: str, variable: str, token: TokenInfo | None, visible_pages: int | None
) -> tuple[str, str]:
    """(detail, fix) for a 404: Notion answers the same for "not shared" and "does not exist"."""
    label = f"{what} {object_id} ({variable})"
    if token is not None and token.kind == "personal":
        return (
            f"{label} does not exist, or your account cannot open it",
            "Check the URL (copy it again from the browser) and restore the page from the Trash "
            "if it is there.",
        )
    name = f'"{token.name}"' if token else "your internal connection"
    connect = f"Open it in Notion, ... (top right) -> Connections -> add {name}."
    if visible_pages == 0:
        return (
            f"{label} is not shared with {name}, which is connected to no page at all",
            connect,
        )
    return (
        f"{label} is not shared with {name}, or does not exist (Notion answers the same for both)",
        f"{connect} If it is already connected there, check the id: copy the link again.",
    )
