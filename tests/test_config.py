"""Settings: the public variable names, parsing of ids/intervals/schedules, errors that name the
variable and never echo a secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.config import (
    ENV_NAMES,
    Settings,
    load_settings,
    parse_notion_id,
    require_notion,
)
from sync.config_notes import cleaned_secret_notes, notes_to_say
from sync.config_values import parse_interval, parse_schedule
from sync.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
ID = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)


def test_env_example_documents_exactly_the_settings() -> None:
    text = (ROOT / ".env.example").read_text()
    names = re.findall(r"^([A-Z_]+)=", text, flags=re.M)
    assert sorted(names) == sorted(ENV_NAMES)
    lines = text.splitlines()
    for name in names:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        assert lines[index - 1].startswith("#") or name.startswith("SMTP_"), (
            f"{name} lacks a comment"
        )


def test_env_example_loads_as_valid_settings(tmp_path: Path) -> None:
    settings = load_settings(ROOT / ".env.example")
    assert settings.notion_base_url == "https://api.notion.com"
    assert settings.rate_limit == 3 and settings.sync_interval == 900
    assert settings.full_read_interval == 86400


@pytest.mark.parametrize(("value", "seconds"), [("12h", 43200), ("2d", 172800), ("", 86400)])
def test_full_read_interval_takes_an_interval_and_defaults_to_a_day(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: int
) -> None:
    monkeypatch.setenv("DSPROGRESS_FULL_READ_INTERVAL", value)
    assert load_settings(None).full_read_interval == seconds


def test_a_bad_full_read_interval_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPROGRESS_FULL_READ_INTERVAL", "daily")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert "DSPROGRESS_FULL_READ_INTERVAL" in "\n".join(caught.value.details)


@pytest.mark.parametrize(
    ("value", "version"),
    [
        (None, "2026-03-11"),
        ("", "2026-03-11"),
        ("2025-09-03", "2025-09-03"),
        (" 2026-12-01 ", "2026-12-01"),
    ],
)
def test_the_notion_version_defaults_to_2026_03_11(
    monkeypatch: pytest.MonkeyPatch, value: str | None, version: str
) -> None:
    if value is not None:
        monkeypatch.setenv("DSPROGRESS_NOTION_VERSION", value)
    assert load_settings(None).notion_version == version


@pytest.mark.parametrize("value", ["2022-06-28", "latest", "2026-12-1"])
def test_an_unsupported_notion_version_is_refused_listing_the_supported_ones(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DSPROGRESS_NOTION_VERSION", value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.exit_code == 3
    [problem] = caught.value.details
    assert problem.startswith("DSPROGRESS_NOTION_VERSION: ")
    assert value in problem
    assert "2025-09-03, 2026-03-11, 2026-12-01" in problem and "default 2026-03-11" in problem


@pytest.mark.parametrize(
    "value",
    [
        ID,
        ID.replace("-", ""),
        f"https://www.notion.so/myspace/Data-Science-{ID.replace('-', '')}",
        f"https://www.notion.so/{ID.replace('-', '')}?v=ffffffffffffffffffffffffffffffff",
        f"https://app.notion.com/p/Learning-{ID.replace('-', '')}#section",
    ],
)
def test_notion_ids_are_accepted_as_urls_or_bare_ids(value: str) -> None:
    assert parse_notion_id(value) == ID


def test_a_view_id_alone_is_not_mistaken_for_the_database() -> None:
    url = f"https://www.notion.so/ws/{ID.replace('-', '')}?v=0000000000000000000000000000abcd"
    assert parse_notion_id(url) == ID


@pytest.mark.parametrize("value", ["", "not-an-id", "https://www.notion.so/ws/Page"])
def test_bad_ids_are_rejected_with_an_explanation(value: str) -> None:
    with pytest.raises(ValueError):
        parse_notion_id(value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h30m", 5400), ("2d", 172800)]
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "fast", "15x", "m15", "366d", "99999999999999999999d"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_a_bare_number_interval_is_refused_asking_for_a_unit() -> None:
    with pytest.raises(ValueError, match=r"no unit; write e.g. 5s, 5m or 5h"):
        parse_interval("5")


def test_schedules_use_day_names() -> None:
    schedule = parse_schedule("Monday 8:05")
    assert (schedule.days, schedule.hour, schedule.minute) == (("mon",), 8, 5)
    assert parse_schedule("sun,fri 18:00").cron_day_of_week == "fri,sun"
    assert len(parse_schedule("daily 07:00").days) == 7
    for bad in ("mon", "funday 08:00", "mon 25:00", "mon 8"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_all_problems_are_reported_together_each_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DSPROGRESS_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("DSPROGRESS_SYNC_INTERVAL", "often")
    monkeypatch.setenv("NOTION_PARENT_PAGE_ID", "nope")
    monkeypatch.setenv("SMTP_SECURITY", "tls-please")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    details = "\n".join(caught.value.details)
    for name in (
        "DSPROGRESS_TIMEZONE",
        "DSPROGRESS_SYNC_INTERVAL",
        "NOTION_PARENT_PAGE_ID",
        "SMTP_SECURITY",
    ):
        assert name in details
    assert caught.value.exit_code == 3


def test_misspelled_dsprogress_variables_are_reported_unrelated_ones_ignored(
    tmp_path: Path,
) -> None:
    env = tmp_path / ".env"
    env.write_text("DSPROGRESS_RATE_LIMT=2\nEDITOR=vim\nPATHX=1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.details == [
        "DSPROGRESS_RATE_LIMT: not a dsprogress setting; did you mean DSPROGRESS_RATE_LIMIT?"
    ]


def test_secrets_are_never_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTION_TOKEN", "ntn_supersecret123456")
    monkeypatch.setenv(
        "DSPROGRESS_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/secret"
    )
    monkeypatch.setenv("SMTP_PORT", "ninety")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    text = str(caught.value) + "".join(caught.value.details) + caught.value.hint
    assert "supersecret" not in text and "hooks.slack" not in text
    monkeypatch.delenv("SMTP_PORT")
    settings = Settings(NOTION_TOKEN="ntn_supersecret123456")  # type: ignore[call-arg]
    assert "supersecret" not in repr(settings)


def test_plain_http_is_only_allowed_for_a_local_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTION_BASE_URL", "http://127.0.0.1:8765/")
    assert load_settings(None).notion_base_url == "http://127.0.0.1:8765"
    monkeypatch.setenv("NOTION_BASE_URL", "http://api.example.com")
    with pytest.raises(ConfigError, match="configuration problem"):
        load_settings(None)


def test_dotenv_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text(f"NOTION_PARENT_PAGE_ID={ID}\nDSPROGRESS_RATE_LIMIT=2\n")
    monkeypatch.setenv("DSPROGRESS_RATE_LIMIT", "1.5")
    settings = load_settings(env)
    assert settings.notion_parent_page_id == ID
    assert settings.rate_limit == 1.5


def test_empty_values_mean_the_default(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DSPROGRESS_STATE_DIR=\nDSPROGRESS_TIMEZONE=\nSMTP_PORT=\n")
    settings = load_settings(env)
    assert settings.smtp_port is None
    assert settings.state_dir.name == "dsprogress"


def test_a_sync_needs_a_token_and_a_parent_or_database() -> None:
    with pytest.raises(ConfigError) as caught:
        require_notion(load_settings(None))
    assert [d.split(":")[0] for d in caught.value.details] == [
        "NOTION_TOKEN",
        "NOTION_PARENT_PAGE_ID",
    ]


@pytest.mark.parametrize(
    "pasted",
    [
        "ntn_abcdefghijklmnop1234 ",
        "ntn_abcdefghijklmnop1234\n",
        "\ufeffntn_abcdefghijklmnop1234",
        "ntn_abcdefghijklmnop1234\u200b",
        "\t ntn_abcdef\u200bghijklmnop1234\r\n",
    ],
    ids=["trailing space", "trailing newline", "BOM", "zero-width space", "everything"],
)
def test_a_pasted_token_is_cleaned_and_said_once(
    pasted: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTION_TOKEN", pasted)
    with caplog.at_level("WARNING", logger="dsprogress"):
        settings = load_settings(None)
    assert settings.token == "ntn_abcdefghijklmnop1234"
    assert caplog.records == []  # no logger line: the command says it once, in its own words
    notes = cleaned_secret_notes(settings, tmp_path / ".env")
    assert len(notes) == 1 and notes[0].text.startswith("the environment variable NOTION_TOKEN ")
    assert "abcdefghijklmnop" not in notes[0].text + notes[0].fingerprint
    state = tmp_path / "state"
    state.mkdir()
    assert notes_to_say(notes, state) == [notes[0].text]
    assert notes_to_say(cleaned_secret_notes(load_settings(None), None), state) == []
    monkeypatch.setenv("NOTION_TOKEN", pasted + " ")  # a new paste is said again
    assert len(notes_to_say(cleaned_secret_notes(load_settings(None), None), state)) == 1


def test_a_pasted_token_in_env_file_blames_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTION_TOKEN", raising=False)
    env = tmp_path / ".env"
    env.write_text("NOTION_TOKEN='ntn_abcdefghijklmnop1234 '\n", encoding="utf-8")
    settings = load_settings(env)
    [note] = cleaned_secret_notes(settings, env)
    assert note.text.startswith(f"NOTION_TOKEN in {env} has spaces")


def test_a_clean_token_is_not_mentioned(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTION_TOKEN", "ntn_abcdefghijklmnop1234")
    with caplog.at_level("WARNING", logger="dsprogress"):
        load_settings(None)
    assert caplog.records == []


@pytest.mark.parametrize("token", ["ntn_abc def123456", "ntn_abcdéfghijkl", "ntn_abc\x07defghij"])
def test_a_token_that_cannot_be_a_header_is_a_token_error_naming_notion_token(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTION_TOKEN", token)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    [problem] = caught.value.details
    assert problem.startswith("NOTION_TOKEN: contains a space, a line break or a non-ASCII")
    assert token not in problem and "abc" not in problem


def test_misspelled_notion_variables_in_the_env_file_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTION_API_KEY", "another tool's variable")  # the environment: ignored
    env = tmp_path / ".env"
    env.write_text(
        "NOTION_TOKEN=ntn_abcdefghijklmnop1234\nNOTION_PARENT_PAGE=abc\n"
        "NOTION_EXPORT_FOLDER=/tmp/another-tools-setting\n"  # not close to ours: left alone
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.details == [
        "NOTION_PARENT_PAGE: not a dsprogress setting; did you mean NOTION_PARENT_PAGE_ID?"
    ]


@pytest.mark.parametrize("name", ["DSPROGRESS_SLACK_WEBHOOK_URL", "DSPROGRESS_DISCORD_WEBHOOK_URL"])
def test_a_webhook_url_must_be_https(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "http://hooks.example.com/services/T000/B000/plaintextsecret")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    [problem] = caught.value.details
    assert problem.startswith(f"{name}: must be the https:// URL")
    assert "plaintextsecret" not in problem


def test_a_huge_interval_is_refused_not_an_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPROGRESS_SYNC_INTERVAL", "99999999999999999999d")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.details == ["DSPROGRESS_SYNC_INTERVAL: must be at most 365d"]


def test_a_bare_number_interval_in_the_env_file_asks_for_a_unit(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("DSPROGRESS_SYNC_INTERVAL=5\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.details == [
        "DSPROGRESS_SYNC_INTERVAL: '5' has no unit; write e.g. 5s, 5m or 5h"
    ]


def test_a_token_with_a_trailing_space_in_the_env_file_is_cleaned(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('NOTION_TOKEN="ntn_abcdefghijklmnop1234 "\n')
    assert load_settings(env).token == "ntn_abcdefghijklmnop1234"


def test_an_env_file_with_a_bom_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes("\ufeffDSPROGRESS_TIMEZONE=Europe/Berlin\n".encode())
    assert load_settings(env).timezone == "Europe/Berlin"


def test_missing_notion_settings_say_which_folder_was_searched_for_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NOTION_TOKEN", "NOTION_PARENT_PAGE_ID", "NOTION_DATABASE_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        require_notion(load_settings(Path(".env")))
    hint = caught.value.hint or ""
    assert f"There is no .env in {tmp_path}" in hint
    assert "dsprogress init --print-env-example" in hint and ".env.example" not in hint
    (tmp_path / ".env").write_text("DSPROGRESS_WEEK_START=mon\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        require_notion(load_settings(Path(".env")))
    assert f"Set them in {tmp_path / '.env'} or the environment" in (caught.value.hint or "")
