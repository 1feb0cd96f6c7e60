"""`dsprogress init`: from nothing to a working checklist in Notion.

Pure pieces (`build_env_file`) and the I/O around them (`write_env_file`, `run_init`); what the
token can reach (who it acts as, which pages) is in `sync.access`. The CLI does the asking; this
module never prints and never reads the terminal. The token goes into `.env` (mode 0600) and
nowhere else.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sync.checklist_files import load_checklist
from sync.config import (
    DEFAULT_BASE_URL,
    ENV_FILE_ENCODING,
    Settings,
    check_env_file,
    load_settings,
)
from sync.discovery import FoundDatabase, build_several_found_error, find_checklist_databases
from sync.engine import ProgressCallback, SyncReport, run_sync
from sync.errors import (
    ConfigError,
    StateError,
)
from sync.logs import register_secret
from sync.notion.adapter import NotionAdapter, RetryCallback
from sync.private_files import make_private_dir, remove_stale_files, write_private_file
from sync.store import STATE_FILE, open_store

ENV_HEADER = (
    "# dsprogress settings, written by `dsprogress init`. Keep this file private (mode 600):\n"
    "# it holds your Notion token. dsprogress reads it from the folder you run it in.\n"
    "# Every other setting: `dsprogress init --print-env-example`.\n"
)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_@%+=:,./~-]*$")


# -- the .env file -------------------------------------------------------------------------------
def build_env_file(values: Mapping[str, str | None], existing: str | None = None) -> str:
    """The text of `.env` with `values` set (None removes a variable).

    With `existing`, every other line (comments, other settings) is kept in place and only the
    given variables are replaced or appended, so rerunning init never loses SMTP settings.
    """
    for name, value in values.items():
        if value is not None and ("\n" in value or "\r" in value):
            raise ConfigError(f"{name}: a value cannot span lines")
    pending = dict(values)
    lines: list[str] = []
    for line in (existing or "").splitlines():
        match = _ENV_LINE.match(line)
        variable = match.group(1) if match else None
        if variable is not None and variable in values:
            if variable in pending:
                new_value = pending.pop(variable)
                if new_value is not None:
                    lines.append(f"{variable}={_quote(new_value)}")
            continue  # a repeated or removed variable: drop the line
        lines.append(line)
    if existing is None:
        lines = ENV_HEADER.rstrip("\n").split("\n")
    additions = [f"{name}={_quote(v)}" for name, v in pending.items() if v is not None]
    if additions and lines and lines[-1].strip():
        lines.append("")
    lines.extend(additions)
    return "\n".join(lines).rstrip("\n") + "\n"


def _quote(value: str) -> str:
    if _SAFE_VALUE.match(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_env_file(path: Path, text: str, *, overwrite: bool = False) -> Path:
    """Write `.env` atomically with mode 0600; refuse to replace an existing file unless told."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConfigError(
            f"{path} already exists; not overwriting it",
            hint="Rerun `dsprogress init` and answer yes when asked, or pass --force "
            "(your other settings in it are kept).",
        )
    directory = path.parent if str(path.parent) else Path(".")
    try:
        remove_stale_files(directory, ".env.dsprogress-*.tmp")
        write_private_file(path, text, prefix=".env.dsprogress-")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="Run init from a folder you can write to, or pass --env-file.",
        ) from None
    return path


def read_env_text(path: Path) -> str | None:
    """The text of an existing `.env`, or None; ConfigError when it is unreadable or not UTF-8."""
    check_env_file(Path(path))
    try:
        return Path(path).read_text(encoding=ENV_FILE_ENCODING)
    except FileNotFoundError:
        return None


# -- the whole init ------------------------------------------------------------------------------
@dataclass(frozen=True)
class InitChoices:
    """Everything init needs, gathered by the CLI (prompts or options)."""

    token: str
    parent_page_id: str | None = None
    database_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    state_dir: Path | None = None
    timezone: str | None = None
    checklist: Path | None = None

    def env_values(self) -> dict[str, str | None]:
        values: dict[str, str | None] = {"NOTION_TOKEN": self.token}
        values["NOTION_PARENT_PAGE_ID"] = self.parent_page_id
        values["NOTION_DATABASE_ID"] = self.database_id
        if self.base_url.rstrip("/") != DEFAULT_BASE_URL:
            values["NOTION_BASE_URL"] = self.base_url
        if self.state_dir is not None:
            values["DSPROGRESS_STATE_DIR"] = str(self.state_dir)
        if self.timezone:
            values["DSPROGRESS_TIMEZONE"] = self.timezone
        if self.checklist is not None:
            values["DSPROGRESS_CHECKLIST"] = str(self.checklist)
        return values


