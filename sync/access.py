"""What a Notion token can reach: who it acts as (`users/me`) and the pages it can see.

Pure pieces (`parse_token_text`, `parse_token_owner`, `build_page_choices`) and the requests
around them (`fetch_token_info`, `fetch_parent_page`, `fetch_page_choices`), used by `init` and
`doctor`. Never prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sync.config import parse_notion_id
from sync.config_values import clean_secret
from sync.errors import (
    CONNECTIONS_URL,
    PERSONAL_TOKENS_URL,
    ConfigError,
    NotionNotFoundError,
)
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import plain_text
from sync.notion.versions import is_in_trash

TokenKind = Literal["integration", "personal"]


# -- the token -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenInfo:
    """Who the token acts as: an internal connection (a bot: needs sharing) or a person."""

    kind: TokenKind
    name: str
    workspace: str | None


def parse_token_text(text: str) -> str:
    """The token from what was pasted: trims blanks, quotes and a `Bearer ` prefix."""
    token = clean_secret(text)[0].strip("'\"").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        raise ConfigError(
            "the token is empty",
            hint=f"Paste a personal access token ({PERSONAL_TOKENS_URL}) or an internal "
            f"connection's secret ({CONNECTIONS_URL}).",
        )
    if any(ch.isspace() for ch in token):
        raise ConfigError(
            "the token contains spaces; it was probably pasted incompletely",
            hint="Copy the whole secret again (it is one word, e.g. ntn_...).",
        )
    return token


def parse_token_owner(me: Mapping[str, Any]) -> TokenInfo:
    """Read `GET /v1/users/me`: a bot owned by the workspace is an internal connection; a person
    (a personal access token) or a bot acting for one user sees what that user sees."""
    name = str(me.get("name") or "your integration")
    if me.get("type") == "bot":
        bot = me.get("bot") or {}
        owner = bot.get("owner") or {}
        workspace = bot.get("workspace_name")
        kind: TokenKind = "integration" if owner.get("type") == "workspace" else "personal"
        return TokenInfo(kind, name, str(workspace) if workspace else None)
    return TokenInfo("personal", name, None)


def describe_token_kind(kind: TokenKind) -> str:
    """Notion's own name for the kind of token in use."""
    return "internal connection" if kind == "integration" else "personal access token"


def render_token_owner(info: TokenInfo) -> str:
    """`a personal access token, acting as 'Ada'` / `an internal connection 'x' in 'Home'`."""
    if info.kind == "personal":
        return f"a {describe_token_kind(info.kind)}, acting as {info.name!r}"
    where = f" in the workspace {info.workspace!r}" if info.workspace else ""
    return f"an {describe_token_kind(info.kind)}, {info.name!r}{where}"


def fetch_token_info(notion: NotionAdapter) -> TokenInfo:
    """Check the token with `users/me` (NotionAuthError when Notion rejects it)."""
    return parse_token_owner(notion.fetch_me())


# -- the parent page -----------------------------------------------------------------------------
PAGE_LINK_HINT = (
    "Paste the page's link (in Notion: Share -> Copy link, or the browser's address bar) "
    "or the 32-character id at its end."
)


@dataclass(frozen=True)
class PageChoice:
    page_id: str
    title: str
    url: str


def page_title(page: Mapping[str, Any]) -> str:
    for prop in (page.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return plain_text(prop.get("title")).strip() or "Untitled"
    return "Untitled"


def build_page_choice(page: Mapping[str, Any]) -> PageChoice | None:
    """A page that can hold the database; None for a database row or a page in the Trash."""
    if page.get("object") != "page" or is_in_trash(page):
        return None
    if (page.get("parent") or {}).get("type") in ("database_id", "data_source_id"):
        return None
    return PageChoice(str(page["id"]), page_title(page), str(page.get("url", "")))


def build_page_choices(results: Sequence[Mapping[str, Any]]) -> list[PageChoice]:
    """The pages among search results that can hold the database, in the search's order."""
    return [choice for page in results if (choice := build_page_choice(page)) is not None]


def not_shared_hint(kind: TokenKind | None) -> str:
    if kind == "personal":
        return (
            "Check the page's URL: with a personal token you see what your own account sees, "
            "so the page does not exist (or is in the Trash, or you lost access)."
        )
    return (
        "Open the page in Notion, click ... (top right) -> Connections -> add your connection; "
        "or check the URL. Notion answers the same 'not found' for both."
    )


def fetch_parent_page(notion: NotionAdapter, value: str, kind: TokenKind | None) -> PageChoice:
    """The page a pasted URL or id names, checked: reachable, not in the Trash, not a row."""
    try:
        page_id = parse_notion_id(value)
    except ValueError as exc:
        raise ConfigError(f"the page {value.strip()[:80]!r} {exc}", hint=PAGE_LINK_HINT) from None
    try:
        page = notion.fetch_page(page_id)
    except NotionNotFoundError as exc:
        unseen = (
            "your account cannot open it"
            if kind == "personal"
            else "is not shared with your internal connection"
        )
        raise NotionNotFoundError(
            f"the page {page_id} does not exist or {unseen}", hint=not_shared_hint(kind)
        ) from exc
    if is_in_trash(page):
        raise NotionNotFoundError(
            f"the page {page_title(page)!r} is in Notion's Trash",
            hint="Restore it from the Trash, or pick another page.",
        )
    if (page.get("parent") or {}).get("type") in ("database_id", "data_source_id"):
        raise ConfigError(
            f"{page_title(page)!r} is a row of a database, not a page",
            hint="Pick an ordinary page to hold the checklist database.",
        )
    return PageChoice(page_id, page_title(page), str(page.get("url", "")))


@dataclass(frozen=True)
class PageListing:
    """The pages to offer (most recently edited first); `more` when others were left out."""

    choices: list[PageChoice]
    more: bool


def fetch_page_choices(
    notion: NotionAdapter, query: str = "", *, limit: int = 15, max_scanned: int = 500
) -> PageListing:
    """Pages matching `query`, read page by page until `limit` are found.

    Search results mix in every database row (a personal token sees the whole workspace), so
    they are skipped as they come; after `max_scanned` results the listing stops and says so.
    """
    choices: list[PageChoice] = []
    for scanned, page in enumerate(notion.iter_search_pages(query), start=1):
        choice = build_page_choice(page)
        if choice is not None:
            if len(choices) == limit:
                return PageListing(choices, more=True)
            choices.append(choice)
        if scanned >= max_scanned:
            return PageListing(choices, more=True)
    return PageListing(choices, more=False)
