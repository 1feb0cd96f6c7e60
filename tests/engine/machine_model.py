"""The state machine's model: what Notion rows and each state folder should hold, and what one run
should do, written from the design's rules (not from the code): identity by Key, the oldest row
survives, Done and Status tell one story, the tool fills and clears only its own Done on, and what
the learner changed is read from the row's Sync base (else the folder's own memory)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

CUSTOM = "custom."
OPTIONS = {"Not started": "not_started", "In progress": "in_progress", "Done": "done"}
OPTIONS["Skipped"] = "skipped"
RETIRE_THRESHOLD = 0.25


def status_of(done: bool, option: str | None) -> str:
    """Done when Done is ticked or Status is Done; otherwise Status decides."""
    return "done" if done or option == "Done" else OPTIONS.get(option or "", "not_started")


@dataclass
class Page:
    """What one Notion row should hold."""

    page_id: str
    created_time: str
    key: str | None
    title: str
    own: bool
    done: bool = False
    status_option: str | None = None
    notes: str = ""
    done_on: str | None = None
    retired: bool = False
    trashed: bool = False
    base: Any = None  # the Sync base: a dict (see `new_base`), a damaged text, or None
    # The learner's last Done or Status action, when it must stand (see machine_races.py), and
    # the last Done on the learner set; the fields the learner moved since the tool's last base.
    intent: tuple[str, Any] | None = None
    intent_on: str | None = None
    moved: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        return status_of(self.done, self.status_option)

    @property
    def coherent(self) -> bool:
        return self.done == (self.status_option == "Done")

    def learner_view(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "status_option": self.status_option,
            "done_on": self.done_on,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Known:
    """What a state folder recorded for a key."""

    page_id: str
    status: str
    done_raw: bool
    status_raw: str | None
    tool_date: str | None = None
    was_in_progress: bool = False
    done_on: str | None = None  # the row's Done on at the last sight


def today() -> str:
    """The day the tool fills Done on with: runs use the real clock, in UTC."""
    return datetime.now(timezone.utc).date().isoformat()


def valid_base(base: Any) -> bool:
    """A base the tool reads: a dict of version 1 (a damaged or newer one counts as none)."""
    return isinstance(base, dict) and base.get("v") == 1


def new_base(
    done: bool,
    status: str | None,
    ip: bool = False,
    on: str | None = None,
    filled: bool = False,
) -> dict[str, Any]:
    """A Sync base as the tool writes it (the JSON the column holds)."""
    return {"v": 1, "done": done, "status": status, "ip": ip, "on": on, "filled": filled}


CREATED_BASE = new_base(False, "Not started")


@dataclass(frozen=True)
class Reference:
    """What the learner's fields are compared with: the row's base, else the folder's memory."""

    done: bool
    option: str | None
    status: str
    was_in_progress: bool
    tool_date: str | None


def reference(base: Any, before: Known | None) -> Reference | None:
    """The row's base when it is one (a dict of version 1), else the folder's last sight."""
    if valid_base(base):
        status = "done" if base["done"] else OPTIONS.get(base["status"] or "", "not_started")
        tool = base["on"] if base["filled"] else None
        return Reference(base["done"], base["status"], status, base["ip"], tool)
    if before is None:
        return None
    return Reference(
        before.done_raw, before.status_raw, before.status, before.was_in_progress, before.tool_date
    )


def resolve(done: bool, option: str | None, ref: Reference | None) -> str:
    """The design's table: the field the learner changed since the reference wins; a mismatch
    the reference already holds keeps its decision; with no reference, done wins."""
    if done == (option == "Done"):
        return status_of(done, option)
    if ref is None:
        return "done"
    done_changed, option_changed = done != ref.done, option != ref.option
    if not done_changed and not option_changed:
        return ref.status
    if done and option_changed and not done_changed:
        return OPTIONS.get(option or "", "not_started")
    if not done and done_changed and not option_changed:
        return "in_progress" if ref.was_in_progress else "not_started"
    return "done"


