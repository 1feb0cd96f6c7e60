"""What most commands need first: the settings and the checklist they name."""

from __future__ import annotations

from pathlib import Path

from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.config import Settings, load_settings


def load_cli_settings() -> Settings:
    """Settings from the environment and ./.env (ConfigError lists every problem)."""
    return load_settings(Path(".env"))


def load_configured_checklist(settings: Settings) -> Checklist:
    return load_checklist(settings.checklist)
