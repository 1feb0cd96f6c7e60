"""Channels: a real SMTP server (aiosmtpd), webhooks through `responses`, real files."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
import responses

from sync.digest import channels
from sync.errors import DeliveryError

from .smtp import SmtpServer, free_port, make_certificate, run_tls_smtp_server

SLACK_URL = "https://hooks.slack.com/services/T000/B000/secretslacktoken"
DISCORD_URL = "https://discord.com/api/webhooks/123/secretdiscordtoken"
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


def build_test_email() -> EmailMessage:
    return channels.build_email(
        subject="Data Science progress checklist: 2026-W48 (23–29 Nov), 3 items done",
        text="3 items done this week.\n<script>alert(1)</script>\n",
        html="<p>3 items done: &lt;script&gt;alert(1)&lt;/script&gt;</p>",
        sender="dsprogress@example.org",
        recipients=["me@example.org", "coach@example.org"],
        now=NOW,
    )


# ------------------------------------------------------------------------------------- email


def test_email_is_delivered_as_multipart_alternative(smtp_server: SmtpServer) -> None:
    channels.send_email(
        build_test_email(),
        host=smtp_server.host,
        port=smtp_server.port,
        security="none",
        username="me",
        password="s3cret-pw",
    )
    [message] = smtp_server.inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    assert "2026-W48" in message["Subject"]
    assert smtp_server.inbox.recipients == [["me@example.org", "coach@example.org"]]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "3 items done this week." in plain.get_content()
    assert "&lt;script&gt;" in html.get_content() and "<script>" not in html.get_content()


def test_a_refused_login_names_neither_user_nor_password(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as caught:
        channels.send_email(
            build_test_email(),
            host=smtp_server.host,
            port=smtp_server.port,
            security="none",
            username="me",
            password="wrong-password-123",
        )
    assert "refused the login" in caught.value.message
    assert "wrong-password-123" not in caught.value.message + caught.value.hint
    assert smtp_server.inbox.messages == []


def test_starttls_is_required_when_asked_for(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        channels.send_email(
            build_test_email(), host=smtp_server.host, port=smtp_server.port, security="starttls"
        )
    assert smtp_server.inbox.messages == []  # never falls back to plain text


def test_implicit_tls_against_a_plain_server_fails_cleanly(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match=r"Email: cannot deliver through 127\.0\.0\.1"):
        channels.send_email(
            build_test_email(), host=smtp_server.host, port=smtp_server.port, security="ssl"
        )


def test_an_unreachable_server_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match="Email: cannot deliver"):
        channels.send_email(build_test_email(), host="127.0.0.1", port=free_port(), security="none")


# ------------------------------------------------------------------------- Slack and Discord

PINGS = "Title <!channel> <!here> <@U123> @everyone @here @channel & more"


@responses.activate
def test_slack_payload_neutralises_mentions() -> None:
    responses.post(SLACK_URL, body="ok")
    payload = channels.build_slack_payload("Digest 2026-W48", PINGS, shortened_note="…")
    channels.send_slack(SLACK_URL, payload)
    sent = json.loads(responses.calls[0].request.body or b"{}")
    text = json.dumps(sent, ensure_ascii=False)
    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;" in text and "&amp; more" in text
    for word in ("everyone", "here", "channel"):
        assert f"@{word}" not in text
        assert f"@\u200b{word}" in text
    assert sent["blocks"][0]["type"] == "header"


@responses.activate
def test_discord_payload_allows_no_mentions() -> None:
    responses.post(DISCORD_URL, status=204)
    payload = channels.build_discord_payload(
        "Digest @everyone 2026-W48", f"## Done\n\n- {PINGS}", shortened_note="…"
    )
    channels.send_discord(DISCORD_URL, payload)
    sent = json.loads(responses.calls[0].request.body or b"{}")
    assert sent["allowed_mentions"] == {"parse": []}
    text = json.dumps(sent, ensure_ascii=False)
    assert "@everyone" not in text and "@here" not in text
    assert "@\u200beveryone" in text
    assert sent["embeds"][0]["description"].startswith("**Done**")  # headings become bold
    assert len(sent["content"]) <= channels.DISCORD_CONTENT_LIMIT


def test_long_digests_are_cut_to_the_services_limits() -> None:
    long_text = "\n\n".join(f"Paragraph {i}: " + "x" * 900 for i in range(200))
    note = "… (shortened here: the full digest is in digests/2026-W48.md)"
    slack = channels.build_slack_payload("Digest", long_text, shortened_note=note)
    sections = [block["text"]["text"] for block in slack["blocks"][1:]]
    assert len(slack["blocks"]) <= channels.SLACK_MAX_BLOCKS
    assert all(len(text) <= channels.SLACK_SECTION_LIMIT for text in sections)
    assert sum(map(len, sections)) < 40_000 and sections[-1] == note
    discord = channels.build_discord_payload("Digest", long_text, shortened_note=note)
    descriptions = [embed["description"] for embed in discord["embeds"]]
    assert len(descriptions) <= channels.DISCORD_MAX_EMBEDS
    assert all(len(d) <= channels.DISCORD_DESCRIPTION_LIMIT for d in descriptions)
    assert sum(map(len, descriptions)) + len(discord["embeds"][0]["title"]) <= 6000
    assert descriptions[-1] == note


def test_one_huge_line_is_split_too() -> None:
    pieces = channels.split_text("y" * 7000, 3000)
    assert [len(p) for p in pieces] == [3000, 3000, 1000]


@responses.activate
@pytest.mark.parametrize(("status", "body"), [(404, "no_service"), (500, "")])
def test_webhook_errors_never_show_the_url(status: int, body: str) -> None:
    responses.post(SLACK_URL, status=status, body=body)
    with pytest.raises(DeliveryError) as caught:
        channels.send_slack(SLACK_URL, {"text": "hi"})
    message = caught.value.message
    assert message.startswith(f"Slack webhook answered {status}")
    assert "secretslacktoken" not in message + caught.value.hint
    assert body in message


@responses.activate
def test_an_unreachable_webhook_does_not_quote_the_url() -> None:
    responses.post(DISCORD_URL, body=requests.ConnectionError(f"cannot reach {DISCORD_URL}"))
    with pytest.raises(DeliveryError) as caught:
        channels.send_discord(DISCORD_URL, {"content": "hi"})
    assert caught.value.message == "Discord webhook unreachable (ConnectionError)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# ------------------------------------------------------------------------------------- files


def test_digest_files_are_written_atomically(tmp_path: Path) -> None:
    paths = channels.write_digest_files(tmp_path, "2026-W48", "# md\n", "<p>html</p>\n")
    assert [p.name for p in paths] == ["2026-W48.md", "2026-W48.html"]
    assert paths[0].read_text() == "# md\n" and paths[1].read_text() == "<p>html</p>\n"
    assert sorted(p.name for p in (tmp_path / "digests").iterdir()) == [
        "2026-W48.html",
        "2026-W48.md",
    ]


def test_an_unwritable_state_dir_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DeliveryError, match="cannot write the digest file"):
        channels.write_digest_files(blocker, "2026-W48", "md", "html")


def test_notion_markdown_nests_with_tabs() -> None:
    markdown = "- **Entry**: 1/2\n  - Data handling: 1/1\n1. Item\n   Project idea: x\nplain\n"
    assert channels.build_notion_markdown(markdown) == (
        "- **Entry**: 1/2\n\t- Data handling: 1/1\n1. Item\n\tProject idea: x\nplain\n"
    )


# --------------------------------------------------------------------------------------- TLS


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    made = make_certificate(tmp_path)
    if made is None:
        pytest.skip("the openssl tool is needed to make a test certificate")
    return made


def test_starttls_verifies_the_certificate(certificate: tuple[Path, Path]) -> None:
    with run_tls_smtp_server(*certificate, implicit=False) as server:
        with pytest.raises(
            DeliveryError, match=r"certificate of 127\.0\.0\.1:\d+ could not be verified"
        ):
            channels.send_email(
                build_test_email(), host=server.host, port=server.port, security="starttls"
            )
        assert server.inbox.messages == []


@pytest.mark.parametrize(("security", "implicit"), [("starttls", False), ("ssl", True)])
def test_tls_delivers_to_a_trusted_server(
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    security: str,
    implicit: bool,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    with run_tls_smtp_server(*certificate, implicit=implicit) as server:
        channels.send_email(
            build_test_email(), host=server.host, port=server.port, security=security
        )
        [message] = server.inbox.messages
    assert "2026-W48" in message["Subject"]
