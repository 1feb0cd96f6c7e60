"""Settings: the environment and `.env`, validated together.

The variable names are the public contract (documented in `.env.example`, kept in step by a test).
Every problem is reported at once, each naming its variable; secret values are never echoed.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from dotenv import dotenv_values
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sync.config_hints import problems_hint, where_settings_live
from sync.config_values import (
    INVISIBLE,
    DigestSchedule,
    check_token_text,
    clean_secret,
    parse_interval,
    parse_schedule,
)
from sync.errors import ConfigError
from sync.logs import register_secret, register_secret_url
from sync.notion.versions import DEFAULT_NOTION_VERSION, parse_notion_version

log = logging.getLogger("dsprogress.config")

DEFAULT_BASE_URL = "https://api.notion.com"
ENV_FILE_ENCODING = "utf-8-sig"  # UTF-8, tolerating the BOM some editors write
_UUID_HEX = re.compile(r"([0-9a-fA-F]{32})")
_DASHED = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
_CLEANED_SECRETS: list[tuple[str, str]] = []  # (variable, raw value) that clean_secret changed


def parse_notion_id(value: str) -> str:
    """Return the dashed id from a Notion URL or a bare id (with or without dashes).

    In a database URL the id is in the path; a `?v=` part is a *view* id and is ignored.
    """
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    path = urlsplit(text).path if "://" in text else text.split("?", 1)[0]
    path = path.split("#", 1)[0]
    segment = next((part for part in reversed(path.split("/")) if part), "")
    dashed = _DASHED.findall(segment)
    if dashed:
        candidate = dashed[-1].replace("-", "")
    else:
        found = _UUID_HEX.findall(segment.replace("-", "")[-32:])
        if not found:
            raise ValueError(
                "is not a Notion id or URL (expected 32 hex characters, e.g. the end of the "
                "page's URL; a database URL's `?v=...` part is a view id, not the database id)"
            )
        candidate = found[-1]
    candidate = candidate.lower()
    return (
        f"{candidate[:8]}-{candidate[8:12]}-{candidate[12:16]}-{candidate[16:20]}-{candidate[20:]}"
    )


def system_timezone_name() -> str:
    """The machine's IANA zone name: $TZ, then /etc/localtime, then UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                ZoneInfo(name)
                return name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def default_state_dir() -> Path:
    return Path(platformdirs.user_data_dir("dsprogress", appauthor=False))


