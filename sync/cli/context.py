"""What most commands need first: the settings and the checklist they name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.config import Settings, load_settings

if TYPE_CHECKING:
    from sync.digest.week import WeekId


def load_cli_settings() -> Settings:
    """Settings from the environment and ./.env (ConfigError lists every problem)."""
    return load_settings(Path(".env"))


def load_configured_checklist(settings: Settings) -> Checklist:
    return load_checklist(settings.checklist)


def parse_week_option(_ctx: Any, _param: Any, value: str | None) -> WeekId | None:
    """The click callback of every `--week YYYY-Www` option: a usage error when it is not one."""
    if value is None:
        return None
    from sync.digest.week import parse_week

    try:
        return parse_week(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