@dataclass
class Prediction:
    """What the model expects one run to do."""

    halt: str | None = None
    adopt: dict[str, str] = field(default_factory=dict)  # page_id -> new key
    restore: dict[str, str] = field(default_factory=dict)  # page_id -> the key it gets back
    creates: list[str] = field(default_factory=list)  # keys
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # page_id -> changes
    trash: set[str] = field(default_factory=set)  # duplicates merged, then trashed
    fills: set[str] = field(default_factory=set)  # page ids that get today as Done on
    ticks: list[tuple[str, str | None, str]] = field(default_factory=list)
    chosen: dict[str, str] = field(default_factory=dict)  # key -> page_id
    known: dict[str, Known] = field(default_factory=dict)  # key -> recorded after the run
    conflicts: set[str] = field(default_factory=set)  # keys whose duplicates are kept
    unknown: set[str] = field(default_factory=set)  # page ids reported with an unknown Key
    merged: set[str] = field(default_factory=set)  # page ids in a group of two or more rows

    @property
    def is_noop(self) -> bool:
        return not (
            self.adopt
            or self.restore
            or self.creates
            or any(self.updates.values())
            or self.trash
            or self.fills
            or self.ticks
        )

    def update(self, page_id: str, changes: Mapping[str, Any]) -> None:
        self.updates.setdefault(page_id, {}).update(changes)


def created_order(page: Page) -> tuple[str, str]:
    return (page.created_time, page.page_id)


def merge(survivor: Page, others: list[Page]) -> tuple[dict[str, Any], bool]:
    """The learner's fields folded into the survivor: done wins, notes joined, the earliest date;
    two different Status choices (not done) conflict."""
    group = [survivor, *others]
    changes: dict[str, Any] = {}
    conflict = False
    if any(p.status == "done" for p in group):
        if not survivor.done:
            changes["done"] = True
        if survivor.status_option != "Done":
            changes["status_option"] = "Done"
    else:
        chosen = {p.status_option for p in group if p.status_option not in (None, "Not started")}
        conflict = len(chosen) > 1
        if len(chosen) == 1 and survivor.status_option not in chosen:
            changes["status_option"] = next(iter(chosen))
    days = sorted(p.done_on for p in group if p.done_on)
    if days and survivor.done_on != days[0]:
        changes["done_on"] = days[0]
    notes = survivor.notes
    for other in others:
        if other.notes and other.notes not in notes:
            notes = f"{notes}\n\n{other.notes}" if notes else other.notes
    if notes != survivor.notes:
        changes["notes"] = notes
    return changes, conflict


