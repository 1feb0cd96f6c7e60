"""PURE: the one birthplace of history.

Every time a row is seen — in a page of a query, or in Notion's answer to a create or an update —
`reconcile_row` compares it with what the state recorded for its key and returns the new recorded
state and the tick events the change makes. No other code makes a `TickEvent`: a tick the learner
makes while our write to the same row is in flight shows in the write's answer, and so it is
recorded like any other.

Which status did the learner mean? (`resolve_status`; Done and Status are two columns for one fact)

| Done | Status   | changed since the last observation | status                               |
| on   | Done     | -                                  | done                                 |
| off  | not Done | -                                  | what Status says                     |
| on   | not Done | only Status (the learner moved it) | what Status says (not done)          |
| off  | Done     | only Done (the learner unticked)   | in progress if it was, else not      |
|      |          |                                    | started                              |
| on   | not Done | Done, or both                      | done (never lose a tick)             |
| off  | Done     | Status, or both                    | done                                 |
| either mismatch | neither (seen so before)  | as recorded then                     |
| either mismatch | never observed            | done                                 |

A value our own write just sent (`wrote`) is not a change by the learner.

Which events does an observation make? (`reconcile_row`)

| recorded state        | observed status | event                                               |
| none                  | any             | first sight: None -> status (`rebuilt` when the     |
|                       |                 | state folder never tracked this database before)    |
| status s              | s               | none                                                |
| status s              | t != s          | s -> t (the window: the last run .. now)            |
| status s != not       | no row holds    | s -> not_started: the row is gone (trashed, or its  |
| started               | the key         | Key lost) and the state forgets the key             |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sync.model import CUSTOM_PREFIX, STATUS_OPTIONS, ItemState, RemoteRow, Status, TickEvent

DONE_OPTION = "Done"


@dataclass(frozen=True)
class Observation:
    """What one sight of a row did: the key's new recorded state and the events it made."""

    state: ItemState
    events: tuple[TickEvent, ...] = ()

    @property
    def became_done(self) -> bool:
        """The item reached done now, seen by a state that knows its past (Done on gets filled)."""
        return any(e.to_status == "done" and not e.rebuilt for e in self.events)


def resolve_status(done: bool, option: str | None, before: ItemState | None) -> Status:
    """The status the learner means when Done and Status are read together (see the table)."""
    option_done = option == DONE_OPTION
    if done == option_done:
        # Coherent: both say done, or neither does and Status decides.
        return "done" if done else STATUS_OPTIONS.get(option or "", "not_started")
    if before is None or before.done_raw is None:
        return "done"  # never observed: done wins, never lose a tick
    done_changed = done != before.done_raw
    option_changed = option != before.status_raw
    if not done_changed and not option_changed:
        return before.status  # seen so before: the decision then stands
    if done and option_changed and not done_changed:
        # Done still ticked, but the learner moved Status away from Done: Status wins.
        return STATUS_OPTIONS.get(option or "", "not_started")
    if option_done and done_changed and not option_changed:
        # Status still Done, but the learner unticked Done: back to where it was before.
        return "in_progress" if before.in_progress_since else "not_started"
    return "done"  # the tick or Status Done is new, or both moved: done wins


def _as_written(before: ItemState | None, wrote: Mapping[str, Any]) -> ItemState | None:
    """The recorded raw values with our own write applied: a field we just wrote is not a change
    by the learner (a learner's change crossing our derived write still wins)."""
    if before is None or ("done" not in wrote and "status" not in wrote):
        return before
    return replace(
        before,
        done_raw=bool(wrote["done"]) if "done" in wrote else before.done_raw,
        status_raw=wrote.get("status", before.status_raw),
    )


def _tool_done_on(row: RemoteRow, before: ItemState | None, filled: date | None) -> date | None:
    """The Done on value the tool filled, if the row still holds it."""
    if row.done_on is None:
        return None
    if filled == row.done_on:
        return row.done_on
    if before is not None and before.tool_done_on == row.done_on:
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
    wrote = wrote or {}
    status = resolve_status(row.done, row.status_option, _as_written(before, wrote))
    tool_done_on = _tool_done_on(row, before, filled)
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
        tool_done_on=tool_done_on,
    )
    previous = before.status if before is not None else None
    if before is not None and previous == status:
        return Observation(state)
    learner_date = row.done_on if status == "done" and row.done_on != tool_done_on else None
    event = TickEvent(
        key=key,
        title=row.title,
        level=row.level,
        category=row.category,
        from_status=previous,
        to_status=status,
        observed_at=at,
        window_start=window_start if before is not None else None,
        edited_hint=row.last_edited_time,
        done_on=learner_date,
        rebuilt=before is None and rebuilt,
    )
    return Observation(state, (event,))


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
