"""`dsprogress checklist ...`: check and display the checklist template."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from dotenv import dotenv_values
from rich.table import Table
from rich.text import Text

from sync.checklist import Checklist, ChecklistItem
from sync.checklist_files import bundled_checklist_path, load_checklist
from sync.cli.output import console, echo_json
from sync.config import ENV_FILE_ENCODING, check_env_file

CHECKLIST_ENV = "DSPROGRESS_CHECKLIST"

_PATH = click.Path(dir_okay=False, path_type=Path)  # existence is checked by load_checklist


def configured_checklist_path() -> Path:
    """The checklist in use: DSPROGRESS_CHECKLIST (environment, then ./.env), else the bundled one.

    Read on its own, so that a problem in an unrelated setting never blocks checking the checklist.
    """
    configured = os.environ.get(CHECKLIST_ENV, "").strip()
    if not configured and Path(".env").is_file():
        check_env_file(Path(".env"))  # not UTF-8 or unreadable: a configuration error
        values = dotenv_values(".env", encoding=ENV_FILE_ENCODING)
        configured = (values.get(CHECKLIST_ENV) or "").strip()
    return Path(configured).expanduser() if configured else bundled_checklist_path()


def item_json(item: ChecklistItem) -> dict[str, Any]:
    """The stable JSON shape of one item (used by `checklist show --json`)."""
    return {
        "key": item.key,
        "title": item.title,
        "level": item.level,
        "category": item.category,
        "order": item.order,
        "description": item.description,
        "ongoing": item.ongoing,
        "examples": list(item.examples),
        "project_idea": item.project_idea,
    }


@click.group()
def checklist() -> None:
    """Check, display or export the checklist template.

    The checklist is the YAML file that defines the levels, categories and items pushed to
    Notion. dsprogress uses the file named by $DSPROGRESS_CHECKLIST, or the bundled
    Data Science progress checklist when it is not set.
    """


@checklist.command()
@click.argument("path", required=False, type=_PATH)
def validate(path: Path | None) -> None:
    """Check a checklist file and list every problem in it.

    PATH defaults to the configured checklist ($DSPROGRESS_CHECKLIST, else the bundled one).
    Exits with status 4 if the file cannot be read or is invalid.
    """
    target = path if path is not None else configured_checklist_path()
    loaded = load_checklist(target)
    items = len(loaded.items)
    levels = len(loaded.levels)
    console.print(
        Text(
            f"✓ {target}: {items} item{'s' * (items != 1)} in {levels} "
            f"level{'s' * (levels != 1)}, version {loaded.version}",
            style="green",
        )
    )


@checklist.command()
@click.option(
    "--file",
    "-f",
    "path",
    type=_PATH,
    default=None,
    help="Checklist file to show (default: $DSPROGRESS_CHECKLIST, else the bundled one).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the items as a JSON list, in checklist order."
)
def show(path: Path | None, as_json: bool) -> None:
    """Show the checklist's items, grouped by level and category.

    Items appear in checklist order: by level, by category within the level, then easiest to
    hardest. With --json, print a list of items with key, title, level, category, order,
    description, ongoing, examples and project_idea.
    """
    loaded = load_checklist(path if path is not None else configured_checklist_path())
    if as_json:
        echo_json([item_json(item) for item in loaded.ordered_items()])
        return
    console.print(Text(f"{loaded.title} (version {loaded.version})", style="bold"))
    for table in _level_tables(loaded):
        console.print(table)


def _level_tables(loaded: Checklist) -> list[Table]:
    """One table per level; each category is a section headed by its name, in checklist order."""
    tables: list[Table] = []
    items = loaded.ordered_items()
    for level in loaded.levels:
        heading = f"{level.icon} {level.name}" if level.icon else level.name
        table = Table(title=heading, title_justify="left", title_style="bold")
        table.add_column("#", justify="right")
        table.add_column("Item")
        table.add_column("Key", style="dim", overflow="fold")
        for category in level.categories:
            table.add_row("", Text(category, style="bold cyan"), "")
            for item in (i for i in items if (i.level, i.category) == (level.name, category)):
                title = Text(item.title)
                if item.ongoing:
                    title.append(" (ongoing)", style="italic dim")
                table.add_row(str(item.order), title, item.key)
            table.add_section()
        tables.append(table)
    return tables


@checklist.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def export(path: Path, force: bool) -> None:
    """Write an editable copy of the bundled checklist to PATH.

    Edit the copy, point DSPROGRESS_CHECKLIST at it and check it with
    `dsprogress checklist validate PATH`. Keep each item's key: it is the item's identity.
    """
    from sync.errors import ConfigError

    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; not overwriting it",
            hint="Choose another path, or pass --force to replace it.",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bundled_checklist_path().read_bytes())
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="Choose a path in a folder you can write to.",
        ) from None
    console.print(Text(f"Wrote {path}."))
    console.print(
        Text(
            f"Next: edit it, set DSPROGRESS_CHECKLIST={path} in .env and run "
            f"`dsprogress checklist validate {path}`."
        )
    )
