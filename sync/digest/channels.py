"""The digest's delivery channels: files, email (SMTP), Slack, Discord and a Notion page.

`build_*` functions make the payloads (pure); `send_*` and `write_*` do the I/O and raise
`DeliveryError` with a message that names the channel and the reason, never a secret: webhook URLs
and the SMTP password stay out of every message (an exception from `requests` may quote the URL, so
only its type is kept).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

import requests

from sync.errors import DeliveryError, NotionNotFoundError
from sync.logs import redact
from sync.notion.mark import build_description
from sync.notion.versions import is_in_trash
from sync.private_files import make_private_dir, remove_stale_files, write_private_file

TIMEOUT = 10
SMTP_TIMEOUT = 30
SLACK_SECTION_LIMIT = 3000
SLACK_MESSAGE_LIMIT = 38000  # Slack truncates a message at 40,000 characters
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_LIMIT = 150
DISCORD_CONTENT_LIMIT = 2000
DISCORD_DESCRIPTION_LIMIT = 4096
DISCORD_EMBEDS_LIMIT = 6000  # title + description of every embed together
DISCORD_MAX_EMBEDS = 10
DEFAULT_SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_MENTIONS = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6} +(.+)$", re.MULTILINE)
_ZERO_WIDTH_SPACE = "\u200b"
_LEADING_SPACES = re.compile(r"^ +", re.MULTILINE)


# ------------------------------------------------------------------------------------- files


def digest_file_paths(state_dir: Path, week: str) -> dict[str, Path]:
    folder = state_dir / "digests"
    return {"md": folder / f"{week}.md", "html": folder / f"{week}.html"}


def write_digest_files(state_dir: Path, week: str, markdown: str, html: str) -> list[Path]:
    """Write `digests/<week>.md` and `.html` atomically (a reader never sees half a file)."""
    paths = digest_file_paths(state_dir, week)
    written = []
    try:
        folder = make_private_dir(paths["md"].parent)
        make_private_dir(state_dir)
        # A killed run's temporary file; an hour old, it belongs to no running writer.
        remove_stale_files(folder, ".*.tmp", older_than=3600)
        for fmt, content in (("md", markdown), ("html", html)):
            target = paths[fmt]
            write_private_file(target, content, prefix=f".{target.name}.")
            written.append(target)
    except OSError as exc:
        raise DeliveryError(
            f"cannot write the digest file in {paths['md'].parent}: {exc.strerror or exc}",
            hint="Set DSPROGRESS_STATE_DIR to a folder you can write to.",
        ) from None
    return written


# ------------------------------------------------------------------------------------- email


def build_email(
    *,
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipients: Sequence[str],
    now: datetime,
) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML as the preferred part."""
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("digest", domain="dsprogress.invalid")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def parse_recipients(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def send_email(
    message: EmailMessage,
    *,
    host: str,
    port: int | None,
    security: str,
    username: str | None = None,
    password: str | None = None,
) -> None:
    """Deliver by SMTP: STARTTLS with a verified certificate, implicit TLS, or plain (a relay)."""
    port = port or DEFAULT_SMTP_PORTS.get(security, 25)
    where = f"{host}:{port}"
    try:
        client: smtplib.SMTP
        if security == "ssl":
            client = smtplib.SMTP_SSL(
                host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if username:
                client.login(username, password or "")
            client.send_message(message)
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(
            f"Email: {where} does not offer STARTTLS",
            hint="Use SMTP_SECURITY=ssl (port 465) or, for a local relay only, SMTP_SECURITY=none.",
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"Email: {where} refused the login (SMTP {exc.smtp_code})",
            hint="Check SMTP_USERNAME and SMTP_PASSWORD (many providers want an app password).",
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"Email: {where} refused the recipients {', '.join(sorted(exc.recipients))}",
            hint="Check SMTP_TO (comma-separated addresses).",
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"Email: the certificate of {where} could not be verified ({exc.verify_message})",
            hint="Check SMTP_HOST: use the name on the server's certificate.",
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = redact(str(exc)) or type(exc).__name__
        raise DeliveryError(f"Email: cannot deliver through {where}: {reason}") from None


# ------------------------------------------------------------------------- Slack and Discord


def neutralize_mentions(text: str) -> str:
    """`@everyone`, `@here`, `@channel` with a zero-width space after the @: they ping nobody."""
    return _MENTIONS.sub(lambda m: "@" + _ZERO_WIDTH_SPACE + m.group(1), text)


def escape_slack(text: str) -> str:
    """Slack's three control characters; `<!channel>` becomes inert text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut between paragraphs, else lines, else anywhere."""
    pieces: list[str] = []
    current = ""
    for paragraph in text.strip("\n").split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        for line in paragraph.split("\n"):
            candidate = f"{current}\n{line}" if current else line
            if len(candidate) <= limit:
                current = candidate
                continue
            if current:
                pieces.append(current)
            while len(line) > limit:
                pieces.append(line[:limit])
                line = line[limit:]
            current = line
    if current:
        pieces.append(current)
    return pieces


def _fit(pieces: list[str], budget: int, count: int, note: str) -> list[str]:
    """Keep whole pieces within `budget` characters and `count` pieces; say so when cut."""
    kept: list[str] = []
    used = 0
    for piece in pieces:
        if len(kept) == count or used + len(piece) > budget:
            break
        kept.append(piece)
        used += len(piece)
    if len(kept) < len(pieces):
        while kept and (len(kept) >= count or used + len(note) > budget):
            used -= len(kept.pop())
        kept.append(note)
    return kept


def build_slack_payload(subject: str, text: str, *, shortened_note: str) -> dict[str, Any]:
    """Block Kit message from the plain-text digest, escaped and within Slack's limits."""
    safe = escape_slack(neutralize_mentions(text))
    header = neutralize_mentions(subject)
    if len(header) > SLACK_HEADER_LIMIT:
        header = header[: SLACK_HEADER_LIMIT - 1] + "…"
    sections = _fit(
        split_text(safe, SLACK_SECTION_LIMIT),
        SLACK_MESSAGE_LIMIT - len(header),
        SLACK_MAX_BLOCKS - 1,
        escape_slack(shortened_note),
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}}
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections]
    return {"text": escape_slack(header), "blocks": blocks}


def build_discord_payload(subject: str, markdown: str, *, shortened_note: str) -> dict[str, Any]:
    """Embeds from the Markdown digest: headings as bold lines, no mention can ping."""
    title = neutralize_mentions(subject)[:256]
    body = _HEADING.sub(r"**\1**", neutralize_mentions(markdown))
    descriptions = _fit(
        split_text(body, DISCORD_DESCRIPTION_LIMIT),
        DISCORD_EMBEDS_LIMIT - len(title),
        DISCORD_MAX_EMBEDS,
        neutralize_mentions(shortened_note),
    )
    embeds: list[dict[str, Any]] = [
        {"description": description, "color": 0x2F9E44} for description in descriptions
    ]
    if embeds:
        embeds[0]["title"] = title
    return {
        "content": title[:DISCORD_CONTENT_LIMIT],
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    }


def _post_webhook(service: str, url: str, payload: dict[str, Any]) -> requests.Response:
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT)
    except requests.Timeout:
        raise DeliveryError(f"{service} webhook did not answer within {TIMEOUT} s") from None
    except requests.RequestException as exc:  # its message would quote the secret URL
        raise DeliveryError(f"{service} webhook unreachable ({type(exc).__name__})") from None
    if response.status_code >= 400:
        body = " ".join(redact(response.text).split())[:120]
        detail = f": {body}" if body and url not in body else ""
        raise DeliveryError(
            f"{service} webhook answered {response.status_code}{detail}",
            hint=f"Check the {service} webhook URL in .env (it may have been deleted or revoked).",
        )
    return response


