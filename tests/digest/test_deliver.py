"""Delivery: once per (week, channel), retries of what failed, channels independent, no secrets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import responses

from sync.config import Settings
from sync.digest.deliver import (
    configured_channels,
    run_weekly_digest,
    select_channels,
)
from sync.errors import ConfigError

from .scenarios import Learner, make_settings, normal_week
from .smtp import PASSWORD, USERNAME, SmtpServer

SLACK_URL = "https://hooks.slack.com/services/T000/B000/secretslacktoken"
DISCORD_URL = "https://discord.com/api/webhooks/123/secretdiscordtoken"


def all_channels(state_dir: Path, smtp: SmtpServer, **extra: object) -> Settings:
    return make_settings(
        state_dir,
        SMTP_HOST=smtp.host,
        SMTP_PORT=smtp.port,
        SMTP_SECURITY="none",
        SMTP_USERNAME=USERNAME,
        SMTP_PASSWORD=PASSWORD,
        SMTP_FROM="dsprogress@example.org",
        SMTP_TO="me@example.org",
        DSPROGRESS_SLACK_WEBHOOK_URL=SLACK_URL,
        DSPROGRESS_DISCORD_WEBHOOK_URL=DISCORD_URL,
        **extra,
    )


@pytest.fixture
def learner(tmp_path: Path) -> Learner:
    me, _, _ = normal_week(tmp_path)
    return me


@responses.activate
def test_each_channel_gets_the_week_once(learner: Learner, smtp_server: SmtpServer) -> None:
    responses.post(SLACK_URL, body="ok")
    responses.post(DISCORD_URL, status=204)
    settings = all_channels(learner.store.path.parent, smtp_server)
    now = learner.at("2026-11-30 08:00")

    first = run_weekly_digest(settings, learner.store, learner.checklist, now)
    assert first.week == "2026-W48" and first.ok
    assert [(r.channel, r.outcome) for r in first.results] == [
        ("file", "sent"),
        ("email", "sent"),
        ("slack", "sent"),
        ("discord", "sent"),
    ]
    digests = learner.store.path.parent / "digests"
    assert (digests / "2026-W48.md").read_text().startswith("# Data Science progress checklist")
    assert (digests / "2026-W48.html").exists()
    [message] = smtp_server.inbox.messages
    assert "2026-W48" in message["Subject"]

    later = learner.at("2026-12-01 08:00")  # the scheduler fires again: nothing is sent twice
    second = run_weekly_digest(settings, learner.store, learner.checklist, later)
    assert {r.outcome for r in second.results} == {"already_sent"}
    assert len(smtp_server.inbox.messages) == 1 and len(responses.calls) == 2

    forced = run_weekly_digest(settings, learner.store, learner.checklist, later, force=True)
    assert {r.outcome for r in forced.results} == {"sent"}
    assert len(smtp_server.inbox.messages) == 2 and len(responses.calls) == 4
    delivery = learner.store.get_delivery("2026-W48", "email")
    assert delivery is not None and delivery.status == "sent" and delivery.attempts == 2


@responses.activate
def test_a_failing_channel_blocks_nothing_and_is_retried(
    learner: Learner, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    responses.post(SLACK_URL, status=500, body="internal error")
    responses.post(DISCORD_URL, status=204)
    settings = all_channels(learner.store.path.parent, smtp_server)
    now = learner.at("2026-11-30 08:00")
    with caplog.at_level(logging.DEBUG, logger="dsprogress"):
        report = run_weekly_digest(settings, learner.store, learner.checklist, now)
    outcomes = {r.channel: r.outcome for r in report.results}
    assert outcomes == {"file": "sent", "email": "sent", "slack": "failed", "discord": "sent"}
    assert not report.ok
    [failed] = report.failed
    assert failed.describe() == "slack: failed: Slack webhook answered 500: internal error"
    recorded = learner.store.get_delivery("2026-W48", "slack")
    assert recorded is not None and recorded.status == "failed"
    assert recorded.last_error == "Slack webhook answered 500: internal error"
    for secret in ("secretslacktoken", "secretdiscordtoken", PASSWORD):
        assert secret not in caplog.text
        assert secret not in json.dumps([r.detail for r in report.results])

    responses.replace(responses.POST, SLACK_URL, body="ok")
    retry = run_weekly_digest(settings, learner.store, learner.checklist, now)
    outcomes = {r.channel: r.outcome for r in retry.results}
    assert outcomes == {
        "file": "already_sent",
        "email": "already_sent",
        "slack": "sent",
        "discord": "already_sent",
    }
    assert len(smtp_server.inbox.messages) == 1


def test_a_crashing_channel_is_reported_not_raised(
    learner: Learner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.digest import channels

    def boom(*args: object, **kwargs: object) -> list[Path]:
        raise RuntimeError("bug")

    monkeypatch.setattr(channels, "write_digest_files", boom)
    settings = make_settings(learner.store.path.parent)
    report = run_weekly_digest(
        settings, learner.store, learner.checklist, learner.at("2026-11-30 08:00")
    )
    assert report.results[0].describe() == (
        "file: failed: unexpected RuntimeError (rerun with --verbose)"
    )


def test_nothing_is_sent_before_the_first_pull(tmp_path: Path) -> None:
    learner = Learner(tmp_path, "Europe/Berlin")
    settings = make_settings(tmp_path)
    report = run_weekly_digest(
        settings, learner.store, learner.checklist, learner.at("2026-11-30 08:00")
    )
    assert [(r.channel, r.outcome) for r in report.results] == [("digest", "skipped")]
    assert "nothing has been pulled" in report.results[0].detail
    assert not (tmp_path / "digests").exists()


def test_a_week_before_tracking_began_is_skipped(tmp_path: Path) -> None:
    learner = Learner(tmp_path, "Europe/Berlin")
    learner.pull("2026-12-02 10:00")  # installed on Wednesday; Thursday's run is about last week
    report = run_weekly_digest(
        make_settings(tmp_path), learner.store, learner.checklist, learner.at("2026-12-03 08:00")
    )
    assert report.results[0].outcome == "skipped"
    assert "no progress history for 2026-W48" in report.results[0].detail


def test_configured_and_selected_channels(tmp_path: Path) -> None:
    bare = make_settings(tmp_path)
    assert configured_channels(bare) == ["file"]
    with pytest.raises(ConfigError, match="the slack channel is not configured") as caught:
        select_channels(bare, "slack")
    assert "DSPROGRESS_SLACK_WEBHOOK_URL" in caught.value.hint
    with pytest.raises(ConfigError, match="unknown digest channel"):
        select_channels(bare, "pigeon")
    full = make_settings(
        tmp_path,
        SMTP_HOST="mail.example.org",
        DSPROGRESS_DISCORD_WEBHOOK_URL=DISCORD_URL,
        DSPROGRESS_DIGEST_NOTION="true",
    )
    assert configured_channels(full) == ["file", "email", "discord", "notion"]
    assert select_channels(full, "discord") == ["discord"]


def test_email_settings_missing_a_recipient_fail_only_email(learner: Learner) -> None:
    settings = make_settings(learner.store.path.parent, SMTP_HOST="127.0.0.1")
    report = run_weekly_digest(
        settings, learner.store, learner.checklist, learner.at("2026-11-30 08:00")
    )
    assert [(r.channel, r.outcome) for r in report.results] == [
        ("file", "sent"),
        ("email", "failed"),
    ]
    assert "SMTP_FROM and SMTP_TO" in report.results[1].detail


def test_a_backdated_tick_never_resends_a_past_week_and_later_digests_tell_the_truth(
    tmp_path: Path,
) -> None:
    me = Learner(tmp_path, "Europe/Berlin")
    me.pull("2026-11-09 18:00")
    me.pull("2026-11-18 18:00", {"entry.data.images": "done"})
    settings = make_settings(tmp_path)
    sent = run_weekly_digest(settings, me.store, me.checklist, me.at("2026-11-23 08:00"))
    assert (sent.week, [r.outcome for r in sent.results]) == ("2026-W47", ["sent"])
    w47 = tmp_path / "digests" / "2026-W47.md"
    before = w47.read_bytes()
    assert b"**1 item done this week.**" in before

    # On Tuesday the learner ticks an item they finished last Thursday, with that Done on.
    me.pull(
        "2026-11-24 09:00", {"entry.data.text": "done"}, done_on={"entry.data.text": "2026-11-19"}
    )
    again = run_weekly_digest(settings, me.store, me.checklist, me.at("2026-11-24 10:00"))
    assert [r.outcome for r in again.results] == ["already_sent"]
    assert w47.read_bytes() == before
    delivery = me.store.get_delivery("2026-W47", "file")
    assert delivery is not None and delivery.attempts == 1

    next_week = run_weekly_digest(settings, me.store, me.checklist, me.at("2026-11-30 08:00"))
    assert (next_week.week, [r.outcome for r in next_week.results]) == ("2026-W48", ["sent"])
    w48 = (tmp_path / "digests" / "2026-W48.md").read_text()
    assert "No new items ticked off this week." in w48 and "▼ 2 fewer than last week (2)" in w48
