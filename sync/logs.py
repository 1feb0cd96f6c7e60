"""Logging setup with secret redaction.

Every handler gets `RedactingFilter`, which replaces registered secrets (the token, webhook URLs,
the SMTP password) with `[REDACTED]` in every record, whatever library emitted it.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import ClassVar
from urllib.parse import quote, quote_plus, urlsplit

_TOKEN_PATTERN = re.compile(r"\b(?:ntn_|secret_)[A-Za-z0-9]{8,}")


class RedactingFilter(logging.Filter):
    secrets: ClassVar[set[str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def register_secret(value: str | None) -> None:
    """Remember a secret, and its URL-encoded forms, so that no output can carry it."""
    if not value or len(value) < 6:
        return
    for form in (value, quote(value, safe=""), quote_plus(value, safe=""), quote(value)):
        RedactingFilter.secrets.add(form)


def register_secret_url(url: str | None) -> None:
    """A webhook URL is a secret as a whole, and so is its path (the part that grants access),
    which a server may echo back without the host."""
    if not url:
        return
    register_secret(url)
    path = urlsplit(url).path.strip("/")
    register_secret(path)
    # The path's last segments alone (Slack: T.../B.../token; Discord: id/token) are secrets too.
    segments = [part for part in path.split("/") if part]
    for count in range(1, len(segments)):
        tail = "/".join(segments[-count:])
        if len(tail) >= 16:
            register_secret(tail)


def redact(text: str) -> str:
    """Replace every registered secret and anything shaped like a Notion token.

    The one redaction: logs, error messages, tracebacks, delivery results and the state's
    tables all pass through it.
    """
    for secret in sorted(RedactingFilter.secrets, key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    return _TOKEN_PATTERN.sub("[REDACTED]", text)


def format_redacted_traceback(exc: BaseException) -> str:
    """The traceback of `exc` as `--verbose` shows it, with every secret redacted."""
    return redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def configure_logging(*, verbose: bool) -> None:
    """Send dsprogress logs to stderr: warnings by default, debug with --verbose."""
    root = logging.getLogger("dsprogress")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        if getattr(handler, "_dsprogress", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._dsprogress = True  # type: ignore[attr-defined]
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.propagate = False
