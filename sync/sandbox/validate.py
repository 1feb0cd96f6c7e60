"""Notion's error bodies and the request checks that produce them.

Every refusal is a `NotionError`; the HTTP layer turns it into
`{"object": "error", "status", "code", "message", "request_id", "additional_data"?}`.
Messages follow Notion's wording where it is known (recordings, SDK tests, reported issues).
"""

from __future__ import annotations

import json
from typing import Any

from sync.sandbox.ids import JSON

MAX_PAGE_SIZE = 100
MAX_RICH_TEXT_CONTENT = 2000
MAX_ARRAY_ITEMS = 100
MAX_URL_LENGTH = 2000

ARCHIVED_MESSAGE = "Can't edit block that is archived. You must unarchive the block before editing."

# Status -> (code, message) of the server-side errors Notion answers with.
SERVER_ERRORS: dict[int, tuple[str, str]] = {
    403: ("restricted_resource", "Insufficient permissions for this endpoint."),
    409: ("conflict_error", "Conflict occurred while saving. Please try again."),
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("service_unavailable", "Notion is unavailable, please try again later."),
    504: ("gateway_timeout", "Notion timed out while processing the request."),
    529: ("service_overload", "Notion is overloaded. Please try again later."),
}


class NotionError(Exception):
    """A refusal with Notion's status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        additional_data: JSON | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.additional_data = additional_data
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> JSON:
        body: JSON = {
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }
        if self.additional_data is not None:
            body["additional_data"] = self.additional_data
        body["request_id"] = request_id
        return body


def server_error(
    status: int, *, code: str | None = None, message: str | None = None
) -> NotionError:
    default_code, default_message = SERVER_ERRORS[status]
    return NotionError(status, code or default_code, message or default_message)


def rate_limited(retry_after: int, reason: str | None = None) -> NotionError:
    """A 429; `reason` goes in `additional_data.rate_limit_reason` (the window budgets)."""
    return NotionError(
        429,
        "rate_limited",
        SERVER_ERRORS[429][1],
        additional_data={"rate_limit_reason": reason} if reason else None,
        headers={"Retry-After": str(max(1, retry_after))},
    )


def validation(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def shown(value: Any) -> str:
    """How Notion quotes an offending value: JSON in backticks; `undefined` when missing."""
    if value is _MISSING:
        return "`undefined`"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


class _Missing:
    def __repr__(self) -> str:
        return "undefined"


_MISSING: Any = _Missing()
MISSING: Any = _MISSING
"""Marks an absent body field, shown by Notion as `undefined`."""


def _failed(path: str) -> str:
    """`body failed validation` or `query failed validation`, after the path's first part."""
    return f"{path.split('.', 1)[0].split('[', 1)[0]} failed validation"


def invalid(path: str, expectation: str, value: Any) -> NotionError:
    """`body failed validation: body.x should be <expectation>, instead was `<value>`.`"""
    return validation(
        f"{_failed(path)}: {path} should be {expectation}, instead was {shown(value)}."
    )


def too_long(path: str, limit: int, actual: int) -> NotionError:
    return validation(
        f"{_failed(path)}: {path}.length should be ≤ `{limit}`, instead was `{actual}`."
    )


def invalid_id(where: str, raw: Any) -> NotionError:
    """A malformed id: in the path (`page_id`) or in the body (`body.parent.page_id`)."""
    if where.startswith("body."):
        return invalid(where, "a valid uuid", raw)
    return validation(
        f"path failed validation: path.{where} should be a valid uuid, instead was {shown(raw)}."
    )


def invalid_request_url() -> NotionError:
    return NotionError(400, "invalid_request_url", "Invalid request URL.")


def invalid_content_length(value: str) -> NotionError:
    return NotionError(400, "invalid_request", f"Invalid Content-Length header: {value[:40]!r}.")


def invalid_json() -> NotionError:
    return NotionError(400, "invalid_json", "Error parsing JSON body.")


def missing_version() -> NotionError:
    return NotionError(
        400,
        "missing_version",
        "Notion-Version header failed validation: Notion-Version header should be defined, "
        "instead was `undefined`.",
    )


def unauthorized() -> NotionError:
    return NotionError(401, "unauthorized", "API token is invalid.")


def archived() -> NotionError:
    return validation(ARCHIVED_MESSAGE)


def not_found(kind: str, object_id: str, integration_name: str, integration_id: str) -> NotionError:
    """404 for an unknown object and for one not shared with the integration alike."""
    return NotionError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and databases "
        f'are shared with your integration "{integration_name}".',
        additional_data={"integration_id": integration_id},
    )


def require_object(value: Any, path: str) -> JSON:
    if not isinstance(value, dict):
        raise invalid(path, "an object", value)
    return value


def optional_object(body: JSON, key: str, path: str) -> JSON | None:
    value = body.get(key, MISSING)
    if value is MISSING or value is None:
        return None
    return require_object(value, f"{path}.{key}")


def require_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise invalid(path, "a string", value)
    return value


def require_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(path, "a boolean", value)
    return value


def require_list(value: Any, path: str, *, limit: int = MAX_ARRAY_ITEMS) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(path, "an array", value)
    if len(value) > limit:
        raise too_long(path, limit, len(value))
    return value


def page_size(value: Any, path: str) -> int:
    """`page_size`: a whole number from 1 to 100; absent means 100."""
    if value is MISSING or value is None:
        return MAX_PAGE_SIZE
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(path, "a number", value)
    if value > MAX_PAGE_SIZE:
        raise validation(
            f"{_failed(path)}: {path} should be ≤ `{MAX_PAGE_SIZE}`, instead was `{value}`."
        )
    if value < 1:
        raise validation(f"{_failed(path)}: {path} should be ≥ `1`, instead was `{value}`.")
    return value


def invalid_cursor(cursor: Any) -> NotionError:
    return validation(f"The start_cursor provided is invalid: {cursor}")


def user_not_found(user_id: str, integration_id: str) -> NotionError:
    """404 for a user the integration cannot see (message as recorded)."""
    return NotionError(
        404,
        "object_not_found",
        f"Could not find user with ID: {user_id}. Make sure your integration has capabilities to "
        "read user information. With those capabilities, only members and guests in the "
        "integration's workspace are visible.",
        additional_data={"integration_id": integration_id},
    )
