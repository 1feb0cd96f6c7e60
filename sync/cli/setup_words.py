"""The words `dsprogress init` says while it asks: its introduction (wrapped to the terminal)
and what to do after a token that did not work (init asks again at once)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from sync.access import TokenInfo
from sync.cli.output import console, err_console, print_wrapped
from sync.errors import CONNECTIONS_URL, PERSONAL_TOKENS_URL, DsprogressError, NotionAuthError
from sync.init_flow import InitChoices, InitReport
from sync.links import shown_url

if TYPE_CHECKING:
    from rich.console import Console

TOKEN_HELP: tuple[tuple[int, str], ...] = (
    (0, "[bold]dsprogress init[/] sets up your Data Science checklist in Notion in a few steps."),
    (0, ""),
    (0, "It needs a Notion token, one of two kinds:"),
    (
        5,
        "[bold]1. A personal access token[/] (recommended when the checklist is yours alone):"
        f" {PERSONAL_TOKENS_URL} -> New token -> copy it. It acts as you and sees the pages you"
        " can open, so there is nothing to share. Business and Enterprise workspaces may"
        " restrict personal tokens: if you cannot make one, ask a workspace owner, or use kind 2.",
    ),
    (
        5,
        "[bold]2. An internal connection[/] (for a shared or team setup; made by a workspace"
        f" owner): {CONNECTIONS_URL} -> create one -> copy its secret (ntn_...). It sees only the"
        " pages connected to it: open the page, ... (top right) -> Connections -> add it.",
    ),
    (0, ""),
    (0, "The token is read without being shown, and saved only in {env} (readable by you alone)."),
)
"""init's introduction: paragraphs (hanging indent, markup) that wrap to the terminal's width;
a numbered paragraph starts 2 columns in and wraps under its text."""


def print_intro(env_file: Path, out: Console | None = None) -> None:
    """The introduction, wrapped to the terminal (never mid-word), numbered kinds indented."""
    target = out or console
    for indent, markup in TOKEN_HELP:
        text = markup.replace("{env}", escape(str(env_file)))
        if not text:
            target.print()
            continue
        print_wrapped(text, "  " if indent else "", indent, target)
    target.print()


def retry_hint(exc: DsprogressError, tries_left: int) -> str:
    """While init asks again: copy the token again and paste it here (not "run init")."""
    left = f"{tries_left} {'try' if tries_left == 1 else 'tries'} left"
    if isinstance(exc, NotionAuthError):
        return (
            f"Copy it again, or make a new one (a personal access token at {PERSONAL_TOKENS_URL},"
            f" or an internal connection's secret at {CONNECTIONS_URL}), and paste it below"
            f" ({left})."
        )
    return f"{exc.hint} Paste it below ({left})."


def print_init_report(report: InitReport, info: TokenInfo, choices: InitChoices) -> None:
    """What init did: the found or created database, the first sync, the views, what next."""
    shadowed = [
        name
        for name, value in choices.env_values().items()
        if value is not None and os.environ.get(name) not in (None, "", value)
    ]
    for name in shadowed:
        err_console.print(
            f"[yellow]Warning:[/] {name} is also set in your environment, which wins over "
            f"{escape(str(report.env_path))}; unset it so that dsprogress uses the new value."
        )
    found = shown_url(report.found_database_url, choices.base_url)
    if found:
        console.print(f"[green]✓[/] Found your checklist database: {found}")
    if report.sync is None:
        if not found:
            console.print("Run `dsprogress sync` to create the checklist in Notion.")
        else:
            console.print("Run `dsprogress sync` to bring it up to date.")
        return
    counts = report.sync.counts()
    console.print(
        f"[green]✓[/] First sync done: {counts.get('create', 0)} items created, "
        f"{counts.get('update', 0)} updated."
    )
    console.print(f"  Snapshot: {report.sync.snapshot_path}")
    if report.views:
        names = ", ".join(view["name"] for view in report.views)
        print_wrapped(escape(names), "[green]✓[/] Views: ", 2)
    elif report.sync.created_database:
        console.print("Views could not be created here; the database works without them.")
    if report.sync.cockpit_added:
        console.print("[green]✓[/] Progress tab: charts of your progress, beside the views")
    url = shown_url(report.database_url, choices.base_url)
    if url:
        console.print(f"\n[bold]Your checklist:[/] {url}")
    console.print()
    print_wrapped(
        "Next: tick an item's Done box in Notion, then run `dsprogress sync` and "
        "`dsprogress status`. If anything looks wrong, run `dsprogress doctor`."
    )
