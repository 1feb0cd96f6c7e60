"""The gateway of the Notion adapter (`sync.notion.adapter`): with it, the only code that talks
to notion-client.

Every call goes through `_call`: paced, retried under our own policy (the SDK's retries are off),
counted, and its failures translated into dsprogress errors (`raise ... from e`; what each failure
means lives in `sync.notion.failures`). A call that is not safe to repeat (creating a page or a
database) raises `AmbiguousWriteError` after a failure that may have been applied, so the caller
can look before creating again.

Every listing goes through one pager (`_pages`). A data-source query always names the columns
it reads (`filter_properties`, from `sync.notion.mapping.Columns`), and is complete or not read
at all: past Notion's cap on rows per query it is read again in windows by creation time
(`sync.notion.rows`).
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
    build_slow_down,
    build_unavailable,
    check_answer,
    check_refusal,
    parse_server_time,
)
from sync.notion.pacing import (
    RATE_LIMIT_STATUSES,
    RETRYABLE_STATUSES,
    Pacer,
    RetryPolicy,
    is_shared_limit,
    parse_retry_after,
)
from sync.notion.versions import DEFAULT_NOTION_VERSION

log = logging.getLogger("dsprogress.notion")
_sdk_log = logging.getLogger("dsprogress.notion.sdk")
_sdk_log.addHandler(logging.NullHandler())
_sdk_log.propagate = False
RetryCallback = Callable[[float, str], None]
"""Told (seconds to wait, what failed) before each retry, so that a command can say so."""


class NotionGateway:
    """A paced, retrying, counting gateway to one Notion integration (its endpoints:
    `sync.notion.adapter.NotionAdapter`)."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.notion.com",
        *,
        rate_limit: float = 3.0,
        notion_version: str = DEFAULT_NOTION_VERSION,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: RetryCallback | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.notion_version = notion_version
        # Notion's clock, from each answer's Date header: the watermark of an incremental pull
        # comes from Notion's time, never this machine's.
        self.server_time: datetime | None = None
        self._client = Client(
            client=httpx.Client(event_hooks={"response": [self._note_server_time]}),
            auth=token,
            base_url=self.base_url,
            timeout_ms=int(timeout * 1000),
            retry=False,
            notion_version=notion_version,
            logger=_sdk_log,
            log_level=logging.CRITICAL,
        )
        self._sleep = sleep
        self.pacer = Pacer(rate_limit, sleep=sleep)
        self.policy = policy or RetryPolicy()
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0  # 429 and 529 answers met (each one waited out)
        self.on_retry = on_retry

    def close(self) -> None:
        self._client.close()

    def _note_server_time(self, response: httpx.Response) -> None:
        moment = parse_server_time(response.headers.get("date"))
        if moment is not None:
            self.server_time = moment

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
        failures = 0  # failed attempts (5xx, timeouts, ...); being told to slow down is not one
        slowed = 0
        while True:
            self.pacer.wait()
            self.requests += 1
            try:
                result = self._client.request(path=path, method=method, body=body, query=query)
                return check_answer(result, listing=listing)
            except InvalidPathParameterError as exc:
                raise NotionRequestError(f"invalid Notion id while {what}: {exc}") from exc
            except Exception as exc:
                failure = self._sort_failure(exc, what)
            if failure.rate_limited:
                slowed += 1
                self.rate_limited += 1
                if is_shared_limit(failure.reason):
                    self.pacer.slow_down()
                given_up = slowed > self.policy.max_rate_limited
                delay = self.policy.delay(slowed, failure.retry_after)
            else:
                failures += 1
                if not repeatable and failure.maybe_applied:
                    raise AmbiguousWriteError(what, failure.cause) from failure.cause
                given_up = failures >= self.policy.max_attempts
                delay = self.policy.delay(failures, failure.retry_after)
            if given_up:
                raise build_unavailable(
                    failure, what=what, attempts=failures + slowed, base_url=self.base_url
                ) from failure.cause
            self._before_retry(failure, what, failures + slowed, delay)

    def _sort_failure(self, exc: Exception, what: str) -> RetryableFailure:
        """The failure to retry for `exc`; raises the dsprogress error when a retry cannot help."""
        if isinstance(exc, MalformedAnswerError):
            return RetryableFailure(exc, None, "a malformed answer")
        if isinstance(exc, APIResponseError):
            return check_refusal(
                exc,
                status=exc.status,
                code=str(getattr(exc.code, "value", exc.code)),
                headers=exc.headers,
                what=what,
                additional_data=getattr(exc, "additional_data", None),
            )
        if isinstance(exc, HTTPResponseError):  # 502/504/529 and other non-JSON answers
            if exc.status in RATE_LIMIT_STATUSES:
                code = "service_overload" if exc.status == 529 else "rate_limited"
                return build_slow_down(
                    exc, status=exc.status, code=code, headers=exc.headers, reason=None
                )
            if exc.status not in RETRYABLE_STATUSES:
                raise NotionUnavailableError(
                    f"Notion answered HTTP {exc.status} while {what}"
                ) from exc
            retry_after = parse_retry_after(exc.headers.get("retry-after"))
            return RetryableFailure(exc, retry_after, f"HTTP {exc.status}")
        if isinstance(exc, ValueError):  # a 200 whose body is not JSON: HTML, empty or truncated
            return RetryableFailure(exc, None, "an answer that is not JSON")
        if isinstance(exc, RequestTimeoutError):
            return RetryableFailure(exc, None, "timeout")
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            # The request never reached Notion: repeating it is safe for any call.
            return RetryableFailure(exc, None, "cannot connect", maybe_applied=False)
        if isinstance(exc, httpx.TransportError):
            return RetryableFailure(exc, None, f"connection error ({type(exc).__name__})")
        raise exc

    def _before_retry(
        self, failure: RetryableFailure, what: str, attempt: int, delay: float
    ) -> None:
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
        if failure.rate_limited:
            self.pacer.pause(delay)
        else:
            self._sleep(delay)

    # -- the one pager ---------------------------------------------------------------------------
    def _pages(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Each answer of a listing, following `next_cursor` (in the body of a POST, in the
        query string of a GET)."""
        cursor: str | None = None
        while True:
            page_body = None if body is None else dict(body)
            page_query = None if query is None else dict(query)
            if cursor:
                if page_body is not None:
                    page_body["start_cursor"] = cursor
                else:
                    page_query = {**(page_query or {}), "start_cursor": cursor}
            answer = self._call(
                method,
                path,
                body=page_body,
                query=page_query,
                repeatable=True,
                what=what,
                listing=True,
            )
            yield answer
            cursor = answer.get("next_cursor")
            if not answer.get("has_more") or not cursor:
                return
