"""What differs between the Notion-Version values the sandbox speaks.

From Notion's upgrade guides (developers.notion.com): 2026-03-11 removes the `archived` field
from every answer and refuses it in requests (`in_trash` instead); 2026-12-01 makes a data-source
query and search return only the title property unless `filter_properties` names the others.
Every recording in tests/data is on 2025-09-03: the newer behaviour rests on those guides alone.
"""

from __future__ import annotations

from typing import Any

from sync.sandbox.ids import JSON
from sync.sandbox.validate import NotionError, validation

OLDEST = "2025-09-03"
VERSIONS: tuple[str, ...] = (OLDEST, "2026-03-11", "2026-12-01")
TITLE_ONLY_FROM = "2026-12-01"
_OBJECTS_WITH_TRASH = frozenset({"page", "database", "data_source", "block"})


def check_version(version: str) -> None:
    if version not in VERSIONS:
        raise validation(
            "Notion-Version header failed validation: Notion-Version header should be one of "
            f"{', '.join(VERSIONS)}, instead was `{version}`."
        )


def has_archived(version: str) -> bool:
    return version == OLDEST


def title_only_by_default(version: str) -> bool:
    """A query or search without `filter_properties` returns only the title property."""
    return version >= TITLE_ONLY_FROM


def refuse_archived(version: str, body: JSON) -> None:
    if not has_archived(version) and "archived" in body:
        raise NotionError(
            400,
            "validation_error",
            "body failed validation: body.archived is not supported in this API version; "
            "use body.in_trash.",
        )


def without_archived(value: Any) -> Any:
    """An answer with the `archived` field of every page, database, data source and block
    removed (in place: answers are built fresh for each request)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("object") in _OBJECTS_WITH_TRASH:
                item.pop("archived", None)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value