def predict(
    pages: Mapping[str, Page],
    state: Mapping[str, Known],
    *,
    titles: Mapping[str, str],
    used_keys: set[str],
    tracking: bool,
    mode: str,
    force: bool,
) -> Prediction:
    """One run by a state folder holding `state`, against Notion holding `pages`."""
    out = Prediction()
    live = [p for p in pages.values() if not p.trashed]
    if not live and state and not force:
        return Prediction(halt="no rows")
    # identity
    page_to_key = {k.page_id: key for key, k in state.items()}
    groups: dict[str, list[Page]] = {}
    keyless = []
    for page in live:
        known = page_to_key.get(page.page_id)
        if known is None and page.key is None:
            keyless.append(page)
            continue
        key = known if known is not None else str(page.key)
        valid = key.startswith(CUSTOM) or key in titles
        if not valid and known is None and key not in state and not page.retired:
            out.unknown.add(page.page_id)
            continue
        if page.key != key:
            out.restore[page.page_id] = key
        groups.setdefault(key, []).append(page)
    taken = set(groups) | set(state) | used_keys
    for page in sorted(keyless, key=created_order):
        base = CUSTOM + page.title.lower().replace(" ", "-")
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        taken.add(key)
        out.adopt[page.page_id] = key
        groups[key] = [page]
    # survivors: the oldest row, the others merged into it
    views: dict[str, tuple[Page, dict[str, Any]]] = {}
    for key, group in sorted(groups.items()):
        survivor, *others = sorted(group, key=created_order)
        view = survivor.learner_view()
        if others:
            out.merged |= {p.page_id for p in group}
            changes, conflict = merge(survivor, others)
            view.update(changes)
            if changes:
                out.update(survivor.page_id, changes)
            if conflict:
                out.conflicts.add(key)
            else:
                out.trash |= {p.page_id for p in others}
        views[key] = (survivor, view)
        out.chosen[key] = survivor.page_id
    # a Key is not put back on a duplicate about to go to the trash
    out.restore = {pid: key for pid, key in out.restore.items() if pid not in out.trash}
    # observe: what the learner changed is read against the row's base (else this folder's memory)
    refs: dict[str, Reference | None] = {}
    for key, (survivor, view) in views.items():
        before = state.get(key)
        ref = refs[key] = reference(survivor.base, before)
        status = resolve(view["done"], view["status_option"], ref)
        if before is None or before.status != status:
            out.ticks.append((key, before.status if before else None, status))
        elif status == "done" and view["done_on"] and view["done_on"] != before.done_on:
            out.ticks.append((key, "done", "done"))  # re-dated: the completion moves
        tool = ref.tool_date if ref is not None and ref.tool_date == view["done_on"] else None
        out.known[key] = Known(
            survivor.page_id,
            status,
            view["done"],
            view["status_option"],
            tool,
            status == "in_progress"
            or (
                status == "done"
                and before is not None
                and before.status in ("in_progress", "done")
                and before.was_in_progress
            ),
            view["done_on"],
        )
    # content
    if mode in ("push", "sync"):
        retiring = 0
        for key in titles:
            if key not in views:
                out.creates.append(key)
                continue
            survivor = views[key][0]
            if survivor.title != titles[key]:
                out.update(survivor.page_id, {"title": titles[key]})
            if survivor.retired:
                out.update(survivor.page_id, {"retired": False})
        for key, (survivor, _) in views.items():
            if not key.startswith(CUSTOM) and key not in titles and not survivor.retired:
                retiring += 1
                out.update(survivor.page_id, {"retired": True})
        checklist_rows = sum(1 for key in views if not key.startswith(CUSTOM))
        if not force and checklist_rows and retiring > RETIRE_THRESHOLD * checklist_rows:
            return Prediction(halt=f"{retiring} of {checklist_rows} rows would be retired")
    # gone: a key no row holds any more (and not created again) ends its history not started
    for key, before in state.items():
        if key not in views and key not in out.creates and before.status != "not_started":
            out.ticks.append((key, before.status, "not_started"))
    # learner: Done and Status made to agree, Done on filled or cleared when the tool's, and the
    # row's new base, all in one write
    for key, (survivor, view) in views.items():
        changes = learner_changes(survivor, view, out.known[key], state.get(key), tracking)
        if changes.pop("fill", False):
            out.fills.add(survivor.page_id)
        if changes:
            out.update(survivor.page_id, changes)
            out.known[key] = replace(out.known[key], tool_date=_tool_date(changes["base"]))
    return out


def _tool_date(base: dict[str, Any]) -> str | None:
    return base["on"] if base["filled"] else None


def learner_changes(
    survivor: Page, view: Mapping[str, Any], known: Known, before: Known | None, tracking: bool
) -> dict[str, Any]:
    """The derived write for one row (`fill`: Done on gets today; `base`: the new Sync base)."""
    ref = reference(survivor.base, before)
    has_base = valid_base(survivor.base)
    done = known.status == "done"
    changes: dict[str, Any] = {}
    fill = False
    if done:
        if not view["done"]:
            changes["done"] = True
        if view["status_option"] != "Done":
            changes["status_option"] = "Done"
        if not view["done_on"]:  # a tick new since the base (no base: since this folder's sight)
            if has_base:
                fill = not survivor.base["done"]
            else:
                fill = (before is not None and before.status != "done") or (
                    before is None and tracking
                )
    else:
        if view["done"]:
            changes["done"] = False
        if view["status_option"] == "Done":
            changes["status_option"] = (
                "In progress" if known.status == "in_progress" else "Not started"
            )
        if view["done_on"] and view["done_on"] == known.tool_date:
            changes["done_on"] = None
    if not changes and not fill and not (has_base and survivor.base["done"] != done):
        return {}
    on = today() if fill else changes.get("done_on", view["done_on"])
    filled = fill or (known.tool_date is not None and known.tool_date == on)
    ip = done and (
        view["status_option"] == "In progress"
        or (
            ref is not None
            and has_base
            and (ref.was_in_progress if ref.done else ref.option == "In progress")
        )
        or known.was_in_progress
    )
    status = changes.get("status_option", view["status_option"])
    changes["base"] = new_base(done, status, ip, on, filled and on is not None)
    if fill:
        changes["fill"] = True
    return changes
