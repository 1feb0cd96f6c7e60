"""What a Notion call's answer or failure means: the shape check of an answer, the failure a retry
may fix, and the dsprogress error each refusal becomes. The adapter (`sync.notion.adapter`), the
only code that talks to notion-client, hands its exceptions' facts here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sync.errors import (
    NotionAuthError,
    NotionNotFoundError,
    NotionRequestError,
    NotionUnavailableError,
)
from sync.notion.pacing import RATE_LIMIT_STATUSES, RETRYABLE_STATUSES, parse_retry_after

BLOCK_LIMIT_HINT = (
    "Free workspaces with more than one member allow internal connections 1,000 blocks in all "
    "(each row and each digest page's blocks count); personal access tokens are exempt. Create "
    "one (https://www.notion.so/developers/tokens -> New token), put it in NOTION_TOKEN, and run "
    "again: nothing is lost."
)


class AmbiguousWriteError(Exception):
    """A non-repeatable write failed in a way that may have been applied on Notion's side."""

    def __init__(self, what: str, cause: Exception) -> None:
        super().__init__(f"{what} may or may not have been applied: {type(cause).__name__}")
        self.what = what
        self.cause = cause


class MalformedAnswerError(Exception):
    """Notion answered 200 with JSON of the wrong shape (e.g. `results: null`)."""


def check_answer(answer: Any, *, listing: bool) -> dict[str, Any]:
    """The answer if it has the shape the callers read; MalformedAnswerError otherwise.

    Like a 5xx, a malformed answer is retried where that is safe and never trusted: a read that
    cannot be trusted must not lead to writes.
    """
    if not isinstance(answer, dict):
        raise MalformedAnswerError(f"a JSON {type(answer).__name__} instead of an object")
    if listing or "results" in answer:
        results = answer.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise MalformedAnswerError("`results` is not a list of objects")
        if not all(isinstance(r.get("id"), str) for r in results):
            raise MalformedAnswerError("an object in `results` has no id")
        if not isinstance(answer.get("has_more", False), bool):
            raise MalformedAnswerError("`has_more` is not true or false")
        if not isinstance(answer.get("next_cursor"), (str, type(None))):
            raise MalformedAnswerError("`next_cursor` is not a string")
    return answer


class RetryableFailure(Exception):
    """A failed call that a retry may fix (`maybe_applied`: it may have reached Notion)."""

    def __init__(
        self,
        cause: Exception,
        retry_after: float | None,
        description: str,
        *,
        maybe_applied: bool = True,
        rate_limited: bool = False,
        reason: str | None = None,
    ) -> None:
        super().__init__(description)
        self.cause = cause
        self.maybe_applied = maybe_applied
        self.retry_after = retry_after
        self.description = description
        self.rate_limited = rate_limited  # 429 or 529: Notion asks us to slow down
        self.reason = reason  # a 429's `additional_data.rate_limit_reason`


def build_slow_down(
    exc: Exception, *, status: int, code: str, headers: Mapping[str, str], reason: str | None
) -> RetryableFailure:
    """A 429 (`rate_limited`) or 529 (`service_overload`): wait Retry-After, then repeat."""
    description = f"{status} {code}" + (f" ({reason})" if reason else "")
    return RetryableFailure(
        exc,
        parse_retry_after(headers.get("retry-after")),
        description,
        rate_limited=True,
        reason=reason,
    )


def read_rate_limit_reason(additional_data: Any) -> str | None:
    if isinstance(additional_data, Mapping):
        reason = additional_data.get("rate_limit_reason")
        if isinstance(reason, str) and reason.strip():
            return reason.strip()[:80]
    return None


def is_block_limit(code: str, message: str) -> bool:
    """Whether a refusal is the Free workspace's block limit (developers.notion.com,
    workspace-block-limits): told apart by what it says, not by its status."""
    text = f"{code} {message}".lower().replace("_", " ")
    return "block limit" in text


def check_refusal(
    exc: Exception,
    *,
    status: int,
    code: str,
    headers: Mapping[str, str],
    what: str,
    additional_data: Any = None,
) -> RetryableFailure:
    """The failure to retry for Notion's error answer `exc` (HTTP `status`, error `code`), or the
    dsprogress error it becomes when a retry cannot help."""
    if status in RATE_LIMIT_STATUSES:
        reason = read_rate_limit_reason(additional_data)
        return build_slow_down(exc, status=status, code=code, headers=headers, reason=reason)
    if status in RETRYABLE_STATUSES:
        return RetryableFailure(
            exc, parse_retry_after(headers.get("retry-after")), f"{status} {code}"
        )
    message = str(exc)
    if is_block_limit(code, message):
        raise NotionRequestError(
            f"Notion refused a write while {what}: the workspace has reached the Free plan's "
            f"block limit for internal connections ({message})",
            hint=BLOCK_LIMIT_HINT,
        ) from exc
    if status == 401:
        raise NotionAuthError(f"Notion rejected the token ({message})") from exc
    if status == 403:
        raise NotionAuthError(
            f"the token lacks a capability while {what} ({message})",
            hint="In the internal connection's settings "
            "(https://www.notion.so/developers/connections), enable Read, Update and Insert "
            "content; a personal access token needs the Notion API capability.",
        ) from exc
    if status == 404:
        raise NotionNotFoundError(
            f"Notion cannot find the object while {what}: it does not exist, or your token "
            "cannot see it",
        ) from exc
    raise NotionRequestError(f"Notion refused the request while {what}: {message}") from exc


def build_unavailable(
    failure: RetryableFailure, *, what: str, attempts: int, base_url: str
) -> NotionUnavailableError:
    """The error once the retries are spent."""
    if isinstance(failure.cause, httpx.ConnectError):
        return NotionUnavailableError(
            f"cannot reach Notion at {base_url} while {what} ({attempts} attempts)",
            hint="Check your network connection (and NOTION_BASE_URL), then try again.",
        )
    return NotionUnavailableError(
        f"Notion kept failing while {what}: {failure.description} after {attempts} attempts"
    )


def parse_server_time(stamp: str | None) -> datetime | None:
    """Notion's clock from an answer's Date header (None when absent or unreadable)."""
    if not stamp:
        return None
    try:
        moment = parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        return None
    return None if moment.tzinfo is None else moment.astimezone(timezone.utc)
