"""`dsprogress doctor`: every check as data, each failure with the fix that solves it.

A check returns a `CheckResult`; the CLI prints one line per result and exits 0 only when none
failed. The schema comparison and its repair are pure (`sync.notion.schema_check`); this module
does the I/O. `--fix` repairs only the columns dsprogress owns (`build_schema_repair`) and writes
back, from the state of the last sync, learner values that went with a column (ticks, Status,
Done on, Notes, Evidence); the learner's own columns are never touched. The local checks live in
`sync.doctor_local`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sync.access import TokenInfo, describe_token_kind, page_title, parse_token_owner
from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.config import Settings, load_settings, require_notion
from sync.database_choice import choose_database_id
from sync.discovery import pick_data_source
from sync.doctor_cockpit import check_cockpit
from sync.doctor_database import (
    build_choice_detail,
    check_database_state,
    check_discovered,
    check_other_databases,
    explain_not_found,
)
from sync.doctor_local import (
    CheckResult,
    check_channels,
    check_checklist,
    check_schedule,
    check_state_dir,
    check_state_files,
    read_recorded_meta,
    skip_check,
)
from sync.errors import DsprogressError, NotionAuthError, NotionNotFoundError, StateError
from sync.lock import hold_sync_lock
from sync.model import FIELD_BY_NAME
from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import build_page_properties, resolve_columns
from sync.notion.schema_check import (
    build_restore_values,
    build_schema_repair,
    build_select_defaults,
    check_schema,
)
from sync.notion.versions import is_in_trash
from sync.store import open_store

T = TypeVar("T")
FIX_COMMAND = (
    "Run `dsprogress doctor --fix`: it adds back dsprogress's columns and never touches yours."
)
__all__ = ["CheckResult", "check_configuration", "check_schema", "run_doctor"]


# -- configuration -------------------------------------------------------------------------------
def check_configuration(env_file: Path | None) -> tuple[CheckResult, Settings | None]:
    """Settings load (every problem listed) and name what a sync needs.

    The settings are returned whenever they load, so the local checks still run when only the
    Notion variables are missing.
    """
    name = "configuration"
    try:
        settings = load_settings(env_file)
    except DsprogressError as exc:
        return CheckResult(name, False, exc.message, exc.hint, details=tuple(exc.details)), None
    try:
        require_notion(settings, env_file)
    except DsprogressError as exc:
        result = CheckResult(name, False, exc.message, exc.hint, details=tuple(exc.details))
        return result, settings
    source = f"{env_file} and the environment" if env_file and env_file.is_file() else "environment"
    return CheckResult(name, True, f"valid (read from {source})"), settings


INTERNAL_BLOCK_LIMIT_NOTE = (
    "In a Free workspace with more than one member, Notion allows internal connections 1,000 "
    "blocks in all (each row and each digest page's blocks count; doctor cannot see the plan). "
    "A personal access token is exempt: https://www.notion.so/developers/tokens -> New token."
)


# -- the run -------------------------------------------------------------------------------------
@dataclass
class _Context:
    settings: Settings
    notion: NotionAdapter
    fix: bool
    token: TokenInfo | None = None
    visible_pages: int | None = None
    data_source_id: str | None = None
    database_id: str | None = None  # the database a sync would use, when reachable
    results: list[CheckResult] = field(default_factory=list)


def run_doctor(
    settings: Settings,
    *,
    fix: bool = False,
    send_test: bool = False,
    adapter: NotionAdapter | None = None,
    checklist: Checklist | None = None,
) -> list[CheckResult]:
    """Every check after the configuration one, in the order the issue lists them."""
    token = settings.token or ""
    notion = adapter or NotionAdapter(
        token,
        settings.notion_base_url,
        rate_limit=settings.rate_limit,
        notion_version=settings.notion_version,
    )
    ctx = _Context(settings, notion, fix)
    try:
        ctx.results.append(_check_token(ctx))
        ctx.results.append(_check_parent(ctx))
        ctx.results.append(_check_database(ctx))
        ctx.results.extend(_check_others(ctx))
        ctx.results.append(_check_schema_live(ctx, checklist))
        ctx.results.append(
            check_cockpit(ctx.settings, notion, ctx.database_id, ctx.data_source_id, fix=ctx.fix)
        )
    finally:
        if adapter is None:
            notion.close()
    ctx.results.append(check_checklist(settings.checklist))
    ctx.results.append(check_state_dir(settings.state_dir))
    ctx.results.append(check_state_files(settings.state_dir))
    ctx.results.append(check_schedule(settings, datetime.now(timezone.utc)))
    ctx.results.extend(check_channels(settings, send_test=send_test))
    return ctx.results


def _guard(name: str, run: Callable[[], CheckResult]) -> CheckResult:
    try:
        return run()
    except DsprogressError as exc:
        return CheckResult(name, False, exc.message, exc.hint)


def _check_token(ctx: _Context) -> CheckResult:
    if ctx.settings.token is None:
        return CheckResult(
            "token", False, "NOTION_TOKEN is not set", "Run `dsprogress init` to set it up."
        )

    def run() -> CheckResult:
        try:
            ctx.token = parse_token_owner(ctx.notion.fetch_me())
        except NotionAuthError as exc:
            return CheckResult("token", False, "Notion rejected NOTION_TOKEN", exc.hint)
        kind = describe_token_kind(ctx.token.kind)
        where = f" in workspace {ctx.token.workspace!r}" if ctx.token.workspace else ""
        accepted = f"accepted: {kind} {ctx.token.name!r}{where}"
        if ctx.token.kind == "integration":
            ctx.visible_pages = len(ctx.notion.search_pages(limit=1))
            return CheckResult("token", True, accepted, details=(INTERNAL_BLOCK_LIMIT_NOTE,))
        return CheckResult("token", True, accepted)

    return _guard("token", run)


def _probe(call: Callable[[], T]) -> T | None:
    try:
        return call()
    except DsprogressError:
        return None


def _check_parent(ctx: _Context) -> CheckResult:
    page_id = ctx.settings.notion_parent_page_id
    if ctx.token is None:
        return skip_check("parent page", "skipped: needs an accepted token")
    if page_id is None:
        return skip_check("parent page", "not set (fine: NOTION_DATABASE_ID names the database)")

    def run() -> CheckResult:
        try:
            page = ctx.notion.fetch_page(page_id)
        except NotionNotFoundError:
            database = _probe(lambda: ctx.notion.fetch_database(page_id))
            if database is not None:
                return CheckResult(
                    "parent page",
                    False,
                    f"NOTION_PARENT_PAGE_ID {page_id} is a database, not a page",
                    f"To use that database, set NOTION_DATABASE_ID={page_id} instead; or set "
                    "NOTION_PARENT_PAGE_ID to the page that should hold a new one.",
                )
            detail, fix = explain_not_found(
                "the page", page_id, "NOTION_PARENT_PAGE_ID", ctx.token, ctx.visible_pages
            )
            return CheckResult("parent page", False, detail, fix)
        if is_in_trash(page):
            return CheckResult(
                "parent page",
                False,
                f"the page {page_title(page)!r} is in Notion's Trash",
                "Restore it from the Trash (Notion sidebar -> Trash), or pick another page.",
            )
        return CheckResult("parent page", True, f"reachable: {page_title(page)!r}")

    return _guard("parent page", run)


def _check_database(ctx: _Context) -> CheckResult:
    """Which database a sync would use, and why (as `sync.database_choice` chooses it)."""
    name = "database"
    if ctx.token is None:
        return skip_check(name, "skipped: needs an accepted token")
    recorded = read_recorded_meta(ctx.settings.state_dir)
    configured = ctx.settings.notion_database_id
    database_id = choose_database_id(configured, recorded.get("database_id"))
    variable = "NOTION_DATABASE_ID" if configured else "recorded in the state"
    parent = ctx.settings.notion_parent_page_id
    parent_ok = any(r.name == "parent page" and r.ok and not r.skipped for r in ctx.results)
    if database_id is None:
        if not parent_ok:
            return skip_check(name, "skipped: needs a reachable parent page")
        _, found = check_other_databases(ctx.notion, parent, None)
        result = check_discovered(found)
        if result.ok and not result.skipped:
            ctx.data_source_id = found[0].data_source_id
        return result

    def run() -> CheckResult:
        try:
            database = ctx.notion.fetch_database(database_id)
        except NotionNotFoundError:
            return _explain_missing_database(ctx, database_id, variable, recorded)
        problem = check_database_state(database_id, database)
        if problem is not None:
            return problem
        ctx.data_source_id = (
            recorded.get("data_source_id")
            if not configured or configured == recorded.get("database_id")
            else None
        ) or pick_data_source(ctx.notion, database)
        why = "NOTION_DATABASE_ID" if configured else "recorded in the state folder"
        return CheckResult(name, True, build_choice_detail(why, database))

    result = _guard(name, run)
    if result.ok:
        ctx.database_id = database_id
    return result


def _check_others(ctx: _Context) -> list[CheckResult]:
    """A warning when the parent page holds checklist databases besides the one in use."""
    parent_ok = any(r.name == "parent page" and r.ok and not r.skipped for r in ctx.results)
    if ctx.database_id is None or not parent_ok:
        return []
    warning, _ = check_other_databases(
        ctx.notion, ctx.settings.notion_parent_page_id, ctx.database_id
    )
    return [warning] if warning is not None else []


def _explain_missing_database(
    ctx: _Context, database_id: str, variable: str, recorded: Mapping[str, Any]
) -> CheckResult:
    name = "database"
    view = _probe(lambda: ctx.notion.fetch_view(database_id))
    if view is not None:
        real = (view.get("parent") or {}).get("database_id")
        return CheckResult(
            name,
            False,
            f"{database_id} ({variable}) is a view id: the `?v=` part of a database link",
            f"Set NOTION_DATABASE_ID={real}" if real else _LINK_FIX,
        )
    source = _probe(lambda: ctx.notion.fetch_data_source(database_id))
    if source is not None:
        parent = source.get("parent") or {}
        real = parent.get("database_id") or (source.get("database_parent") or {}).get("database_id")
        return CheckResult(
            name,
            False,
            f"{database_id} ({variable}) is a data source id, not the database's id",
            f"Set NOTION_DATABASE_ID={real}" if real else _LINK_FIX,
        )
    page = _probe(lambda: ctx.notion.fetch_page(database_id))
    if page is not None:
        return CheckResult(
            name,
            False,
            f"{database_id} ({variable}) is a page, not a database (an inline database's link "
            "shows the page around it)",
            _LINK_FIX,
        )
    if recorded.get("database_id") == database_id and ctx.settings.notion_parent_page_id:
        parent_ok = any(r.name == "parent page" and r.ok and not r.skipped for r in ctx.results)
        if parent_ok:
            return CheckResult(
                name,
                False,
                f"the checklist database {database_id} is gone (deleted, or moved out of the "
                "shared page)",
                "Restore it from Notion's Trash. To start over with a new database instead, "
                "move the state folder away and run `dsprogress init`.",
            )
    detail, fix = explain_not_found(
        "the database", database_id, variable, ctx.token, ctx.visible_pages
    )
    return CheckResult(name, False, detail, fix)


_LINK_FIX = (
    "Open the database as a full page, ... -> Copy link, and use the id before `?v=` "
    "(dsprogress ignores the `?v=` part of a full link)."
)


def _check_schema_live(ctx: _Context, checklist: Checklist | None) -> CheckResult:
    name = "schema"
    if ctx.data_source_id is None:
        return skip_check(name, "skipped: needs a reachable database")
    data_source_id = ctx.data_source_id

    def run() -> CheckResult:
        recorded: dict[str, str] = read_recorded_meta(ctx.settings.state_dir).get("column_ids", {})
        source = ctx.notion.fetch_data_source(data_source_id)
        properties = source.get("properties", {})
        report = check_schema(properties, recorded)
        if not report.problems:
            return CheckResult(name, True, "matches", details=report.notes)
        if not ctx.fix:
            return CheckResult(
                name,
                False,
                f"{len(report.problems)} problem{'s' if len(report.problems) != 1 else ''}",
                FIX_COMMAND,
                details=report.problems + report.notes,
            )
        lines = _repair_schema(ctx, data_source_id, properties, recorded, checklist)
        return CheckResult(name, True, "repaired", details=tuple(lines))

    return _guard(name, run)


def _repair_schema(
    ctx: _Context,
    data_source_id: str,
    properties: Mapping[str, Any],
    recorded: Mapping[str, str],
    checklist: Checklist | None,
) -> list[str]:
    settings = ctx.settings
    options = build_select_defaults(checklist or load_checklist(settings.checklist))
    with hold_sync_lock(settings.state_dir, settings.lock_timeout):
        repair = build_schema_repair(properties, recorded, options)
        if repair.renames:
            ctx.notion.update_data_source(data_source_id, dict(repair.renames))
        if repair.additions:
            ctx.notion.update_data_source(data_source_id, dict(repair.additions))
        source = ctx.notion.fetch_data_source(data_source_id)
        columns = resolve_columns(source.get("properties", {}), repair.recorded_ids)
        if columns.missing or columns.retyped:
            raise StateError(
                "the schema still does not match after the repair",
                hint="Run `dsprogress doctor` again to see what is left; fix it in Notion.",
            )
        lines = list(repair.lines)
        with open_store(settings.state_dir) as store:
            store.set_json_meta("column_ids", columns.ids)
            items = store.load_items() if repair.restore else {}
        restored = failed = 0
        for item in items.values():
            values = build_restore_values(item, repair.restore)
            if not values:
                continue
            try:
                ctx.notion.update_row(item.page_id, build_page_properties(values, columns))
                restored += 1
            except DsprogressError:
                failed += 1
        if restored:
            fields = ", ".join(FIELD_BY_NAME[f].default_name for f in repair.restore)
            lines.append(f"wrote back {fields} of {restored} rows from the last sync")
        if failed:
            lines.append(f"{failed} rows could not be written back (in the Trash?)")
    return lines
