"""PURE: the links dsprogress prints. Notion's own for a real workspace; for a sandbox (any
NOTION_BASE_URL other than Notion's API) the sandbox's own page for the same id, since
`app.notion.com` knows no sandbox id."""

from __future__ import annotations

import re

from sync.config import DEFAULT_BASE_URL

_ID_AT_END = re.compile(r"([0-9a-fA-F]{32})(?:[?#].*)?$")


def shown_url(url: str | None, base_url: str) -> str | None:
    """`url` as the learner should open it: unchanged for Notion, or
    `<sandbox>/__sandbox/open/<id>` when the API is a sandbox at `base_url`."""
    if not url or base_url.rstrip("/") == DEFAULT_BASE_URL:
        return url
    found = _ID_AT_END.search(url)
    if found is None:
        return url
    return f"{base_url.rstrip('/')}/__sandbox/open/{found.group(1).lower()}"
