"""`dsprogress digest`: preview, JSON, --send with one line per channel, exit codes, no secrets."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from sync.cli import cli, digest_cmd, main
from sync.weeks import week_containing

from .scenarios import CHECKLIST_YAML, Learner, first_week, normal_week

GOLDEN = Path(__file__).parent / "golden"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/secretslacktoken"


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Learner:
    """The normal week's state, the settings in the environment, the clock frozen."""
    me, _, now = normal_week(tmp_path / "state")
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(CHECKLIST_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DSPROGRESS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DSPROGRESS_CHECKLIST", str(checklist))
    monkeypatch.setenv("DSPROGRESS_TIMEZONE", "Europe/Berlin")
    frozen = me.at(now)
    monkeypatch.setattr(digest_cmd, "utc_now", lambda: frozen)
    return me


def test_preview_defaults_to_the_last_complete_week(learner: Learner) -> None:
    result = CliRunner().invoke(cli, ["digest"])
    assert result.exit_code == 0, result.output
    assert result.output == (GOLDEN / "normal.md").read_text(encoding="utf-8")
    assert not (learner.store.path.parent / "digests").exists()  # a preview writes nothing


@pytest.mark.parametrize(
    ("args", "golden"),
    [(["--format", "text"], "normal.txt"), (["--format", "html"], "normal.html")],
)
def test_preview_formats(learner: Learner, args: list[str], golden: str) -> None:
    result = CliRunner().invoke(cli, ["digest", "--week", "2026-W48", *args])
    assert result.output == (GOLDEN / golden).read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [["--json"], ["--format", "json"]])
def test_json_gives_the_numbers(learner: Learner, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["digest", "--week", "2026-w48", *args])
    numbers = json.loads(result.output)
    assert numbers["week"] == "2026-W48" and numbers["done_this_week"] == 3


def test_send_prints_one_line_per_channel_and_sends_once(learner: Learner) -> None:
    first = CliRunner().invoke(cli, ["digest", "--send"])
    path = learner.store.path.parent / "digests" / "2026-W48.md"
    heading = "2026-W48, complete week:"
    assert first.exit_code == 0
    assert first.output.splitlines() == [
        heading,
        f"file: saved to {path} (and 2026-W48.html beside it)",
        "Not set up: email, Slack and Discord, so this digest is only in the file above. To"
        " receive it there, set in .env email: SMTP_HOST, SMTP_FROM and SMTP_TO; Slack:"
        " DSPROGRESS_SLACK_WEBHOOK_URL; Discord: DSPROGRESS_DISCORD_WEBHOOK_URL"
        " (`dsprogress init --print-env-example` explains them).",
    ]
    second = CliRunner().invoke(cli, ["digest", "--send"])
    assert second.output.splitlines()[:2] == [heading, "file: already sent"]
    only_file = CliRunner().invoke(cli, ["digest", "--send", "--channel", "file", "--force"])
    assert only_file.output.splitlines() == [
        heading,
        f"file: saved to {path} (and 2026-W48.html beside it)",
    ]
    forced = CliRunner().invoke(cli, ["digest", "--send", "--force", "--json"])
    assert json.loads(forced.output) == {
        "week": "2026-W48",
        "partial": False,
        "ok": True,
        "results": [{"channel": "file", "outcome": "sent", "detail": str(path)}],
    }


@responses.activate
def test_a_failed_channel_exits_11_after_trying_the_others(
    learner: Learner, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DSPROGRESS_SLACK_WEBHOOK_URL", SLACK_URL)
    responses.post(SLACK_URL, status=404, body="no_service")
    with pytest.raises(SystemExit) as exited:
        main(["digest", "--send"])
    out, err = capsys.readouterr()
    assert exited.value.code == 11
    assert out.splitlines()[1].startswith("file: saved to ")
    assert out.splitlines()[2] == "slack: failed: Slack webhook answered 404: no_service"
    assert out.splitlines()[3].startswith("Not set up: email and Discord. To receive it there")
    assert err.startswith("Error: the digest for 2026-W48 could not be delivered on: slack")
    assert "secretslacktoken" not in out + err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--force"], 2, "--channel and --force only apply with --send"),
        (["--week", "2026-48"], 2, "is not a week"),
        (["--send", "--channel", "email"], 3, "the email channel is not configured"),
        (["--week", "2026-W40"], 10, "no progress history for 2026-W40"),
    ],
)
def test_errors_and_exit_codes(
    learner: Learner,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["digest", *args])
    assert exited.value.code == code
    assert message in capsys.readouterr().err


def test_send_in_the_first_week_sends_the_starting_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after setup there is no complete tracked week: --send sends this week so far."""
    me, _, _ = first_week(tmp_path / "state")
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(CHECKLIST_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSPROGRESS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DSPROGRESS_CHECKLIST", str(checklist))
    monkeypatch.setenv("DSPROGRESS_TIMEZONE", "Europe/Berlin")
    tracking_began = min(e.observed_at for e in me.store.load_history())
    monkeypatch.setattr(digest_cmd, "utc_now", lambda: tracking_began + timedelta(hours=2))
    this_week = str(week_containing(tracking_began, me.zone))
    result = CliRunner().invoke(cli, ["digest", "--send"])
    assert result.exit_code == 0, result.output
    sent = me.store.path.parent / "digests" / f"{this_week}.md"
    assert result.output.startswith(
        f"{this_week} so far, a partial week (the complete week is sent after it ends):\n"
        f"file: saved to {sent} (and "
    )
    assert "Your first week:" in sent.read_text(encoding="utf-8")
