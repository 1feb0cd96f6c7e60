"""`dsprogress doctor`: the Progress dashboard. Says what is missing or refused; `--fix` restores
the missing widgets (or the whole tab) and retries a refused one. Syncs never restore: a widget
or tab the learner deleted stays deleted until they ask.
"""

from __future__ import annotations

from sync.cockpit_sync import Where, build_cockpit, restore_widgets, write_cockpit_mark
from sync.config import Settings
from sync.doctor_local import CheckResult, skip_check
from sync.errors import DsprogressError, NotionNotFoundError
from sync.lock import hold_sync_lock
from sync.notion.adapter import AmbiguousWriteError, NotionAdapter
from sync.notion.cockpit import TITLES, WIDGETS, can_build
from sync.notion.mark import Cockpit, parse_mark
from sync.store import open_store

NAME = "progress tab"
FIX = (
    "Run `dsprogress doctor --fix` to restore it; leave it if you removed it on purpose "
    "(no sync puts it back)."
)


def check_cockpit(
    settings: Settings,
    notion: NotionAdapter,
    database_id: str | None,
    data_source_id: str | None,
    *,
    fix: bool = False,
) -> CheckResult:
    """What the database's mark says of the Progress dashboard, checked against Notion."""
    if database_id is None or data_source_id is None:
        return skip_check(NAME, "skipped: needs a reachable database")
    try:
        database = notion.fetch_database(database_id)
        mark = parse_mark(database.get("description"))
        if mark is None or not can_build(mark.column_ids):
            return skip_check(NAME, "not yet: the next sync marks the database, then adds it")
        where = Where(
            database_id,
            data_source_id,
            dict(mark.column_ids),
            settings.week_start == "sun",
            mark.views,
        )
        cockpit = mark.cockpit
        if cockpit is None or cockpit.refused is not None:
            return _absent(settings, notion, where, cockpit, fix=fix)
        missing = _missing(notion, cockpit)
        if not missing:
            return CheckResult(NAME, True, f"the Progress tab with its {len(WIDGETS)} widgets")
        if not fix:
            return CheckResult(
                NAME,
                True,
                "missing from the Progress tab: " + ", ".join(missing),
                FIX,
                warning=True,
            )
        return _restore(settings, notion, where, cockpit, missing)
    except (DsprogressError, AmbiguousWriteError) as exc:
        return CheckResult(NAME, False, f"could not check the Progress tab ({exc})", FIX)


def _absent(
    settings: Settings,
    notion: NotionAdapter,
    where: Where,
    cockpit: Cockpit | None,
    *,
    fix: bool,
) -> CheckResult:
    if not fix:
        if cockpit is not None:
            return CheckResult(
                NAME,
                True,
                f"Notion refused the Progress tab ({cockpit.refused})",
                "Run `dsprogress doctor --fix` to try again (after a plan change, say).",
                warning=True,
            )
        if not settings.notion_cockpit:
            return skip_check(NAME, "off (DSPROGRESS_NOTION_COCKPIT=false)")
        return skip_check(NAME, "not yet: the next sync adds it")
    with (
        hold_sync_lock(settings.state_dir, settings.lock_timeout),
        open_store(settings.state_dir) as store,
    ):
        database = build_cockpit(notion, store, where, fresh=False, replacing=cockpit)
    made = parse_mark((database or {}).get("description"))
    if made is None or made.cockpit is None or made.cockpit.refused is not None:
        if database is None:
            return CheckResult(NAME, True, "another machine added the Progress tab meanwhile")
        reason = made.cockpit.refused if made and made.cockpit else "no answer"
        return CheckResult(NAME, False, f"Notion refused the Progress tab again ({reason})", FIX)
    return CheckResult(NAME, True, "added the Progress tab")


def _missing(notion: NotionAdapter, cockpit: Cockpit) -> list[str]:
    """The tab's parts that are gone from Notion: "the tab" itself, or widgets by title."""
    assert cockpit.dashboard_id is not None
    if not _exists(notion, cockpit.dashboard_id):
        return ["the tab"]
    return [
        TITLES[name]
        for name in WIDGETS
        if name not in cockpit.widgets or not _exists(notion, cockpit.widgets[name])
    ]


def _exists(notion: NotionAdapter, view_id: str) -> bool:
    try:
        notion.fetch_view(view_id)
    except NotionNotFoundError:
        return False
    return True


def _restore(
    settings: Settings, notion: NotionAdapter, where: Where, cockpit: Cockpit, missing: list[str]
) -> CheckResult:
    with hold_sync_lock(settings.state_dir, settings.lock_timeout):
        if missing == ["the tab"]:
            with open_store(settings.state_dir) as store:
                build_cockpit(notion, store, where, fresh=False, replacing=cockpit)
            return CheckResult(NAME, True, "restored the Progress tab")
        names = [name for name in WIDGETS if TITLES[name] in missing]
        restored = restore_widgets(notion, where, cockpit, names)
        write_cockpit_mark(notion, where, restored)
    return CheckResult(NAME, True, "restored in the Progress tab: " + ", ".join(missing))
