"""The Notion adapter: each endpoint dsprogress uses, over the gateway (`sync.notion.gateway`,
paced, retried, counted; with this module the only code that talks to notion-client).

Every listing goes through the gateway's one pager. A data-source query always names the
columns it reads (`filter_properties`, from `sync.notion.mapping.Columns`), and is complete or
not read at all: past Notion's cap on rows per query it is read again in windows by creation
time (`sync.notion.rows`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from sync.errors import NotionUnavailableError
from sync.notion.failures import AmbiguousWriteError as AmbiguousWriteError
from sync.notion.gateway import NotionGateway
from sync.notion.gateway import RetryCallback as RetryCallback
from sync.notion.mapping import Columns
from sync.notion.rows import (
    CREATED_ASCENDING,
    QueryWindow,
    build_key_filter,
    build_read_properties,
    is_incomplete,
)

log = logging.getLogger("dsprogress.notion")


class NotionAdapter(NotionGateway):
    """Notion's endpoints as dsprogress uses them."""

    def __enter__(self) -> NotionAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- users and search ------------------------------------------------------------------------
    def fetch_me(self) -> dict[str, Any]:
        return self._call("GET", "users/me", repeatable=True, what="checking the token")

    def search_pages(self, query: str = "", limit: int = 50) -> list[dict[str, Any]]:
        """Up to `limit` pages matching `query` (most recently edited first), read page by page."""
        results: list[dict[str, Any]] = []
        for page in self.iter_search_pages(query, page_size=min(max(limit, 1), 100)):
            results.append(page)
            if len(results) >= limit:
                break
        return results

    def iter_search_pages(self, query: str = "", page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every page the token can see that matches `query`, one search request per 100."""
        body: dict[str, Any] = {
            "query": query,
            "filter": {"property": "object", "value": "page"},
            "page_size": page_size,
        }
        for answer in self._pages("POST", "search", body=body, what="searching pages"):
            yield from answer.get("results", [])

    # -- blocks ----------------------------------------------------------------------------------
    def list_block_children(self, block_id: str) -> list[dict[str, Any]]:
        """Every child block of a page or block, following the cursor."""
        blocks: list[dict[str, Any]] = []
        for answer in self._pages(
            "GET",
            f"blocks/{block_id}/children",
            query={"page_size": 100},
            what="reading the parent page's content",
        ):
            blocks.extend(answer.get("results", []))
        return blocks

    # -- pages outside our database --------------------------------------------------------------
    def fetch_page(self, page_id: str) -> dict[str, Any]:
        return self._call(
            "GET", f"pages/{page_id}", repeatable=True, what=f"reading page {page_id}"
        )

    def create_child_page(
        self, parent_page_id: str, title: str, icon: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "properties": {"title": {"title": [{"type": "text", "text": {"content": title}}]}},
        }
        if icon:
            body["icon"] = {"type": "emoji", "emoji": icon}
        return self._call(
            "POST", "pages", body=body, repeatable=False, what=f"creating page {title!r}"
        )

    def replace_page_markdown(self, page_id: str, markdown: str) -> dict[str, Any]:
        body = {"type": "replace_content", "replace_content": {"new_str": markdown}}
        return self._call(
            "PATCH",
            f"pages/{page_id}/markdown",
            body=body,
            repeatable=True,
            what="writing page content",
        )

    # -- databases and data sources --------------------------------------------------------------
    def create_database(
        self,
        parent_page_id: str,
        title: str,
        icon: str | None,
        properties: dict[str, Any],
        description: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "title": [{"type": "text", "text": {"content": title}}],
            "initial_data_source": {"properties": properties},
        }
        if description:
            body["description"] = description
        if icon:
            body["icon"] = {"type": "emoji", "emoji": icon}
        return self._call(
            "POST", "databases", body=body, repeatable=False, what="creating the checklist database"
        )

    def fetch_database(self, database_id: str) -> dict[str, Any]:
        return self._call(
            "GET",
            f"databases/{database_id}",
            repeatable=True,
            what=f"reading database {database_id}",
        )

    def update_database(
        self, database_id: str, *, description: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Change the database's description (rich text items, see `sync.notion.mark`)."""
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        return self._call(
            "PATCH",
            f"databases/{database_id}",
            body=body,
            repeatable=True,
            what="updating the database",
        )

    def fetch_data_source(self, data_source_id: str) -> dict[str, Any]:
        return self._call(
            "GET",
            f"data_sources/{data_source_id}",
            repeatable=True,
            what="reading the database schema",
        )

    def update_data_source(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            "PATCH",
            f"data_sources/{data_source_id}",
            body={"properties": properties},
            repeatable=True,
            what="updating the database schema",
        )

    def query_rows(
        self, data_source_id: str, filter_: dict[str, Any] | None = None, *, columns: Columns
    ) -> list[dict[str, Any]]:
        """Every (non-trashed) row of the data source matching `filter_`, each once."""
        return list(self.iter_rows(data_source_id, filter_, columns=columns))

    def iter_rows(
        self, data_source_id: str, filter_: dict[str, Any] | None = None, *, columns: Columns
    ) -> Iterator[dict[str, Any]]:
        """The rows one answer (up to 100) at a time: the caller parses them as they arrive.

        Each row comes once, with every column of ours (`columns`); the read is complete or
        raises (see `sync.notion.rows`): past Notion's cap on one query it goes on in windows
        of creation time, and halts when one minute alone holds more rows than a query returns.
        """
        what = "reading the checklist rows"
        properties = build_read_properties(columns)
        seen: set[str] = set()
        window: QueryWindow | None = None
        while True:
            body: dict[str, Any] = {"page_size": 100}
            query_filter = filter_ if window is None else window.filter()
            if query_filter is not None:
                body["filter"] = query_filter
            if window is not None:
                body["sorts"] = CREATED_ASCENDING
            last_created: str | None = None
            complete = True
            for answer in self._pages(
                "POST",
                f"data_sources/{data_source_id}/query",
                body=body,
                query={"filter_properties": properties},
                what=what,
            ):
                for row in answer.get("results", []):
                    last_created = row.get("created_time") or last_created
                    if row["id"] not in seen:
                        seen.add(row["id"])
                        yield row
                complete = not is_incomplete(answer)
            if complete:
                return
            if window is None:
                log.info("%s: Notion cut the query short; reading it by creation time", what)
                window = QueryWindow(filter_, what)
            else:
                window.advance(last_created)

    def find_rows_by_key(
        self, data_source_id: str, columns: Columns, key: str
    ) -> list[dict[str, Any]]:
        filter_ = build_key_filter(columns.names["key"], key)
        return self.query_rows(data_source_id, filter_, columns=columns)

    # -- rows ------------------------------------------------------------------------------------
    def create_row(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        body = {
            "parent": {"type": "data_source_id", "data_source_id": data_source_id},
            "properties": properties,
        }
        return self._call("POST", "pages", body=body, repeatable=False, what="creating a row")

    def create_row_with_key(
        self, data_source_id: str, properties: dict[str, Any], columns: Columns, key: str
    ) -> dict[str, Any]:
        """Create the row for `key`, never twice: after a failure that may have been applied (a
        timeout, a 5xx, an answer that is not JSON), look the row up by its Key before creating
        again."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.create_row(data_source_id, properties)
            except AmbiguousWriteError as exc:
                found = self.find_rows_by_key(data_source_id, columns, key)
                if found:
                    return found[0]
                if attempt >= self.policy.max_attempts:
                    raise NotionUnavailableError(
                        f"Notion kept failing while {exc.what}: {type(exc.cause).__name__} "
                        f"after {attempt} attempts"
                    ) from exc
                self.retries += 1
                self._sleep(self.policy.delay(attempt, None))

    def update_row(
        self,
        page_id: str,
        properties: dict[str, Any] | None = None,
        *,
        in_trash: bool | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if properties:
            body["properties"] = properties
        if in_trash is not None:
            body["in_trash"] = in_trash
        return self._call(
            "PATCH", f"pages/{page_id}", body=body, repeatable=True, what=f"updating row {page_id}"
        )

    # -- views (best effort, used by init) -------------------------------------------------------
    def create_view(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "views", body=body, repeatable=False, what="creating a view")

    def update_view(self, view_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            "PATCH", f"views/{view_id}", body=body, repeatable=True, what=f"updating view {view_id}"
        )

    def fetch_view(self, view_id: str) -> dict[str, Any]:
        return self._call(
            "GET", f"views/{view_id}", repeatable=True, what=f"reading view {view_id}"
        )

    def list_views(self, database_id: str) -> list[dict[str, Any]]:
        """The database's views as partial `{object, id}` references (first 100)."""
        result = self._call(
            "GET",
            "views",
            query={"database_id": database_id, "page_size": 100},
            repeatable=True,
            what="listing the database's views",
            listing=True,
        )
        return list(result.get("results", []))

    def delete_view(self, view_id: str) -> dict[str, Any]:
        return self._call(
            "DELETE", f"views/{view_id}", repeatable=True, what=f"deleting view {view_id}"
        )
