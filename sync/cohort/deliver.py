"""Send the weekly cohort digest through the learner digest's channels (file, email, Slack,
Discord, a Notion page under the cohort page), once per week per channel.

Each attempt is recorded per (week, channel) in the cohort's own state (`<state>/cohort/`), as the
learner's digest records its own: a channel that has the week is skipped unless forced, a failed
one is tried again next time, and one failing channel never stops the others. Nothing is written
to any learner's database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sync.cohort.digest import CohortDigest, render_cohort_digest, render_subject
from sync.config import Settings
from sync.digest import channels
from sync.digest.channel_choice import Channel
from sync.digest.deliver import ChannelResult, DeliveryReport, send_digest_email
from sync.errors import DsprogressError
from sync.lock import hold_lock
from sync.logs import redact
from sync.notion.adapter import NotionAdapter
from sync.store import Store

log = logging.getLogger("dsprogress.cohort")
COHORT_DIGEST_LOCK = "cohort-digest.lock"
NotionFactory = Callable[[], channels.DigestPageWriter]


def _send(
    channel: Channel,
    digest: CohortDigest,
    settings: Settings,
    folder: Path,
    store: Store,
    notion: NotionFactory,
) -> str:
    """Deliver on one channel; a short detail for the report."""
    note = f"… (shortened here: the full digest is in cohort/digests/{digest.week}.md)"
    subject = render_subject(digest)
    if channel == "file":
        md, page = render_cohort_digest(digest, "md"), render_cohort_digest(digest, "html")
        return str(channels.write_digest_files(folder, digest.week, md, page)[0])
    if channel == "email":
        return send_digest_email(
            settings,
            subject=subject,
            text=render_cohort_digest(digest, "text"),
            html=render_cohort_digest(digest, "html"),
            now=digest.now,
        )
    if channel == "slack" and settings.slack_webhook_url is not None:
        text = render_cohort_digest(digest, "text")
        payload = channels.build_slack_payload(subject, text, shortened_note=note)
        channels.send_slack(settings.slack_webhook_url.get_secret_value(), payload)
        return ""
    if channel == "discord" and settings.discord_webhook_url is not None:
        md = render_cohort_digest(digest, "md")
        payload = channels.build_discord_payload(subject, md, shortened_note=note)
        channels.send_discord(settings.discord_webhook_url.get_secret_value(), payload)
        return ""
    if channel == "notion" and settings.cohort_page is not None:
        return channels.send_notion_page(
            notion(),
            settings.cohort_page,
            digest.week,
            render_cohort_digest(digest, "md"),
            known_page_id=store.get_digest_page(digest.week),
            remember=lambda page_id: store.set_digest_page(digest.week, page_id),
        )
    raise ValueError(f"{channel} is not set up (select_channels checks this first)")


def deliver_cohort_digest(
    digest: CohortDigest,
    settings: Settings,
    store: Store,
    folder: Path,
    *,
    channels_to_send: Sequence[Channel],
    now: datetime,
    force: bool = False,
) -> DeliveryReport:
    """Send on each channel that has not had the week (all of them with `force`)."""
    opened: list[NotionAdapter] = []

    def notion() -> channels.DigestPageWriter:
        if not opened:
            assert settings.token is not None
            opened.append(
                NotionAdapter(
                    settings.token,
                    settings.notion_base_url,
                    rate_limit=settings.rate_limit,
                    notion_version=settings.notion_version,
                )
            )
        return opened[0]

    results = []
    lock = hold_lock(folder, COHORT_DIGEST_LOCK, settings.lock_timeout, what="another digest")
    with lock:
        try:
            for channel in channels_to_send:
                results.append(
                    _deliver_one(channel, digest, settings, folder, store, notion, now, force)
                )
        finally:
            for adapter in opened:
                adapter.close()
    return DeliveryReport(digest.week, tuple(results))


def _deliver_one(
    channel: Channel,
    digest: CohortDigest,
    settings: Settings,
    folder: Path,
    store: Store,
    notion: NotionFactory,
    now: datetime,
    force: bool,
) -> ChannelResult:
    previous = store.get_delivery(digest.week, channel)
    if previous is not None and previous.status == "sent" and not force:
        return ChannelResult(channel, "already_sent")
    try:
        detail = _send(channel, digest, settings, folder, store, notion)
    except DsprogressError as exc:
        reason = redact(exc.message)
    except Exception as exc:  # a bug in one channel must not block the others
        log.debug("cohort digest channel %s crashed", channel, exc_info=True)
        reason = f"unexpected {type(exc).__name__} (rerun with --verbose)"
    else:
        store.record_delivery(digest.week, channel, ok=True, at=now)
        return ChannelResult(channel, "sent", detail)
    store.record_delivery(digest.week, channel, ok=False, at=now, error=reason)
    return ChannelResult(channel, "failed", reason)
