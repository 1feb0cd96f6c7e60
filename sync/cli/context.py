"""What most commands need first: the settings and the checklist they name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.config import Settings, load_settings

if TYPE_CHECKING:
    from sync.weeks import WeekId


def load_cli_settings() -> Settings:
    """Settings from the environment and ./.env (ConfigError lists every problem); a note about
    a cleaned secret is said once, on stderr."""
    settings = load_settings(Path(".env"))
    say_settings_notes(settings, Path(".env"))
    return settings


def say_settings_notes(settings: Settings, env_file: Path | None) -> None:
    if not settings._cleaned:
        return
    from rich.markup import escape

    from sync.cli.output import err_console
    from sync.config_notes import cleaned_secret_notes, notes_to_say

    for text in notes_to_say(cleaned_secret_notes(settings, env_file), settings.state_dir):
        err_console.print(f"[yellow]Warning:[/] {escape(text)}")


def load_configured_checklist(settings: Settings) -> Checklist:
    return load_checklist(settings.checklist)


def parse_week_option(_ctx: Any, _param: Any, value: str | None) -> WeekId | None:
    """The click callback of every `--week YYYY-Www` option: a usage error when it is not one."""
    if value is None:
        return None
    from sync.weeks import parse_week

    try:
        return parse_week(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
