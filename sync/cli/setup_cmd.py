"""`dsprogress init`: guided setup, from a token to a checklist database in Notion."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.markup import escape

from sync.access import (
    PageChoice,
    PageListing,
    TokenInfo,
    fetch_page_choices,
    fetch_parent_page,
    fetch_token_info,
    parse_token_text,
    render_token_owner,
)
from sync.cli.live import run_display
from sync.cli.output import console, err_console, is_quiet, print_wrapped
from sync.cli.report import print_database_after_interrupt
from sync.cli.setup_words import print_init_report, print_intro, retry_hint
from sync.config import DEFAULT_BASE_URL, system_timezone_name
from sync.errors import (
    ConfigError,
    DsprogressError,
    NotionAuthError,
)
from sync.init_flow import InitChoices, InitReport, run_init
from sync.links import shown_url
from sync.logs import register_secret
from sync.notion.adapter import NotionAdapter
from sync.notion.versions import DEFAULT_NOTION_VERSION, NOTION_VERSIONS

MAX_TOKEN_TRIES = 3
MAX_LISTED_PAGES = 15
_PATH = click.Path(path_type=Path)


@click.command()
@click.option("--non-interactive", is_flag=True, help="Ask nothing: take everything from options.")
@click.option(
    "--token",
    metavar="TOKEN",
    help="The Notion token (prefer the NOTION_TOKEN environment variable: a command line is "
    "visible to other users).",
)
@click.option("--parent", metavar="PAGE", help="The page to create the database under (URL or id).")
@click.option("--database", metavar="DATABASE", help="Use this existing database (URL or id).")
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the Notion API lives: $NOTION_BASE_URL (environment, then .env), else "
    "https://api.notion.com (only change it for the local sandbox).",
)
@click.option("--state-dir", type=_PATH, help="Folder for the state and snapshot.")
@click.option("--timezone", "zone", metavar="ZONE", help="IANA time zone, e.g. Europe/Berlin.")
@click.option("--checklist", type=_PATH, help="Your own copy of the checklist YAML.")
@click.option("--env-file", type=_PATH, default=Path(".env"), show_default=True)
@click.option("--force", is_flag=True, help="Update an existing .env without asking.")
@click.option("--no-sync", is_flag=True, help="Write .env only; do not run the first sync.")
@click.option(
    "--print-env-example",
    is_flag=True,
    help="Print the commented .env.example (every setting) and exit.",
)
def init(
    non_interactive: bool,
    token: str | None,
    parent: str | None,
    database: str | None,
    base_url: str | None,
    state_dir: Path | None,
    zone: str | None,
    checklist: Path | None,
    env_file: Path,
    force: bool,
    no_sync: bool,
    print_env_example: bool,
) -> None:
    """Set up dsprogress: check a Notion token, pick a page, create the checklist database.

    Writes .env (mode 600; asks before changing an existing one, and keeps your other settings
    in it), runs the first sync and prints the database's URL.

    \b
    Examples:
      dsprogress init
      NOTION_TOKEN=ntn_... dsprogress init --non-interactive --parent https://www.notion.so/My-page-1a2b...
    """
    if print_env_example:
        from sync.checklist_files import bundled_env_example_path

        click.echo(bundled_env_example_path().read_text(encoding="utf-8"), nl=False)
        return
    base_url = base_url or resolve_base_url(env_file)
    token = token or (os.environ.get("NOTION_TOKEN") if non_interactive else None)
    if non_interactive:
        choices, info = _gather_from_options(token, parent, database, base_url, state_dir, zone)
    else:
        print_intro(env_file)
        force = _confirm_update(env_file, force)
        choices, info = _gather_interactively(token, parent, database, base_url, state_dir, zone)
    if checklist is not None:
        choices = replace(choices, checklist=checklist)
    report = _run_with_display(choices, env_file, overwrite=force, no_sync=no_sync)
    print_init_report(report, info, choices)


def _confirm_update(env_file: Path, force: bool) -> bool:
    """Ask before updating an existing .env (click.Abort on no); True: overwrite it."""
    if env_file.exists() and not force:
        if not click.confirm(
            f"{env_file} exists. Update its Notion settings (your other settings stay)?",
            default=True,
        ):
            raise click.Abort()
        return True
    return force


def _run_with_display(
    choices: InitChoices, env_file: Path, *, overwrite: bool, no_sync: bool
) -> InitReport:
    def env_written(path: Path) -> None:
        console.print(f"Wrote {escape(str(path))} (mode 600).")
        if not no_sync:
            display.start()  # only now: the line above must not share a line with the bar

    try:
        with run_display(
            err_console, "Writing the checklist to Notion", enabled=True, quiet=is_quiet()
        ) as display:
            return run_init(
                choices,
                env_path=env_file,
                overwrite=overwrite,
                first_sync=not no_sync,
                on_env_written=env_written,
                **display.hooks(),
            )
    except KeyboardInterrupt:
        _remind_database(env_file)
        raise


def _remind_database(env_file: Path) -> None:
    """After Ctrl-C during the first sync: the database's URL, if it was created already."""
    from sync.config import load_settings

    if not env_file.exists():
        return
    try:
        settings = load_settings(env_file)
    except DsprogressError:
        return
    print_database_after_interrupt(settings.state_dir)