def send_slack(url: str, payload: dict[str, Any]) -> None:
    _post_webhook("Slack", url, payload)


def send_discord(url: str, payload: dict[str, Any]) -> None:
    _post_webhook("Discord", url, payload)


# ------------------------------------------------------------------------------------ Notion


class DigestPageWriter(Protocol):
    """What the Notion channel needs of `sync.notion.adapter.NotionAdapter`."""

    def search_pages(self, query: str = "", limit: int = 50) -> list[dict[str, Any]]: ...

    def fetch_page(self, page_id: str) -> dict[str, Any]: ...

    def create_child_page(
        self, parent_page_id: str, title: str, icon: str | None = None
    ) -> dict[str, Any]: ...

    def replace_page_markdown(self, page_id: str, markdown: str) -> dict[str, Any]: ...

    def fetch_database(self, database_id: str) -> dict[str, Any]: ...

    def update_database(
        self, database_id: str, *, description: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]: ...


def digest_page_title(week: str) -> str:
    return f"Weekly digest {week}"


def _page_title(page: dict[str, Any]) -> str:
    for value in page.get("properties", {}).values():
        if isinstance(value, dict) and value.get("type") == "title":
            return "".join(part.get("plain_text", "") for part in value.get("title", []))
    return ""


def _same_id(left: str | None, right: str) -> bool:
    return (left or "").replace("-", "") == right.replace("-", "")


def find_digest_page(
    notion: DigestPageWriter, parent_page_id: str, week: str
) -> dict[str, Any] | None:
    """The week's digest page under the parent, if an earlier attempt already created it."""
    title = digest_page_title(week)
    for page in notion.search_pages(title):
        parent = page.get("parent", {})
        if (
            _same_id(parent.get("page_id"), parent_page_id)
            and not is_in_trash(page)
            and _page_title(page) == title
        ):
            return page
    return None


def build_notion_markdown(markdown: str) -> str:
    """Notion-flavoured Markdown nests blocks with tabs: two leading spaces become one tab."""
    return _LEADING_SPACES.sub(lambda m: "\t" * max(1, len(m.group(0)) // 2), markdown)


def send_notion_page(
    notion: DigestPageWriter,
    parent_page_id: str,
    week: str,
    markdown: str,
    *,
    known_page_id: str | None = None,
    remember: Callable[[str], None] | None = None,
) -> str:
    """Create "Weekly digest <week>" under the parent, or refill it on a resend; return its URL.

    The page is found again by the id remembered from an earlier attempt, else by a search (a
    create that failed ambiguously may have happened); only then is a new page created, and its
    id is remembered before the content is written, so a retry never makes a second page.
    """
    page: dict[str, Any] | None = None
    if known_page_id:
        try:
            page = notion.fetch_page(known_page_id)
        except NotionNotFoundError:
            page = None
        if page is not None and is_in_trash(page):
            page = None
    if page is None:
        page = find_digest_page(notion, parent_page_id, week)
    if page is None:
        page = notion.create_child_page(parent_page_id, digest_page_title(week), icon="📈")
    if remember is not None:
        remember(str(page["id"]))
    notion.replace_page_markdown(str(page["id"]), build_notion_markdown(markdown))
    return str(page.get("url", ""))


def send_notion_summary(notion: DigestPageWriter, database_id: str, summary: str) -> None:
    """The one-line progress summary shown as the checklist database's description (the
    database's mark, after it, is kept)."""
    current = notion.fetch_database(database_id).get("description")
    notion.update_database(database_id, description=build_description(current, summary=summary))
