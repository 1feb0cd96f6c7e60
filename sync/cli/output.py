"""Consoles shared by the commands: stdout for results, stderr for messages and errors."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def echo_json(data: Any) -> None:
    """Print machine-readable output: plain JSON on stdout, no colour, stable key order."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
