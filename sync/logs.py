"""Logging setup with secret redaction.

Every handler gets `RedactingFilter`, which replaces registered secrets (the token, webhook URLs,
the SMTP password) with `[REDACTED]` in every record, whatever library emitted it.
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar

_TOKEN_PATTERN = re.compile(r"\b(?:ntn_|secret_)[A-Za-z0-9]{8,}")


class RedactingFilter(logging.Filter):
    secrets: ClassVar[set[str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def register_secret(value: str | None) -> None:
    """Remember a secret so that no log line can carry it."""
    if value and len(value) >= 6:
        RedactingFilter.secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret and anything shaped like a Notion token."""
    for secret in sorted(RedactingFilter.secrets, key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    return _TOKEN_PATTERN.sub("[REDACTED]", text)


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
