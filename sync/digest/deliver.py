"""Load a digest from the state and deliver it on each channel, once per week and channel.

Every attempt is recorded per (week, channel) in the state store: a channel that already has the
week is skipped unless forced, a failed channel is tried again on the next run, and one failing
channel never keeps the others from sending. The scheduler calls `run_weekly_digest`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sync.checklist import Checklist
from sync.config import DEFAULT_BASE_URL, Settings, require_notion
from sync.database_choice import choose_database_id
from sync.digest import channels
from sync.digest.channel_choice import CHANNELS as CHANNELS
from sync.digest.channel_choice import SETUP_HINTS, Channel
from sync.digest.channel_choice import configured_channels as configured_channels
from sync.digest.channel_choice import select_channels as select_channels
from sync.digest.compute import compute_digest
from sync.digest.data import DigestData
from sync.digest.render import (
    Format,
    build_notion_summary,
    render_digest,
    render_subject,
)
from sync.digest.sent_weeks import SentWeeks, load_sent_weeks
from sync.errors import ConfigError, DeliveryError, DsprogressError, StateError
from sync.links import shown_url
from sync.lock import hold_lock
from sync.logs import redact
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.store import Store
from sync.weeks import WeekId, WeekStart, build_week_window, last_complete_week

log = logging.getLogger("dsprogress.digest")

Outcome = Literal["sent", "already_sent", "failed", "skipped"]
DIGEST_LOCK = "digest.lock"


@dataclass(frozen=True)
class ChannelResult:
    channel: str
    outcome: Outcome
    detail: str = ""

    def describe(self) -> str:
        """`email: sent`, `slack: already sent`, `discord: failed: Discord webhook answered 404`."""
        text = f"{self.channel}: {self.outcome.replace('_', ' ')}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class DeliveryReport:
    week: str
    results: tuple[ChannelResult, ...] = field(default_factory=tuple)
    partial: bool = False
    """The week had not ended: what was sent is the week so far, and the complete week's digest
    is still sent after it ends (recorded only in this state folder, never in Notion's mark)."""

    @property
    def scope(self) -> str:
        """`2026-W48, complete week` or `2026-W49 so far, a partial week`."""
        if self.partial:
            return f"{self.week} so far, a partial week (the complete week is sent after it ends)"
        return f"{self.week}, complete week"

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[ChannelResult]:
        return [r for r in self.results if r.outcome == "failed"]


# ------------------------------------------------------------------------------------ loading


def load_digest(
    store: Store,
    checklist: Checklist,
    *,
    week: WeekId,
    zone: ZoneInfo,
    week_start: WeekStart,
    now: datetime,
    base_url: str = DEFAULT_BASE_URL,
) -> DigestData:
    """Read what a digest needs from the state store and compute it; its links are the ones a
    learner opens (`links.shown_url`: a sandbox's own page for a sandbox at `base_url`)."""
    window = build_week_window(week, zone, week_start)
    return compute_digest(
        checklist,
        store.load_items(),
        store.load_history(),
        store.load_runs(since=window.start),
        week,
        zone,
        week_start,
        now,
        last_successful_sync=store.last_successful_pull(),
        database_url=shown_url(store.get_meta("database_url"), base_url),
        progress_url=shown_url(store.get_meta("progress_url"), base_url),
    )


def check_tracked(data: DigestData) -> None:
    """Raise StateError when the history cannot speak about the digest's week."""
    if data.tracking_since is None:
        raise StateError(
            "no progress history yet: nothing has been pulled from Notion",
            hint="Run `dsprogress pull` (or `dsprogress sync`) first.",
        )
    if data.tracking_since >= data.window.end:
        raise StateError(
            f"no progress history for {data.week}: tracking began on"
            f" {data.tracking_since.date().isoformat()}",
            hint="Pick a later week with --week, or leave --week out: the last complete week "
            "(before any tracked week has ended, this week so far).",
        )


NotionFactory = Callable[[Settings], channels.DigestPageWriter]


def _default_notion(settings: Settings) -> channels.DigestPageWriter:
    token = require_notion(settings)
    return NotionAdapter(
        token,
        settings.notion_base_url,
        rate_limit=settings.rate_limit,
        notion_version=settings.notion_version,
    )


def send_digest_email(
    settings: Settings, *, subject: str, text: str, html: str, now: datetime
) -> str:
    """Mail a digest (the learner's or a cohort's) to SMTP_TO through the configured server;
    returns what the channel line says (`to 2 recipients`)."""
    recipients = channels.parse_recipients(settings.smtp_to)
    if not settings.smtp_host or not settings.smtp_from or not recipients:
        raise DeliveryError("Email: SMTP_HOST, SMTP_FROM and SMTP_TO must all be set")
    message = channels.build_email(
        subject=subject,
        text=text,
        html=html,
        sender=settings.smtp_from,
        recipients=recipients,
        now=now,
    )
    password = settings.smtp_password
    channels.send_email(
        message,
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else None,
    )
    return f"to {len(recipients)} recipient{'s' if len(recipients) != 1 else ''}"


class _Sender:
    """Sends one digest on any channel; renders each format once, when first needed."""

    def __init__(
        self,
        data: DigestData,
        settings: Settings,
        store: Store,
        now: datetime,
        notion: NotionFactory,
    ) -> None:
        self.data, self.settings, self.store, self.now = data, settings, store, now
        self._notion_factory = notion
        self._notion: channels.DigestPageWriter | None = None
        self._renders: dict[Format, str] = {}

    def render(self, fmt: Format) -> str:
        if fmt not in self._renders:
            self._renders[fmt] = render_digest(
                self.data, fmt, templates_dir=self.settings.templates_dir
            )
        return self._renders[fmt]

    @property
    def shortened_note(self) -> str:
        return f"… (shortened here: the full digest is in digests/{self.data.week}.md)"

    def send(self, channel: Channel) -> str:
        """Deliver on one channel; return a short detail for the report (a path, a URL)."""
        senders: dict[Channel, Callable[[], str]] = {
            "file": self._send_file,
            "email": self._send_email,
            "slack": self._send_slack,
            "discord": self._send_discord,
            "notion": self._send_notion,
        }
        return senders[channel]()

    def notion(self) -> channels.DigestPageWriter:
        if self._notion is None:
            self._notion = self._notion_factory(self.settings)
        return self._notion

    def close(self) -> None:
        close = getattr(self._notion, "close", None)
        if callable(close):
            close()

    def _send_file(self) -> str:
        paths = channels.write_digest_files(
            self.settings.state_dir, self.data.week, self.render("md"), self.render("html")
        )
        return str(paths[0])

    def _send_email(self) -> str:
        return send_digest_email(
            self.settings,
            subject=render_subject(self.data),
            text=self.render("text"),
            html=self.render("html"),
            now=self.now,
        )

    def _send_slack(self) -> str:
        assert self.settings.slack_webhook_url is not None
        payload = channels.build_slack_payload(
            render_subject(self.data), self.render("text"), shortened_note=self.shortened_note
        )
        channels.send_slack(self.settings.slack_webhook_url.get_secret_value(), payload)
        return ""

    def _send_discord(self) -> str:
        assert self.settings.discord_webhook_url is not None
        payload = channels.build_discord_payload(
            render_subject(self.data), self.render("md"), shortened_note=self.shortened_note
        )
        channels.send_discord(self.settings.discord_webhook_url.get_secret_value(), payload)
        return ""

    def _send_notion(self) -> str:
        parent = self.settings.notion_parent_page_id
        if parent is None:
            raise ConfigError(
                "Notion digest pages need NOTION_PARENT_PAGE_ID", hint=SETUP_HINTS["notion"]
            )
        notion = self.notion()
        try:
            url = channels.send_notion_page(
                notion,
                parent,
                self.data.week,
                self.render("md"),
                known_page_id=self.store.get_digest_page(self.data.week),
                remember=lambda page_id: self.store.set_digest_page(self.data.week, page_id),
            )
        except AmbiguousWriteError as exc:
            raise DeliveryError(
                f"Notion: {exc.what} may or may not have happened ({type(exc.cause).__name__})",
                hint="The next run looks for the page before creating it again.",
            ) from None
        database_id = choose_database_id(
            self.settings.notion_database_id, self.store.get_meta("database_id")
        )
        if database_id:
            summary = build_notion_summary(self.data)
            channels.send_notion_summary(notion, database_id, summary)
        return url


def _deliver_one(
    sender: _Sender,
    store: Store,
    channel: Channel,
    now: datetime,
    *,
    partial: bool,
    force: bool,
    sent_weeks: SentWeeks,
) -> ChannelResult:
    week = sender.data.week
    previous = store.get_delivery(week, channel)
    # A partial send never stands in for the complete week; a complete one covers both.
    covered = ("sent", "partial") if partial else ("sent",)
    if previous is not None and previous.status in covered and not force:
        detail = "the partial week" if previous.status == "partial" else ""
        return ChannelResult(channel, "already_sent", detail)
    if not force and sent_weeks.check_sent(channel, week):
        return ChannelResult(channel, "already_sent", "by another machine (recorded in Notion)")
    try:
        detail = sender.send(channel)
    except DsprogressError as exc:
        reason = redact(exc.message)
    except Exception as exc:  # a bug in one channel must not block the others
        log.debug("digest channel %s crashed", channel, exc_info=True)
        reason = f"unexpected {type(exc).__name__} (rerun with --verbose)"
    else:
        log.info("digest %s sent on %s", week, channel)
        store.record_delivery(week, channel, ok=True, at=now, partial=partial)
        if not partial:  # Notion's mark reads `sent >= week`: it records complete weeks only
            sent_weeks.write_sent(channel, week)
        return ChannelResult(channel, "sent", detail)
    log.info("digest %s on %s failed: %s", week, channel, reason)  # the report carries it
    store.record_delivery(week, channel, ok=False, at=now, error=reason)
    return ChannelResult(channel, "failed", reason)


def deliver_digest(
    data: DigestData,
    settings: Settings,
    store: Store,
    *,
    now: datetime,
    channels_to_send: Sequence[Channel] | None = None,
    force: bool = False,
    notion: NotionFactory | None = None,
) -> DeliveryReport:
    """Send `data` on each channel (default: every configured one); record every outcome.

    A channel that already delivered this week is skipped unless `force`. A week that has not
    ended yet (`now` before its end: the first week's starting point) is a partial send: it is
    recorded as such in the state only, and the complete week is still sent after it ends.
    Errors are caught per channel, recorded (without secrets) and reported; they never stop the
    other channels. Holds the digest lock, so two processes (the daemon and a manual `--send`)
    never send together.
    """
    sender = _Sender(data, settings, store, now, notion or _default_notion)
    partial = now < data.window.end
    results = []
    lock = hold_lock(settings.state_dir, DIGEST_LOCK, settings.lock_timeout, what="another digest")
    with lock:
        try:
            sent_weeks = load_sent_weeks(settings, store, sender.notion)
            for channel in channels_to_send or configured_channels(settings):
                results.append(
                    _deliver_one(
                        sender,
                        store,
                        channel,
                        now,
                        partial=partial,
                        force=force,
                        sent_weeks=sent_weeks,
                    )
                )
        finally:
            sender.close()
    return DeliveryReport(data.week, tuple(results), partial)


def run_weekly_digest(
    settings: Settings,
    store: Store,
    checklist: Checklist,
    now: datetime,
    *,
    force: bool = False,
    channel: str | None = None,
    notion: NotionFactory | None = None,
) -> DeliveryReport:
    """Send the digest of the last complete week on every channel that has not had it yet.

    Safe to call as often as the scheduler likes: each (week, channel) is delivered once. Before
    the first pull, or for a week that ended before tracking began, nothing is sent (one
    "skipped" result says why).
    """
    week = last_complete_week(now, settings.zone, settings.week_start)
    selected = select_channels(settings, channel)
    data = load_digest(
        store,
        checklist,
        week=week,
        zone=settings.zone,
        week_start=settings.week_start,
        now=now,
        base_url=settings.notion_base_url,
    )
    try:
        check_tracked(data)
    except StateError as exc:
        return DeliveryReport(str(week), (ChannelResult("digest", "skipped", exc.message),))
    return deliver_digest(
        data, settings, store, now=now, channels_to_send=selected, force=force, notion=notion
    )
