"""`dsprogress doctor`'s checks that need no Notion: the state folder, the state and snapshot,
the time zone and schedule, and the digest channels. Also `CheckResult`, the doctor's one datum.

Channel checks connect (TCP) to prove a channel is reachable and send nothing, unless `send_test`
asks for a test message. Webhook URLs and the SMTP password never appear in a result.
"""

from __future__ import annotations

import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sync.config import Settings
from sync.errors import DsprogressError, StateError
from sync.snapshot import load_snapshot
from sync.store import STATE_FILE, open_store

CONNECT_TIMEOUT = 5.0
TEST_SUBJECT = "dsprogress test message"
TEST_TEXT = (
    "This is a test message from `dsprogress doctor --send-test`.\n\n"
    "Your weekly Data Science progress digest will arrive here."
)
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report. `skipped` checks could not run or do not apply."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    skipped: bool = False
    details: tuple[str, ...] = ()
    warning: bool = False  # passes, but the learner should know (shown with its fix)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "skipped": self.skipped,
            "warning": self.warning,
            "detail": self.detail,
            "fix": self.fix,
            "details": list(self.details),
        }


def skip_check(name: str, why: str, *, ok: bool = True) -> CheckResult:
    return CheckResult(name, ok, why, skipped=True)


# -- local state and schedule ----------------------------------------------------------------------
def check_state_dir(state_dir: Path) -> CheckResult:
    name = "state folder"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return CheckResult(
            name,
            False,
            f"cannot write to {state_dir}: {exc.strerror or type(exc).__name__}",
            "Set DSPROGRESS_STATE_DIR to a folder you can write to, or fix the folder's "
            "permissions.",
        )
    return CheckResult(name, True, f"writable: {state_dir}")


def check_state_files(state_dir: Path) -> CheckResult:
    name = "state and snapshot"
    if not state_dir.is_dir():
        return skip_check(name, "skipped: no state folder", ok=False)
    parts: list[str] = []
    try:
        if (state_dir / STATE_FILE).is_file():
            with open_store(state_dir) as store:
                count = len(store.load_items())
                last = store.last_successful_pull()
            when = last.isoformat(timespec="minutes") if last else "never"
            parts.append(f"state has {count} items, last successful sync {when}")
        else:
            parts.append("no state yet")
        snapshot = load_snapshot(state_dir)
        parts.append(
            f"snapshot of {snapshot.synced_at.isoformat(timespec='minutes')}"
            if snapshot
            else "no snapshot yet (the first pull writes it)"
        )
    except (DsprogressError, OSError) as exc:
        hint = exc.hint if isinstance(exc, DsprogressError) else StateError.default_hint
        return CheckResult(name, False, str(exc), hint)
    return CheckResult(name, True, "; ".join(parts))


def check_checklist(path: Path | None) -> CheckResult:
    """The checklist a sync would push: a broken one fails here, not only in the next sync."""
    from sync.checklist_files import load_checklist

    name = "checklist"
    try:
        checklist = load_checklist(path)
    except DsprogressError as exc:
        return CheckResult(name, False, exc.message, exc.hint, details=tuple(exc.details))
    source = str(path) if path else "the bundled checklist"
    return CheckResult(
        name, True, f"{len(checklist.items)} items, version {checklist.version} ({source})"
    )


def check_schedule(settings: Settings, now: datetime) -> CheckResult:
    name = "time zone and schedule"
    detail = (
        f"{settings.timezone}; digest {settings.digest_schedule}; week starts {settings.week_start}"
    )
    try:
        from sync.schedule import next_digest_time

        upcoming = next_digest_time(settings.digest_schedule, settings.zone, now)
    except ImportError:
        return CheckResult(name, True, detail)
    except ValueError as exc:
        return CheckResult(
            name, False, str(exc), "Set DSPROGRESS_DIGEST_SCHEDULE, e.g. `mon 08:00`."
        )
    return CheckResult(name, True, f"{detail}; next digest {upcoming:%a %Y-%m-%d %H:%M %Z}")


