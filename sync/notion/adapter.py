"""The only code that talks to notion-client.

Every call goes through `_call`: paced, retried under our own policy (the SDK's retries are off),
counted, and its failures translated into dsprogress errors (`raise ... from e`; what each failure
means lives in `sync.notion.failures`). A call that is not safe to repeat (creating a page or a
database) raises `AmbiguousWriteError` after a failure that may have been applied, so the caller
can look before creating again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
from notion_client import Client
from notion_client.errors import (
    APIResponseError,
    HTTPResponseError,
    InvalidPathParameterError,
    RequestTimeoutError,
)

from sync.errors import NotionRequestError, NotionUnavailableError
from sync.notion.failures import AmbiguousWriteError as AmbiguousWriteError
from sync.notion.failures import (
    MalformedAnswerError,
    RetryableFailure,
    build_unavailable,
    check_answer,
    check_refusal,
    parse_server_time,
)
from sync.notion.pacing import RETRYABLE_STATUSES, Pacer, RetryPolicy, parse_retry_after

log = logging.getLogger("dsprogress.notion")
_sdk_log = logging.getLogger("dsprogress.notion.sdk")
_sdk_log.addHandler(logging.NullHandler())
_sdk_log.propagate = False
RetryCallback = Callable[[float, str], None]
"""Told (seconds to wait, what failed) before each retry, so that a command can say so."""


class NotionAdapter:
    """A paced, retrying, counting gateway to one Notion integration."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.notion.com",
        *,
        rate_limit: float = 3.0,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: RetryCallback | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Notion's clock, from each answer's Date header: the watermark of an incremental pull
        # comes from Notion's time, never this machine's.
        self.server_time: datetime | None = None
        self._client = Client(
            client=httpx.Client(event_hooks={"response": [self._note_server_time]}),
            auth=token,
            base_url=self.base_url,
            timeout_ms=int(timeout * 1000),
            retry=False,
            logger=_sdk_log,
            log_level=logging.CRITICAL,
        )
        self._sleep = sleep
        self.pacer = Pacer(rate_limit, sleep=sleep)
        self.policy = policy or RetryPolicy()
        self.requests = 0
        self.retries = 0
        self.on_retry = on_retry

    def close(self) -> None:
        self._client.close()

    def _note_server_time(self, response: httpx.Response) -> None:
        moment = parse_server_time(response.headers.get("date"))
        if moment is not None:
            self.server_time = moment

    def __enter__(self) -> NotionAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one gateway -------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        repeatable: bool,
        what: str,
        listing: bool = False,
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            self.pacer.wait()
            self.requests += 1
            try:
                result = self._client.request(path=path, method=method, body=body, query=query)
                return check_answer(result, listing=listing)
            except InvalidPathParameterError as exc:
                raise NotionRequestError(f"invalid Notion id while {what}: {exc}") from exc
            except MalformedAnswerError as exc:
                failure = RetryableFailure(exc, None, "a malformed answer")
            except ValueError as exc:  # a 200 whose body is not JSON: HTML, empty or truncated
                failure = RetryableFailure(exc, None, "an answer that is not JSON")
            except APIResponseError as exc:
                failure = check_refusal(
                    exc,
                    status=exc.status,
                    code=str(getattr(exc.code, "value", exc.code)),
                    headers=exc.headers,
                    what=what,
                )
            except HTTPResponseError as exc:  # 502/504/529 and other non-JSON answers
                if exc.status not in RETRYABLE_STATUSES:
                    raise NotionUnavailableError(
                        f"Notion answered HTTP {exc.status} while {what}"
                    ) from exc
                failure = RetryableFailure(
                    exc,
                    parse_retry_after(exc.headers.get("retry-after")),
                    f"HTTP {exc.status}",
                )
            except RequestTimeoutError as exc:
                failure = RetryableFailure(exc, None, "timeout")
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached Notion: repeating it is safe for any call.
                failure = RetryableFailure(exc, None, "cannot connect", maybe_applied=False)
            except httpx.TransportError as exc:
                failure = RetryableFailure(exc, None, f"connection error ({type(exc).__name__})")
            rate_limited = isinstance(failure.cause, APIResponseError) and (
                failure.cause.status == 429
            )
            if not repeatable and failure.maybe_applied and not rate_limited:
                raise AmbiguousWriteError(what, failure.cause) from failure.cause
            if attempt >= self.policy.max_attempts:
                raise build_unavailable(
                    failure, what=what, attempts=attempt, base_url=self.base_url
                ) from failure.cause
            delay = self.policy.delay(attempt, failure.retry_after)
            self.retries += 1
            log.info(
                "retrying %s after %s (attempt %d, wait %.1fs)",
                what,
                failure.description,
                attempt,
                delay,
            )
            if self.on_retry is not None:
                self.on_retry(delay, failure.description)
            if rate_limited:
                self.pacer.pause(delay)
            else:
                self._sleep(delay)

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
        cursor: str | None = None
        while True:
            body: dict[str, Any] = {
                "query": query,
                "filter": {"property": "object", "value": "page"},
                "page_size": page_size,
            }
            if cursor:
                body["start_cursor"] = cursor
            result = self._call(
                "POST", "search", body=body, repeatable=True, what="searching pages", listing=True
            )
            yield from result.get("results", [])
            cursor = result.get("next_cursor")
            if not result.get("has_more") or not cursor:
                return

    # -- blocks ----------------------------------------------------------------------------------
    def list_block_children(self, block_id: str) -> list[dict[str, Any]]:
        """Every child block of a page or block, following the cursor."""
        blocks: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query: dict[str, Any] = {"page_size": 100}
            if cursor:
                query["start_cursor"] = cursor
            page = self._call(
                "GET",
                f"blocks/{block_id}/children",
                query=query,
                repeatable=True,
                what="reading the parent page's content",
            )
            blocks.extend(page.get("results", []))
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
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
        self, data_source_id: str, filter_: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every (non-trashed) row of the data source, following the cursor."""
        return list(self.iter_rows(data_source_id, filter_))

    def iter_rows(
        self, data_source_id: str, filter_: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The rows one answer (up to 100) at a time: the caller parses them as they arrive."""
        cursor: str | None = None
        while True:
            body: dict[str, Any] = {"page_size": 100}
            if filter_ is not None:
                body["filter"] = filter_
            if cursor:
                body["start_cursor"] = cursor
            page = self._call(
                "POST",
                f"data_sources/{data_source_id}/query",
                body=body,
                repeatable=True,
                what="reading the checklist rows",
                listing=True,
            )
            yield from page.get("results", [])
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return

    def find_rows_by_key(
        self, data_source_id: str, key_column: str, key: str
    ) -> list[dict[str, Any]]:
        return self.query_rows(
            data_source_id, {"property": key_column, "rich_text": {"equals": key}}
        )

    # -- rows ------------------------------------------------------------------------------------
    def create_row(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        body = {
            "parent": {"type": "data_source_id", "data_source_id": data_source_id},
            "properties": properties,
        }
        return self._call("POST", "pages", body=body, repeatable=False, what="creating a row")

    def create_row_with_key(
        self, data_source_id: str, properties: dict[str, Any], key_column: str, key: str
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
                found = self.find_rows_by_key(data_source_id, key_column, key)
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
