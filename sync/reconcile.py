"""PURE: the one birthplace of history.

Every time a row is seen — in a page of a query, or in Notion's answer to a create or an update —
`reconcile_row` compares it with what the state recorded for its key and returns the new recorded
state and the tick events the change makes. No other code makes a `TickEvent`: a tick the learner
makes while our write to the same row is in flight shows in the write's answer, and so it is
recorded like any other.

What did the learner change? The row's own base (`sync/row_base.py`: the last coherent state any
machine's tool wrote to it) is the reference, so every machine reads the same answer in Notion.
Only a row without a base (not yet written by this version) falls back to this state folder's
memory of the row (`done_raw`, `status_raw`, `tool_done_on`).

Which status did the learner mean? (`resolve_status`; Done and Status are two columns for one fact)

| Done | Status   | changed since the reference        | status                               |
| on   | Done     | -                                  | done                                 |
| off  | not Done | -                                  | what Status says                     |
| on   | not Done | only Status (the learner moved it) | what Status says (not done)          |
| off  | Done     | only Done (the learner unticked)   | in progress if it was, else not      |
|      |          |                                    | started                              |
| on   | not Done | Done, or both                      | done (never lose a tick)             |
| off  | Done     | Status, or both                    | done                                 |
| either mismatch | neither                         | as the reference says                |
| either mismatch | no reference                    | done                                 |

A value our own write just sent (`wrote`) is not a change by the learner.

Which events does an observation make? (`reconcile_row`)

| recorded state        | observed status | event                                               |
| none                  | any             | first sight: None -> status (`rebuilt` when the     |
|                       |                 | state folder never tracked this database before,    |
|                       |                 | unless the base shows the tick is new)              |
| status s              | s               | none                                                |
| done                  | done, Done on   | done -> done carrying the new Done on (re-dated;    |
|                       | changed         | not for the Done on our own write just filled)      |
| status s              | t != s          | s -> t (the window: the last run .. now)            |
| status s != not       | no row holds    | s -> not_started: the row is gone (trashed, or its  |
| started               | the key         | Key lost) and the state forgets the key             |

A done event carries the row's Done on (whoever filled it): the completion's day, the same on
every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sync.model import CUSTOM_PREFIX, STATUS_OPTIONS, ItemState, RemoteRow, Status, TickEvent
from sync.row_base import RowBase, parse_base

DONE_OPTION = "Done"
IN_PROGRESS_OPTION = "In progress"


@dataclass(frozen=True)
class Observation:
    """What one sight of a row did: the key's new recorded state, the events it made, the row's
    base as read, and whether the tool fills Done on (a tick new since the reference)."""

    state: ItemState
    events: tuple[TickEvent, ...] = ()
    base: RowBase | None = None
    fill_done_on: bool = False


@dataclass(frozen=True)
class Reference:
    """What the learner's fields are compared with: the row's base, else this machine's memory."""

    done: bool
    option: str | None
    status: Status
    was_in_progress: bool
    tool_done_on: date | None


def build_reference(base: RowBase | None, before: ItemState | None) -> Reference | None:
    """The row's base when it has one; else the state's last observation (None: never seen)."""
    if base is not None:
        status: Status = (
            "done" if base.done else STATUS_OPTIONS.get(base.status or "", "not_started")
        )
        return Reference(base.done, base.status, status, base.was_in_progress, base.tool_done_on)
    if before is None or before.done_raw is None:
        return None
    return Reference(
        before.done_raw,
        before.status_raw,
        before.status,
        before.in_progress_since is not None,
        before.tool_done_on,
    )


def resolve_status(
    done: bool, option: str | None, before: ItemState | None, base: RowBase | None = None
) -> Status:
    """The status the learner means when Done and Status are read together (see the table)."""
    return _resolve(done, option, build_reference(base, before))


def row_status(row: RemoteRow) -> Status:
    """A row's status read alone (no state folder's memory): against its own base, if any."""
    return resolve_status(row.done, row.status_option, None, parse_base(row.base))


def _resolve(done: bool, option: str | None, ref: Reference | None) -> Status:
    option_done = option == DONE_OPTION
    if done == option_done:
        # Coherent: both say done, or neither does and Status decides.
        return "done" if done else STATUS_OPTIONS.get(option or "", "not_started")
    if ref is None:
        return "done"  # never observed: done wins, never lose a tick
    done_changed = done != ref.done
    option_changed = option != ref.option
    if not done_changed and not option_changed:
        return ref.status  # as the reference says
    if done and option_changed and not done_changed:
        # Done still ticked, but the learner moved Status away from Done: Status wins.
        return STATUS_OPTIONS.get(option or "", "not_started")
    if option_done and done_changed and not option_changed:
        # Status still Done, but the learner unticked Done: back to where it was before.
        return "in_progress" if ref.was_in_progress else "not_started"
    return "done"  # the tick or Status Done is new, or both moved: done wins