@dataclass
class InitReport:
    env_path: Path
    state_dir: Path
    sync: SyncReport | None = None
    database_url: str | None = None
    views: list[dict[str, str]] = field(default_factory=list)
    found_database_url: str | None = None  # an existing checklist database init now uses


def fetch_existing_database(notion: NotionAdapter, parent_page_id: str) -> FoundDatabase | None:
    """The learner's checklist database under the page, if there is one (the same discovery as
    a sync); several are a SafetyHaltError listing them."""
    found = find_checklist_databases(notion, parent_page_id)
    if len(found) > 1:
        raise build_several_found_error(
            found,
            "Rerun init with --database URL to choose the one to keep; move the others to "
            "Notion's Trash when you no longer need them.",
        )
    return found[0] if found else None


def run_init(
    choices: InitChoices,
    *,
    env_path: Path,
    overwrite: bool = False,
    first_sync: bool = True,
    adapter: NotionAdapter | None = None,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[float], None] | None = None,
    on_retry: RetryCallback | None = None,
    on_env_written: Callable[[Path], None] | None = None,
) -> InitReport:
    """Find the checklist database under the page (or plan a new one), write `.env` with
    NOTION_DATABASE_ID, then run the first sync (which creates the database when there was none)."""
    register_secret(choices.token)
    if choices.parent_page_id is None and choices.database_id is None:
        raise ConfigError(
            "no parent page and no database chosen",
            hint="Pass --parent PAGE_URL (or --database DATABASE_URL).",
        )
    existing = read_env_text(env_path)
    # Validate before writing, so a bad option never leaves a broken .env behind: the old file
    # with our values on top is what the new file will say.
    settings = load_settings(env_path if existing is not None else None, **choices.env_values())
    _check_state_dir(settings.state_dir)
    checklist = load_checklist(settings.checklist)
    found: FoundDatabase | None = None
    if choices.database_id is None and choices.parent_page_id is not None:
        found = _find_database(choices, choices.parent_page_id, settings, adapter)
        if found is not None:
            choices = replace(choices, database_id=found.database_id)
            settings = load_settings(
                env_path if existing is not None else None, **choices.env_values()
            )
        else:
            _forget_recorded_database(settings.state_dir)
    text = build_env_file(choices.env_values(), existing)
    write_env_file(env_path, text, overwrite=overwrite)
    if on_env_written is not None:
        on_env_written(env_path)
    report = InitReport(env_path=env_path, state_dir=settings.state_dir)
    report.found_database_url = found.url if found is not None else None
    if not first_sync:
        return report
    report.sync = run_sync(
        settings,
        checklist,
        mode="sync",
        adapter=adapter,
        progress=progress,
        on_wait=on_wait,
        on_retry=on_retry,
    )
    _record_after_sync(report, report.sync, choices, env_path)
    return report


def _find_database(
    choices: InitChoices, parent_page_id: str, settings: Settings, adapter: NotionAdapter | None
) -> FoundDatabase | None:
    """The checklist database already under the page, if any (the adapter given, or a new one)."""
    notion = adapter or NotionAdapter(
        choices.token,
        choices.base_url,
        rate_limit=settings.rate_limit,
        notion_version=settings.notion_version,
    )
    try:
        return fetch_existing_database(notion, parent_page_id)
    finally:
        if adapter is None:
            notion.close()


def _record_after_sync(
    report: InitReport, sync: SyncReport, choices: InitChoices, env_path: Path
) -> None:
    """The database's URL and views as the first sync left them; a database the sync created is
    written to `.env` as NOTION_DATABASE_ID."""
    with open_store(report.state_dir) as store:
        report.database_url = store.get_meta("database_url") or sync.database_url
        report.views = list(store.get_json_meta("views") or [])
    if choices.database_id is None and sync.database_id:
        values = {"NOTION_DATABASE_ID": sync.database_id}
        write_env_file(env_path, build_env_file(values, read_env_text(env_path)), overwrite=True)


def _forget_recorded_database(state_dir: Path) -> None:
    """Init under a page without a checklist database starts over: a database the state still
    records (in the Trash, or under another page) is no longer the one to use; its rows neither.
    The history stays."""
    if not (state_dir / STATE_FILE).is_file():
        return
    try:
        store = open_store(state_dir)
    except StateError:
        return  # a damaged state: the first sync moves it aside and starts afresh anyway
    with store:
        if store.get_meta("database_id") is not None:
            store.forget_database()


def _check_state_dir(state_dir: Path) -> None:
    try:
        make_private_dir(state_dir)
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".probe-"):
            pass
    except OSError as exc:
        raise StateError(
            f"cannot write to the state folder {state_dir}: {exc.strerror or exc}",
            hint="Pass --state-dir with a folder you can write to (or fix its permissions).",
        ) from None
