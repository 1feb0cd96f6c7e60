"""PURE: reasons to halt before any write, checked against a plan (nothing is written on a halt)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sync.actions import Halt, Plan
from sync.model import CUSTOM_PREFIX, FIELD_BY_NAME, ItemState


def _holds_learner_value(state: ItemState, field_name: str) -> bool:
    if field_name == "done":
        return state.status == "done"
    if field_name == "status":
        return state.status != "not_started"
    if field_name == "done_on":
        return state.done_on is not None
    if field_name == "notes":
        return bool(state.notes)
    if field_name == "evidence":
        return bool(state.evidence)
    return False


def find_lost_learner_columns(
    missing_columns: Sequence[str], state: Mapping[str, ItemState]
) -> list[str]:
    """Learner-owned columns that are gone from Notion while the state still holds their values.

    Re-adding such a column empty and pulling would record every tick as undone.
    """
    return [
        field_name
        for field_name in missing_columns
        if any(_holds_learner_value(s, field_name) for s in state.values())
    ]


def check_plan(
    plan: Plan,
    *,
    remote_row_count: int,
    remembered: int,
    retire_threshold: float,
    retyped: Sequence[tuple[str, str, str]] = (),
    lost_learner_columns: Sequence[str] = (),
    force: bool = False,
) -> list[Halt]:
    """Reasons to stop before any write. Forceable halts are dropped when `force` is set."""
    halts: list[Halt] = []
    for field_name in lost_learner_columns:
        column = FIELD_BY_NAME[field_name].default_name
        halts.append(
            Halt(
                f'your "{column}" column is gone from the database, and the last sync still '
                "holds its values",
                "Run `dsprogress doctor --fix`: it adds the column back and restores your values "
                "from the last sync.",
                forceable=False,
            )
        )
    for field_name, column, actual in retyped:
        expected = FIELD_BY_NAME[field_name].type
        halts.append(
            Halt(
                f'the column "{column}" is a {actual} property; dsprogress needs it to be '
                f"{expected}",
                f'In Notion, change "{column}" back to {expected} (or rename it so dsprogress '
                "adds its own), or run `dsprogress doctor --fix`.",
                forceable=False,
            )
        )
    if remote_row_count == 0 and remembered > 0:
        halts.append(
            Halt(
                f"Notion returned no rows, but the state remembers {remembered} items "
                "(were they trashed, or is this the wrong database?)",
                "Check the database in Notion (and its Trash); rerun with --force to recreate "
                "every item.",
                forceable=True,
            )
        )
    checklist_rows = sum(1 for k in plan.rows if not k.startswith(CUSTOM_PREFIX))
    if checklist_rows and plan.retiring > retire_threshold * checklist_rows:
        halts.append(
            Halt(
                f"{plan.retiring} of {checklist_rows} rows would be retired (more than "
                f"{retire_threshold:.0%}); is DSPROGRESS_CHECKLIST the right checklist?",
                "Check the checklist file (and its migrations); "
                "rerun with --force if you meant it.",
                forceable=True,
            )
        )
    return [h for h in halts if not (force and h.forceable)]