def _as_written(ref: Reference | None, wrote: Mapping[str, Any]) -> Reference | None:
    """A row without a base: the remembered raw values with our own write applied, so a field
    we just wrote is not a change by the learner (a learner's change crossing it still wins)."""
    if ref is None or ("done" not in wrote and "status" not in wrote):
        return ref
    return replace(
        ref,
        done=bool(wrote["done"]) if "done" in wrote else ref.done,
        option=wrote.get("status", ref.option),
    )


def _tool_done_on(row: RemoteRow, ref: Reference | None, filled: date | None) -> date | None:
    """The Done on value the tool filled, if the row still holds it."""
    if row.done_on is None:
        return None
    if filled == row.done_on:
        return row.done_on
    if ref is not None and ref.tool_done_on == row.done_on:
        return row.done_on
    return None


def _in_progress_since(status: Status, before: ItemState | None, at: datetime) -> datetime | None:
    if before is None or before.status not in ("in_progress", "done"):
        return at if status == "in_progress" else None
    if status == "in_progress":
        return before.in_progress_since or at
    if status == "done":  # kept, so an untick can go back to In progress
        return before.in_progress_since
    return None


def _fills_done_on(
    status: Status, row: RemoteRow, base: RowBase | None, events: tuple[TickEvent, ...]
) -> bool:
    """Whether the tool fills Done on: a done row with it empty, whose tick is new since the
    base (any machine decides alike) — without a base, since this state's last sight."""
    if status != "done" or row.done_on is not None:
        return False
    if base is not None:
        return not base.done
    return any(e.to_status == "done" and e.from_status != "done" and not e.rebuilt for e in events)


def reconcile_row(
    key: str,
    row: RemoteRow,
    before: ItemState | None,
    *,
    at: datetime,
    window_start: datetime | None,
    rebuilt: bool,
    in_checklist: bool,
    wrote: Mapping[str, Any] | None = None,
    filled: date | None = None,
) -> Observation:
    """One sight of the row that holds `key`, against the state recorded for `key`.

    `rebuilt` says the state folder has never tracked this database (a new, lost or rebuilt
    state); `wrote` holds the values our own write just sent, when `row` is that write's answer,
    and `filled` the Done on it filled (only a fill makes a date the tool's).
    """
    base = parse_base(row.base)
    ref = build_reference(base, before)
    if base is None:
        ref = _as_written(ref, wrote or {})
    status = _resolve(row.done, row.status_option, ref)
    custom = key.startswith(CUSTOM_PREFIX)
    state = ItemState(
        key=key,
        page_id=row.page_id,
        title=row.title,
        level=row.level,
        category=row.category,
        order=row.order,
        status=status,
        done_on=row.done_on,
        notes=row.notes,
        evidence=row.evidence,
        url=row.url,
        custom=custom,
        retired=row.retired or (not custom and not in_checklist),
        in_progress_since=_in_progress_since(status, before, at),
        done_raw=row.done,
        status_raw=row.status_option,
        tool_done_on=_tool_done_on(row, ref, filled),
    )
    events = _events(key, row, before, status, at, window_start, rebuilt, base, filled)
    return Observation(state, events, base, _fills_done_on(status, row, base, events))


def _events(
    key: str,
    row: RemoteRow,
    before: ItemState | None,
    status: Status,
    at: datetime,
    window_start: datetime | None,
    rebuilt: bool,
    base: RowBase | None,
    filled: date | None,
) -> tuple[TickEvent, ...]:
    """The events one sight makes (see the table)."""
    previous = before.status if before is not None else None
    if before is not None and previous == status:
        # Re-dated: a done item whose Done on changed — unless our own write just filled the
        # day into an empty Done on (a fill over a date set in flight is a change, the race's).
        own_fill = filled is not None and row.done_on == filled and before.done_on is None
        redated = status == "done" and row.done_on not in (None, before.done_on) and not own_fill
        if not redated:
            return ()
    new_tick = base is not None and not base.done and status == "done"
    return (
        TickEvent(
            key=key,
            title=row.title,
            level=row.level,
            category=row.category,
            from_status=previous,
            to_status=status,
            observed_at=at,
            window_start=window_start if before is not None else None,
            edited_hint=row.last_edited_time,
            done_on=row.done_on if status == "done" else None,
            rebuilt=before is None and rebuilt and not new_tick,
        ),
    )


def reconcile_gone(
    key: str, before: ItemState, *, at: datetime, window_start: datetime | None
) -> tuple[TickEvent, ...]:
    """No row holds `key` any more and the state forgets it: its history ends not started, so
    replaying it agrees with the state (which knows nothing of the key) and with the counts."""
    if before.status == "not_started":
        return ()
    return (
        TickEvent(
            key=key,
            title=before.title,
            level=before.level,
            category=before.category,
            from_status=before.status,
            to_status="not_started",
            observed_at=at,
            window_start=window_start,
        ),
    )