def resolve_base_url(env_file: Path) -> str:
    """NOTION_BASE_URL from the environment, else from the .env init is about to update."""
    from_env = os.environ.get("NOTION_BASE_URL", "").strip()
    if from_env:
        return from_env
    if env_file.is_file():
        from dotenv import dotenv_values

        return (dotenv_values(env_file).get("NOTION_BASE_URL") or "").strip() or DEFAULT_BASE_URL
    return DEFAULT_BASE_URL


def _adapter(token: str, base_url: str) -> NotionAdapter:
    """An adapter for the checks before .env exists (pacing from DSPROGRESS_RATE_LIMIT, the
    version from DSPROGRESS_NOTION_VERSION)."""
    try:
        rate = float(os.environ.get("DSPROGRESS_RATE_LIMIT") or 3.0)
    except ValueError:
        rate = 3.0
    version = (os.environ.get("DSPROGRESS_NOTION_VERSION") or "").strip()
    if version not in NOTION_VERSIONS:
        version = DEFAULT_NOTION_VERSION
    return NotionAdapter(token, base_url, rate_limit=max(rate, 0.0), notion_version=version)


def _gather_from_options(
    token: str | None,
    parent: str | None,
    database: str | None,
    base_url: str,
    state_dir: Path | None,
    zone: str | None,
) -> tuple[InitChoices, TokenInfo]:
    missing = []
    if not token:
        missing.append("--token (or the NOTION_TOKEN environment variable)")
    if not parent and not database:
        missing.append("--parent PAGE_URL (or --database DATABASE_URL)")
    if missing:
        raise ConfigError(
            "init --non-interactive needs " + " and ".join(missing),
            hint="Example: NOTION_TOKEN=ntn_... dsprogress init --non-interactive --parent URL",
        )
    assert token is not None
    secret = parse_token_text(token)
    register_secret(secret)
    with _adapter(secret, base_url) as notion:
        info = fetch_token_info(notion)
        page_id = fetch_parent_page(notion, parent, info.kind).page_id if parent else None
    database_id = _parse_database(database)
    choices = InitChoices(secret, page_id, database_id, base_url, state_dir, _zone(zone))
    return choices, info


def _parse_database(value: str | None) -> str | None:
    if value is None:
        return None
    from sync.config import parse_notion_id

    try:
        return parse_notion_id(value)
    except ValueError as exc:
        raise ConfigError(
            f"--database {exc}",
            hint="Paste the database's link (open it as a full page, then Share -> Copy link).",
        ) from None


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{value!r} is not an IANA time zone", hint="Use e.g. Europe/Berlin or UTC."
        ) from None
    return value


