"""PURE: the base a row carries in Notion — the last coherent state the tool wrote to it.

Done and Status are two columns for one fact, and the tool owns *Done on* only while it filled it.
To tell what the learner changed, every machine compares the row with this base (in the sense of
a merge base) instead of with its own memory, so two machines reading the same row decide the
same thing. It lives in the tool's "Sync base" column (rich text, hidden in our views) and is
written in the same request as every derived write, and whenever the resolved done-ness differs
from it.

The text is versioned compact JSON, well under Notion's 2,000 characters:
`{"v":1,"done":true,"status":"Done","ip":true,"on":"2026-12-06","filled":true}`
- `done`, `status`: the Done tick and the Status option the tool left coherent;
- `ip`: the item was in progress before it was done (an untick goes back to In progress);
- `on`, `filled`: the *Done on* the row held, and whether the tool filled it.

A text that does not parse (or a newer version) counts as no base: the row keeps the rule a row
without a base has, and gets a fresh base at its next tool write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

BASE_VERSION = 1
MAX_STATUS = 100  # Notion caps a select option's name at 100 characters


@dataclass(frozen=True)
class RowBase:
    """The last coherent state the tool wrote to a row."""

    done: bool
    status: str | None
    was_in_progress: bool = False
    done_on: date | None = None
    filled: bool = False  # the tool filled `done_on`

    @property
    def tool_done_on(self) -> date | None:
        """The Done on the tool filled, as written."""
        return self.done_on if self.filled else None


def parse_base(text: str) -> RowBase | None:
    """The base in a row's Sync base text; None when empty, damaged or of another version."""
    if not text.strip():
        return None
    try:
        data: Any = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != BASE_VERSION:
            return None
        done, status, ip, filled = data["done"], data.get("status"), data["ip"], data["filled"]
        on = data.get("on")
        if not all(isinstance(flag, bool) for flag in (done, ip, filled)):
            return None
        if status is not None and not isinstance(status, str):
            return None
        return RowBase(
            done=done,
            status=status,
            was_in_progress=ip,
            done_on=date.fromisoformat(on) if on is not None else None,
            filled=filled and on is not None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def build_base_text(base: RowBase) -> str:
    """The Sync base text for `base` (compact, stable key order)."""
    data = {
        "v": BASE_VERSION,
        "done": base.done,
        "status": base.status[:MAX_STATUS] if base.status is not None else None,
        "ip": base.was_in_progress,
        "on": base.done_on.isoformat() if base.done_on is not None else None,
        "filled": base.filled and base.done_on is not None,
    }
    return json.dumps(data, separators=(",", ":"))