# -- digest channels -------------------------------------------------------------------------------
def check_channels(
    settings: Settings, *, send_test: bool = False, now: datetime | None = None
) -> list[CheckResult]:
    """One result per configured channel; one skipped line when none is configured."""
    now = now or datetime.now(timezone.utc)
    results: list[CheckResult] = []
    if settings.smtp_host:
        results.append(_check_email(settings, send_test, now))
    for service, secret in (
        ("Slack", settings.slack_webhook_url),
        ("Discord", settings.discord_webhook_url),
    ):
        if secret is not None:
            results.append(_check_webhook(service, secret.get_secret_value(), send_test))
    if settings.digest_notion:
        results.append(
            CheckResult(
                "digest: Notion page",
                settings.notion_parent_page_id is not None,
                "published under the parent page (checked above)"
                if settings.notion_parent_page_id
                else "DSPROGRESS_DIGEST_NOTION is on but NOTION_PARENT_PAGE_ID is not set",
                None
                if settings.notion_parent_page_id
                else "Set NOTION_PARENT_PAGE_ID to the page that should hold the digests.",
                details=("--send-test creates no page there",) if send_test else (),
            )
        )
    if not results:
        results.append(
            skip_check(
                "digest channels",
                f"none configured: digests are only written to {settings.state_dir / 'digests'} "
                "(set SMTP_HOST or a webhook URL in .env to receive them)",
            )
        )
    return results


def _connect(host: str, port: int) -> str | None:
    """None when a TCP connection opens, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _check_email(settings: Settings, send_test: bool, now: datetime) -> CheckResult:
    from sync.digest.channels import (
        DEFAULT_SMTP_PORTS,
        build_email,
        parse_recipients,
        send_email,
    )

    name = "digest: email"
    host = str(settings.smtp_host)
    port = settings.smtp_port or DEFAULT_SMTP_PORTS.get(settings.smtp_security, 25)
    recipients = parse_recipients(settings.smtp_to)
    missing = [n for n, v in (("SMTP_FROM", settings.smtp_from), ("SMTP_TO", recipients)) if not v]
    if missing:
        return CheckResult(
            name,
            False,
            f"{' and '.join(missing)} not set",
            "Set SMTP_FROM (the sender) and SMTP_TO (comma-separated recipients) in .env.",
        )
    where = f"{host}:{port} ({settings.smtp_security})"
    reason = _connect(host, port)
    if reason is not None:
        return CheckResult(
            name,
            False,
            f"cannot connect to {where}: {reason}",
            "Check SMTP_HOST and SMTP_PORT (587 for starttls, 465 for ssl) and your network.",
        )
    if not send_test:
        return CheckResult(name, True, f"reachable: {where}; --send-test sends a test message")
    message = build_email(
        subject=TEST_SUBJECT,
        text=TEST_TEXT,
        html=f"<p>{TEST_TEXT.replace(chr(10) * 2, '</p><p>')}</p>",
        sender=str(settings.smtp_from),
        recipients=recipients,
        now=now,
    )
    try:
        send_email(
            message,
            host=host,
            port=port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    except DsprogressError as exc:
        return CheckResult(name, False, exc.message, exc.hint)
    count = len(recipients)
    return CheckResult(name, True, f"test message sent through {where} to {count} recipient(s)")


def _check_webhook(service: str, url: str, send_test: bool) -> CheckResult:
    from sync.digest.channels import (
        build_discord_payload,
        build_slack_payload,
        send_discord,
        send_slack,
    )

    name = f"digest: {service}"
    variable = f"DSPROGRESS_{service.upper()}_WEBHOOK_URL"
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
    if not host or not secure:
        return CheckResult(
            name,
            False,
            f"{variable} is not an https URL",
            f"Copy the webhook URL again from {service} (it starts with https://).",
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return CheckResult(name, False, f"{variable} has an invalid port", None)
    reason = _connect(host, port)
    if reason is not None:
        return CheckResult(
            name,
            False,
            f"cannot connect to {host}: {reason}",
            "Check your network connection, then run `dsprogress doctor` again.",
        )
    if not send_test:
        return CheckResult(name, True, f"reachable: {host}; --send-test sends a test message")
    try:
        if service == "Slack":
            send_slack(url, build_slack_payload(TEST_SUBJECT, TEST_TEXT, shortened_note=""))
        else:
            send_discord(url, build_discord_payload(TEST_SUBJECT, TEST_TEXT, shortened_note=""))
    except DsprogressError as exc:
        return CheckResult(name, False, exc.message, exc.hint)
    return CheckResult(name, True, f"test message sent to {host}")


def read_recorded_meta(state_dir: Path) -> dict[str, Any]:
    """What the state records of the database (read-only: no state file, or an unreadable one,
    is {}; doctor never creates one)."""
    if not (state_dir / STATE_FILE).is_file():
        return {}
    try:
        with open_store(state_dir) as store:
            return {
                "database_id": store.get_meta("database_id"),
                "data_source_id": store.get_meta("data_source_id"),
                "column_ids": store.get_json_meta("column_ids") or {},
            }
    except (DsprogressError, OSError):
        return {}
