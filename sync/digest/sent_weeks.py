"""The last digest week sent per channel, recorded in Notion in the checklist database's mark.

The state folder records each delivery too, but it is one machine's memory: a second machine, or
one whose state was rebuilt, reads the mark and never sends the same week again. The file channel
is not recorded there: it writes a local file, which each machine may keep for itself.

Best effort both ways: when Notion cannot be read, the local record alone decides; when the mark
cannot be written, the delivery still counts (the next digest tries again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sync.config import Settings
from sync.database_choice import choose_database_id
from sync.digest.channels import DigestPageWriter
from sync.errors import DsprogressError
from sync.notion.mark import Mark, build_description, parse_mark
from sync.store import Store

log = logging.getLogger("dsprogress.digest")
LOCAL_CHANNELS = frozenset({"file"})


@dataclass
class SentWeeks:
    """The mark's `digests` as read at the start of a delivery; `write_sent` records a week."""

    notion: DigestPageWriter | None = None
    database_id: str | None = None
    mark: Mark = field(default_factory=Mark)

    def check_sent(self, channel: str, week: str) -> bool:
        return channel not in LOCAL_CHANNELS and self.mark.digest_sent(channel, week)

    def write_sent(self, channel: str, week: str) -> None:
        if self.notion is None or self.database_id is None or channel in LOCAL_CHANNELS:
            return
        try:
            database = self.notion.fetch_database(self.database_id)
            current = parse_mark(database.get("description")) or self.mark
            updated = current.with_digest(channel, week)
            if updated != current:
                description = build_description(database.get("description"), mark=updated)
                self.notion.update_database(self.database_id, description=description)
            self.mark = updated
        except DsprogressError as exc:
            log.warning("could not record the %s digest of %s in Notion: %s", channel, week, exc)


def load_sent_weeks(
    settings: Settings, store: Store, notion: Callable[[], DigestPageWriter]
) -> SentWeeks:
    """Read the mark when Notion is configured and the database known; else an empty record."""
    database_id = choose_database_id(settings.notion_database_id, store.get_meta("database_id"))
    if settings.token is None or database_id is None:
        return SentWeeks()
    try:
        writer = notion()
        database = writer.fetch_database(database_id)
    except DsprogressError as exc:
        log.warning("could not read the digests already sent from Notion: %s", exc)
        return SentWeeks()
    return SentWeeks(writer, database_id, parse_mark(database.get("description")) or Mark())