class Settings(BaseSettings):
    """Every setting dsprogress reads. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8-sig", extra="ignore", frozen=True
    )
    _cleaned: tuple[tuple[str, str], ...] = PrivateAttr(default=())  # see sync.config_notes

    notion_token: SecretStr | None = Field(None, alias="NOTION_TOKEN")
    notion_parent_page_id: str | None = Field(None, alias="NOTION_PARENT_PAGE_ID")
    notion_database_id: str | None = Field(None, alias="NOTION_DATABASE_ID")
    notion_base_url: str = Field(DEFAULT_BASE_URL, alias="NOTION_BASE_URL")
    state_dir: Path = Field(default_factory=default_state_dir, alias="DSPROGRESS_STATE_DIR")
    checklist: Path | None = Field(None, alias="DSPROGRESS_CHECKLIST")
    timezone: str = Field(default_factory=system_timezone_name, alias="DSPROGRESS_TIMEZONE")
    rate_limit: float = Field(3.0, alias="DSPROGRESS_RATE_LIMIT", ge=0, le=100)
    notion_version: str = Field(DEFAULT_NOTION_VERSION, alias="DSPROGRESS_NOTION_VERSION")
    sync_interval: int = Field(900, alias="DSPROGRESS_SYNC_INTERVAL")
    full_read_interval: int = Field(86400, alias="DSPROGRESS_FULL_READ_INTERVAL")
    digest_schedule: Annotated[DigestSchedule, NoDecode] = Field(
        DigestSchedule(("mon",), 8, 0), alias="DSPROGRESS_DIGEST_SCHEDULE"
    )
    week_start: Literal["mon", "sun"] = Field("mon", alias="DSPROGRESS_WEEK_START")
    retire_threshold: float = Field(0.25, alias="DSPROGRESS_RETIRE_THRESHOLD", gt=0, le=1)
    lock_timeout: float = Field(60.0, alias="DSPROGRESS_LOCK_TIMEOUT", ge=0)
    templates_dir: Path | None = Field(None, alias="DSPROGRESS_TEMPLATES_DIR")
    digest_notion: bool = Field(False, alias="DSPROGRESS_DIGEST_NOTION")
    digest_enabled: bool = Field(True, alias="DSPROGRESS_DIGEST_ENABLED")
    notion_cockpit: bool = Field(True, alias="DSPROGRESS_NOTION_COCKPIT")
    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int | None = Field(None, alias="SMTP_PORT", ge=1, le=65535)
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(None, alias="SMTP_FROM")
    smtp_to: str | None = Field(None, alias="SMTP_TO")
    smtp_security: Literal["starttls", "ssl", "none"] = Field("starttls", alias="SMTP_SECURITY")
    slack_webhook_url: SecretStr | None = Field(None, alias="DSPROGRESS_SLACK_WEBHOOK_URL")
    discord_webhook_url: SecretStr | None = Field(None, alias="DSPROGRESS_DISCORD_WEBHOOK_URL")
    cohort_page: str | None = Field(None, alias="DSPROGRESS_COHORT_PAGE")
    cohort_stalled_days: int = Field(7, alias="DSPROGRESS_COHORT_STALLED_DAYS", ge=1, le=3650)
    cohort_include_notes: bool = Field(False, alias="DSPROGRESS_COHORT_INCLUDE_NOTES")

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @field_validator(
        "notion_token", "slack_webhook_url", "discord_webhook_url", "smtp_password", mode="before"
    )
    @classmethod
    def _clean_secret(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        if info.field_name == "smtp_password":  # spaces may belong to a password: only invisibles
            cleaned = "".join(ch for ch in value if ch not in INVISIBLE)
            changed = cleaned != value
        else:
            cleaned, changed = clean_secret(value)
        if changed:
            _CLEANED_SECRETS.append((_alias_for(info.field_name), value))
        if not cleaned:
            return None
        if info.field_name == "notion_token":
            check_token_text(cleaned)
        return cleaned

    @field_validator("slack_webhook_url", "discord_webhook_url")
    @classmethod
    def _webhook_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = urlsplit(value.get_secret_value())
        local = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
        if (parts.scheme != "https" and not local) or not parts.path.strip("/"):
            raise ValueError(
                "must be the https:// URL the service gave you (the value is not shown: it is a "
                "secret)"
            )
        return value

    @field_validator("notion_parent_page_id", "notion_database_id", "cohort_page")
    @classmethod
    def _notion_id(cls, value: str | None) -> str | None:
        return None if value is None else parse_notion_id(value)

    @field_validator("notion_base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        if _blank(value):
            return DEFAULT_BASE_URL
        parts = urlsplit(str(value).strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://api.notion.com")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            raise ValueError("must use https (plain http is only allowed for a local sandbox)")
        return str(value).strip().rstrip("/")

    @field_validator("notion_version", mode="before")
    @classmethod
    def _notion_version(cls, value: Any) -> Any:
        return DEFAULT_NOTION_VERSION if _blank(value) else parse_notion_version(str(value))

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        if _blank(value):
            return system_timezone_name()
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone; use e.g. Europe/Berlin or UTC"
            ) from None
        return value

    @field_validator("sync_interval", "full_read_interval", mode="before")
    @classmethod
    def _interval(cls, value: Any, info: ValidationInfo) -> Any:
        if _blank(value):
            return {"sync_interval": 900, "full_read_interval": 86400}[str(info.field_name)]
        return parse_interval(str(value)) if isinstance(value, str) else value

    @field_validator("digest_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if _blank(value):
            return DigestSchedule(("mon",), 8, 0)
        return parse_schedule(value) if isinstance(value, str) else value

    @field_validator("week_start", mode="before")
    @classmethod
    def _week_start(cls, value: Any) -> Any:
        return "mon" if _blank(value) else str(value).strip().lower()[:3]

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _security(cls, value: Any) -> Any:
        return "starttls" if _blank(value) else str(value).strip().lower()

    @field_validator("state_dir", mode="before")
    @classmethod
    def _state_dir(cls, value: Any) -> Any:
        return default_state_dir() if _blank(value) else Path(str(value)).expanduser()

    @field_validator(
        "rate_limit", "retire_threshold", "lock_timeout", "cohort_stalled_days", mode="before"
    )
    @classmethod
    def _number_default(cls, value: Any, info: Any) -> Any:
        defaults: dict[str, float] = {"rate_limit": 3.0, "retire_threshold": 0.25}
        defaults.update(lock_timeout=60.0, cohort_stalled_days=7)
        return defaults[info.field_name] if _blank(value) else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str | None:
        return self.notion_token.get_secret_value() if self.notion_token else None

    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)


ENV_NAMES: tuple[str, ...] = tuple(
    str(field.alias) for field in Settings.model_fields.values() if field.alias
)
_FIELD_BY_ALIAS = {str(f.alias): name for name, f in Settings.model_fields.items()}


def _unknown_variable_problems(env_file: Path | None) -> list[str]:
    # DSPROGRESS_* is ours wherever it is set. NOTION_* is checked in .env only (the environment
    # holds other tools' variables), and only when close to one of ours: a misspelling, not
    # another Notion tool's setting sharing the file.
    names = {name for name in os.environ if name.upper().startswith("DSPROGRESS_")}
    if env_file is not None and env_file.is_file():
        from_file = dotenv_values(env_file, encoding=ENV_FILE_ENCODING)
        names |= {n for n in from_file if n.upper().startswith("DSPROGRESS_")}
        names |= {
            n
            for n in from_file
            if n.upper().startswith("NOTION_")
            and n.upper() not in ENV_NAMES
            and _closest(n, cutoff=0.8)
        }
    problems = []
    for name in sorted(names):
        if name.upper() in ENV_NAMES:
            continue
        close = _closest(name)
        suggestion = f"; did you mean {close}?" if close else ""
        problems.append(f"{name}: not a dsprogress setting{suggestion}")
    return problems


def _closest(name: str, cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(name.upper(), ENV_NAMES, n=1, cutoff=cutoff)
    return close[0] if close else None


def load_settings(env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Read the environment and `env_file`; raise ConfigError listing every problem."""
    check_env_file(env_file)
    problems = _unknown_variable_problems(env_file)
    _CLEANED_SECRETS.clear()
    settings: Settings | None = None
    try:
        settings = Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            loc = error["loc"][0] if error["loc"] else "?"
            name = loc if str(loc) in ENV_NAMES else _alias_for(str(loc))
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
    if problems or settings is None:
        count = len(problems)
        raise ConfigError(
            f"{count} configuration problem{'s' if count != 1 else ''}",
            hint=problems_hint(env_file),
            details=problems,
        )
    register_settings_secrets(settings)
    cleaned = {name: raw for name, raw in _CLEANED_SECRETS}
    _CLEANED_SECRETS.clear()
    object.__setattr__(settings, "_cleaned", tuple(sorted(cleaned.items())))
    for name in cleaned:
        log.info("%s: removed spaces or invisible characters around the value", name)
    return settings


