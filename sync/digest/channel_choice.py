"""Which digest channels a run sends to: the file always, the others when their settings are
present; one asked for by name must be set up (ConfigError with the settings it needs)."""

from __future__ import annotations

from typing import Literal

from sync.config import Settings
from sync.errors import ConfigError

Channel = Literal["file", "email", "slack", "discord", "notion"]
CHANNELS: tuple[Channel, ...] = ("file", "email", "slack", "discord", "notion")


def configured_channels(settings: Settings) -> list[Channel]:
    """The file always; email, Slack, Discord and Notion when their settings are present."""
    enabled: dict[Channel, bool] = {
        "file": True,
        "email": settings.smtp_enabled(),
        "slack": settings.slack_webhook_url is not None,
        "discord": settings.discord_webhook_url is not None,
        "notion": settings.digest_notion,
    }
    return [channel for channel in CHANNELS if enabled[channel]]


SETUP_HINTS: dict[str, str] = {
    "email": "Set SMTP_HOST, SMTP_FROM and SMTP_TO in .env (see .env.example).",
    "slack": "Set DSPROGRESS_SLACK_WEBHOOK_URL in .env.",
    "discord": "Set DSPROGRESS_DISCORD_WEBHOOK_URL in .env.",
    "notion": "Set DSPROGRESS_DIGEST_NOTION=true, NOTION_TOKEN and NOTION_PARENT_PAGE_ID in .env.",
}


def select_channels(settings: Settings, channel: str | None) -> list[Channel]:
    """Every configured channel, or the one asked for (ConfigError if it is not set up)."""
    available = configured_channels(settings)
    if channel is None:
        return available
    for known in available:
        if known == channel:
            return [known]
    if channel not in CHANNELS:
        raise ConfigError(f"unknown digest channel {channel!r}; use one of {', '.join(CHANNELS)}")
    raise ConfigError(f"the {channel} channel is not configured", hint=SETUP_HINTS[channel])
