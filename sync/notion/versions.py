"""PURE: the Notion API versions dsprogress speaks, and the one Trash check.

Notion's upgrade guides: 2026-03-11 removes `archived` in favour of `in_trash` everywhere;
2026-12-01 makes a data-source query (and search) return only the title property unless
`filter_properties` names the others. dsprogress works unchanged under all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOTION_VERSIONS: tuple[str, ...] = ("2025-09-03", "2026-03-11", "2026-12-01")
DEFAULT_NOTION_VERSION = "2026-03-11"


def parse_notion_version(text: str) -> str:
    """The version named by `text` (a setting's value); ValueError naming the supported ones."""
    version = text.strip()
    if version not in NOTION_VERSIONS:
        raise ValueError(
            f"{version!r} is not a Notion API version dsprogress speaks; use one of "
            f"{', '.join(NOTION_VERSIONS)} (default {DEFAULT_NOTION_VERSION})"
        )
    return version


def is_in_trash(obj: Mapping[str, Any]) -> bool:
    """Whether a page, database, data source or block answer says it is in Notion's Trash.

    Every supported version sends `in_trash`; only an answer without it (Notion-Version
    2025-09-03 and older) is read by its deprecated alias `archived`.
    """
    if "in_trash" in obj:
        return bool(obj.get("in_trash"))
    return bool(obj.get("archived"))