def register_settings_secrets(settings: Settings) -> None:
    """Make every configured secret known to the one redaction (sync.logs.redact)."""
    for secret in (settings.notion_token, settings.smtp_password):
        register_secret(secret.get_secret_value() if secret else None)
    for url in (settings.slack_webhook_url, settings.discord_webhook_url):
        register_secret_url(url.get_secret_value() if url else None)


def check_env_file(env_file: Path | None) -> None:
    """A `.env` that exists must be readable UTF-8 text (a BOM is fine)."""
    if env_file is None or not env_file.exists():
        return
    try:
        env_file.read_bytes().decode(ENV_FILE_ENCODING)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"cannot read {env_file}: not UTF-8 text (byte {exc.start})",
            hint='Save .env as UTF-8 text (any editor\'s "Save with encoding" offers it).',
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {env_file}: {exc.strerror or type(exc).__name__}",
            hint="Check that .env is a readable file.",
        ) from None


def _alias_for(field_name: str) -> str:
    for alias, name in _FIELD_BY_ALIAS.items():
        if name == field_name:
            return alias
    return field_name


def require_notion(settings: Settings, env_file: Path | None = Path(".env")) -> str:
    """Return the token; raise ConfigError when Notion settings are missing for a sync.
    `env_file` is where the settings were read from, named in the hint."""
    problems = []
    if settings.token is None:
        problems.append(
            "NOTION_TOKEN: not set (a personal access token, or an internal connection's secret)"
        )
    if settings.notion_parent_page_id is None and settings.notion_database_id is None:
        problems.append(
            "NOTION_PARENT_PAGE_ID: not set (the page to create the database under; "
            "or set NOTION_DATABASE_ID to use an existing database)"
        )
    if problems:
        hint = where_settings_live(env_file)
        if env_file is not None and env_file.is_file():
            hint = "Run `dsprogress init`, or set them yourself. " + hint
        raise ConfigError("Notion is not configured", hint=hint, details=problems)
    assert settings.token is not None
    return settings.token