def _gather_interactively(
    token: str | None,
    parent: str | None,
    database: str | None,
    base_url: str,
    state_dir: Path | None,
    zone: str | None,
) -> tuple[InitChoices, TokenInfo]:
    secret, info = _ask_token(token, base_url)
    with _adapter(secret, base_url) as notion:
        page: PageChoice | None = None
        if parent:
            page = fetch_parent_page(notion, parent, info.kind)
        elif not database:
            page = _ask_parent(notion, info, base_url)
    if zone is None:
        zone = _ask_zone()
    choices = InitChoices(
        secret,
        page.page_id if page else None,
        _parse_database(database),
        base_url,
        state_dir,
        _zone(zone),
    )
    return choices, info


def _ask_token(token: str | None, base_url: str) -> tuple[str, TokenInfo]:
    for attempt in range(1, MAX_TOKEN_TRIES + 1):
        text = token or click.prompt("Paste your Notion token", hide_input=True, err=True)
        token = None
        try:
            secret = parse_token_text(text)
            register_secret(secret)
            with _adapter(secret, base_url) as notion:
                info = fetch_token_info(notion)
        except (NotionAuthError, ConfigError) as exc:
            err_console.print(f"[red]✗[/] {escape(exc.message)}")
            if attempt == MAX_TOKEN_TRIES:
                raise
            err_console.print(f"  {escape(retry_hint(exc, MAX_TOKEN_TRIES - attempt))}")
            continue
        console.print(f"[green]✓[/] Token accepted: {escape(render_token_owner(info))}.")
        return secret, info
    raise AssertionError("unreachable")


def _ask_parent(notion: NotionAdapter, info: TokenInfo, base_url: str) -> PageChoice:
    query = ""
    while True:
        listing = fetch_page_choices(notion, query, limit=MAX_LISTED_PAGES)
        pages = listing.choices
        if pages:
            _print_pages(listing, query, base_url)
            answer = click.prompt("Number, words to search, or a page URL", err=True).strip()
        else:
            console.print("\n" + escape(render_no_pages(info, query)))
            answer = click.prompt(
                "Words to search, a page URL, or Enter to look again",
                default="",
                show_default=False,
                err=True,
            ).strip()
            if not answer:
                query = ""
                continue
        if answer.isdigit() and pages:
            index = int(answer) - 1
            if 0 <= index < len(pages):
                return pages[index]
            err_console.print(f"[red]✗[/] pick a number from 1 to {len(pages)}")
            continue
        if not looks_like_page_link(answer):
            query = answer  # words: search the workspace by title
            continue
        try:
            return fetch_parent_page(notion, answer, info.kind)
        except DsprogressError as exc:
            err_console.print(f"[red]✗[/] {escape(exc.message)}")
            err_console.print(f"  {escape(exc.hint)}")


def _print_pages(listing: PageListing, query: str, base_url: str) -> None:
    if query:
        console.print(f"\nPages matching {escape(repr(query))}:")
    else:
        console.print("\nWhich page should hold the checklist database? (recently edited first)")
    for number, page in enumerate(listing.choices, start=1):
        print_wrapped(escape(page.title), f"  {number:>2}. ", 6)
        url = shown_url(page.url, base_url) or page.url
        console.print(f"      [dim]{escape(url)}[/]")  # a link stays on one line
    if listing.more:
        console.print(
            "  [dim]… and more: type words of the page's title to search, or paste its URL.[/]"
        )


def looks_like_page_link(answer: str) -> bool:
    from sync.config import parse_notion_id

    try:
        parse_notion_id(answer)
    except ValueError:
        return False
    return True


def render_no_pages(info: TokenInfo, query: str) -> str:
    if query:
        return f"No page matches {query!r}. Try other words, or paste the page's URL."
    if info.kind == "integration":
        return (
            f"Your internal connection {info.name!r} can see no page yet. In Notion, open the page "
            "that should hold the checklist, click ... (top right) -> Connections and add it."
        )
    return (
        "Your account sees no page in this workspace yet. In Notion, make one (for example "
        "'Data Science progress'), then press Enter."
    )


def _ask_zone() -> str:
    detected = os.environ.get("DSPROGRESS_TIMEZONE") or system_timezone_name()
    while True:
        answer = click.prompt("Your time zone", default=detected, err=True).strip()
        try:
            return _zone(answer) or detected
        except ConfigError as exc:
            err_console.print(f"[red]✗[/] {escape(exc.message)}; {escape(exc.hint)}")
