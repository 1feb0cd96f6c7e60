"""`dsprogress open`: the checklist database in the browser (no network, no Notion request)."""

from __future__ import annotations

import click

from sync.cli.context import load_cli_settings
from sync.cli.output import console, err_console
from sync.config import Settings
from sync.errors import StateError


def build_database_url(database_id: str) -> str:
    """Notion's address for a database id (the form Notion's own links take)."""
    return "https://www.notion.so/" + database_id.replace("-", "")


def load_database_url(settings: Settings) -> str:
    """The URL the last sync recorded, else one built from NOTION_DATABASE_ID; a sandbox's own
    link when NOTION_BASE_URL is a sandbox (`sync.links`)."""
    from sync.links import shown_url

    return shown_url(_recorded_url(settings), settings.notion_base_url) or ""


def _recorded_url(settings: Settings) -> str:
    from sync.store import STATE_FILE, open_store

    recorded = None
    if (settings.state_dir / STATE_FILE).exists():
        with open_store(settings.state_dir) as store:
            recorded = store.get_meta("database_url")
    if recorded:
        return recorded
    if settings.notion_database_id:
        return build_database_url(settings.notion_database_id)
    raise StateError(
        f"no checklist database is known yet (state folder {settings.state_dir})",
        hint="Run `dsprogress init` (or `dsprogress sync`) first; it creates the database.",
    )


@click.command(name="open")
@click.option("--print", "print_only", is_flag=True, help="Print the URL instead of opening it.")
def open_command(print_only: bool) -> None:
    """Open the checklist database in your browser (or print its URL with --print)."""
    url = load_database_url(load_cli_settings())
    if print_only:
        click.echo(url)
        return
    import webbrowser

    console.print(f"Opening {url}")
    if not webbrowser.open(url):
        err_console.print("[yellow]No browser could be started;[/] open the URL above yourself.")
