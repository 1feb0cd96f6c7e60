"""The planner: one test per case (create, update, adopt, retire, migrate, duplicates, no-op,
ticks, Done on) and one per safety halt. Pure: no Notion, no files."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from sync.actions import (
    AddColumns,
    AdoptRow,
    CreatePage,
    FillDoneOn,
    HealDuplicate,
    MigrateKey,
    ReportDuplicate,
    ReportUnknownKey,
    RestoreKey,
    RetireItem,
    TrashDuplicate,
    TrashPage,
    UpdatePage,
)
from sync.checklist import Checklist, parse_checklist
from sync.model import ItemState, RemoteRow
from sync.plan import plan_sync
from sync.plan_halts import check_plan
from sync.reconcile import row_status

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 27)

YAML = """
title: Test checklist
version: {version}
levels:
  - name: Entry
    categories: [Networks]
items:
{items}
migrations: {migrations}
"""


def make_checklist(
    items: list[tuple[str, str, int]], version: int = 1, migrations: str = "[]"
) -> Checklist:
    body = "".join(
        f"  - {{key: {key}, title: {title}, level: Entry, category: Networks, order: {order},"
        f" description: About {title}}}\n"
        for key, title, order in items
    )
    return parse_checklist(YAML.format(version=version, items=body, migrations=migrations), "t")


BASE = make_checklist([("entry.networks.dense", "Dense", 1), ("entry.networks.cnn", "CNN", 2)])


def row(
    key: str | None, title: str, order: float = 1, page_id: str | None = None, **kw: object
) -> RemoteRow:
    values: dict[str, object] = {
        "level": "Entry",
        "category": "Networks",
        "order": order,
        "description": f"About {title}",
    }
    values.update(kw)
    return RemoteRow(
        page_id=page_id or f"page-{key or title}", url="", key=key, title=title, **values
    )  # type: ignore[arg-type]


def state_of(r: RemoteRow) -> ItemState:
    return ItemState(
        key=r.key or "",
        page_id=r.page_id,
        title=r.title,
        level=r.level,
        category=r.category,
        order=r.order,
        status=row_status(r),
        done_on=r.done_on,
    )


def synced_rows() -> list[RemoteRow]:
    return [row("entry.networks.dense", "Dense", 1), row("entry.networks.cnn", "CNN", 2)]


def plan(
    rows: list[RemoteRow],
    state: dict[str, ItemState] | None = None,
    mode: str = "sync",
    **kw: object,
):  # type: ignore[no-untyped-def]
    return plan_sync(
        BASE if "checklist" not in kw else kw.pop("checklist"),
        rows,
        state or {},  # type: ignore[arg-type]
        mode=mode,
        now=NOW,
        today=TODAY,
        **kw,
    )  # type: ignore[arg-type]


def test_first_push_creates_every_item_in_checklist_order() -> None:
    result = plan([], mode="push")
    creates = [a for a in result.notion_actions if isinstance(a, CreatePage)]
    assert [c.key for c in creates] == ["entry.networks.dense", "entry.networks.cnn"]
    assert (
        creates[0].values["title"] == "Dense" and creates[0].values["key"] == "entry.networks.dense"
    )


def test_noop_when_notion_and_state_agree() -> None:
    rows = synced_rows()
    result = plan(rows, {r.key or "": state_of(r) for r in rows})
    assert result.is_noop
    assert result.notion_actions == ()


def test_renamed_item_updates_its_page_in_place_by_key() -> None:
    rows = [
        row("entry.networks.dense", "Dense layers (old title)", 1, description="About Dense"),
        row("entry.networks.cnn", "CNN", 2),
    ]
    result = plan(rows, {r.key or "": state_of(r) for r in rows}, mode="push")
    assert result.notion_actions == (
        UpdatePage("page-entry.networks.dense", "entry.networks.dense", {"title": "Dense"}),
    )


def test_push_never_writes_learner_owned_fields() -> None:
    rows = [
        row("entry.networks.dense", "Dense", 1, done=True, notes="mine", status_option="Done"),
        row("entry.networks.cnn", "CNN", 2, status_option="In progress"),
    ]
    state = {r.key or "": state_of(r) for r in rows}
    result = plan(rows, state, mode="push")
    assert result.notion_actions == ()


def test_row_without_key_is_adopted_as_custom_item() -> None:
    rows = [*synced_rows(), row(None, "Kaggle competition!", page_id="p-own")]
    result = plan(rows, mode="push")
    assert (
        AdoptRow("p-own", "custom.kaggle-competition", "Kaggle competition!")
        in result.notion_actions
    )
    assert "custom.kaggle-competition" in result.rows


def test_adopted_keys_never_collide() -> None:
    rows = [
        *synced_rows(),
        row("custom.paper", "Paper", page_id="p1"),
        row(None, "Paper", page_id="p2"),
    ]
    result = plan(rows, mode="push")
    assert AdoptRow("p2", "custom.paper-2", "Paper") in result.notion_actions


def test_our_row_whose_key_was_cleared_gets_its_key_back() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    cleared = [row(None, "Dense", 1, page_id="page-entry.networks.dense"), rows[1]]
    result = plan(cleared, state, mode="push")
    assert result.notion_actions == (
        RestoreKey("page-entry.networks.dense", "entry.networks.dense", None),
    )


def test_keyless_rows_a_new_state_does_not_know_get_their_keys_back_by_exact_title() -> None:
    # The learner deleted the Key column; a new state folder sees only titles.
    rows = [
        row(None, "Dense", 1, page_id="p-dense", done=True, status_option="Done"),
        row(None, "CNN", 2, page_id="p-cnn"),
        row(None, "Kaggle competition!", page_id="p-own"),
    ]
    result = plan(rows, missing_columns=("key",))
    assert RestoreKey("p-dense", "entry.networks.dense", None) in result.notion_actions
    assert RestoreKey("p-cnn", "entry.networks.cnn", None) in result.notion_actions
    assert AdoptRow("p-own", "custom.kaggle-competition", "Kaggle competition!") in (
        result.notion_actions
    )
    assert not any(isinstance(a, CreatePage) for a in result.notion_actions)
    assert result.states["entry.networks.dense"].status == "done"  # the tick kept
    assert result.rows["entry.networks.cnn"].page_id == "p-cnn"


def test_a_keyless_row_titled_as_an_item_another_row_holds_stays_the_learners_own() -> None:
    rows = [*synced_rows(), row(None, "Dense", page_id="p-mine")]
    result = plan(rows, mode="push")
    assert AdoptRow("p-mine", "custom.dense", "Dense") in result.notion_actions
    assert result.rows["entry.networks.dense"].page_id == "page-entry.networks.dense"


def test_a_keyless_row_titled_as_an_item_whose_page_the_state_knows_stays_the_learners_own() -> (
    None
):
    known = synced_rows()
    state = {r.key or "": state_of(r) for r in known}
    rows = [known[1], row(None, "Dense", page_id="p-mine")]  # the known Dense page is gone
    result = plan(rows, state, mode="push")
    assert AdoptRow("p-mine", "custom.dense", "Dense") in result.notion_actions


def test_a_title_two_checklist_items_share_matches_neither() -> None:
    twins = make_checklist([("entry.networks.a", "Same", 1), ("entry.networks.b", "Same", 2)])
    result = plan([row(None, "Same", page_id="p-1")], checklist=twins)
    assert AdoptRow("p-1", "custom.same", "Same") in result.notion_actions


def test_two_keyless_rows_with_one_items_title_are_its_duplicates_healed_by_the_rule() -> None:
    rows = [
        row(None, "Dense", 1, page_id="p-b", created_time=NOW, notes="second"),
        row(None, "Dense", 1, page_id="p-a", created_time=NOW, done=True, status_option="Done"),
        row(None, "CNN", 2, page_id="p-cnn"),
    ]
    result = plan(rows)
    assert result.rows["entry.networks.dense"].page_id == "p-a"  # the lowest page id
    assert TrashDuplicate("p-b", "entry.networks.dense", "p-a") in result.notion_actions
    assert RestoreKey("p-b", "entry.networks.dense", None) not in result.notion_actions
    assert result.states["entry.networks.dense"].status == "done"


def test_our_row_whose_key_was_edited_gets_its_key_back_tick_kept() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    edited = [row("mine", "Dense", 1, page_id="page-entry.networks.dense", done=True), rows[1]]
    result = plan(edited, state, mode="push")
    assert RestoreKey("page-entry.networks.dense", "entry.networks.dense", "mine") in (
        result.notion_actions
    )
    assert result.states["entry.networks.dense"].status == "done"
    assert not any(isinstance(a, (AdoptRow, CreatePage)) for a in result.notion_actions)


def test_an_unknown_key_on_a_page_the_state_does_not_know_is_reported_not_adopted() -> None:
    rows = [*synced_rows(), row("entry.networks.typo", "Typo", 3, page_id="p-typo", done=True)]
    result = plan(rows, mode="sync")
    assert result.reports == (ReportUnknownKey("p-typo", "entry.networks.typo", "Typo"),)
    assert "entry.networks.typo" not in result.states
    assert not any(getattr(a, "page_id", None) == "p-typo" for a in result.notion_actions)


def test_item_removed_from_checklist_is_retired_not_trashed() -> None:
    rows = [*synced_rows(), row("entry.networks.rnn", "RNN", 3)]
    result = plan(rows, {r.key or "": state_of(r) for r in rows}, mode="push")
    assert (
        RetireItem("page-entry.networks.rnn", "entry.networks.rnn", "RNN") in result.notion_actions
    )
    assert not any(isinstance(a, TrashPage) for a in result.notion_actions)
    assert result.retiring == 1


def test_prune_trashes_retired_items() -> None:
    rows = [*synced_rows(), row("entry.networks.rnn", "RNN", 3, retired=True)]
    result = plan(rows, mode="push", prune=True)
    assert (
        TrashPage("page-entry.networks.rnn", "entry.networks.rnn", "RNN") in result.notion_actions
    )


def test_custom_items_are_never_retired_or_trashed() -> None:
    rows = [*synced_rows(), row("custom.own", "Own", page_id="p-own")]
    result = plan(rows, mode="push", prune=True)
    assert result.notion_actions == ()


def test_item_back_in_the_checklist_is_unretired() -> None:
    rows = [
        row("entry.networks.dense", "Dense", 1, retired=True),
        row("entry.networks.cnn", "CNN", 2),
    ]
    result = plan(rows, mode="push")
    assert (
        UpdatePage("page-entry.networks.dense", "entry.networks.dense", {"retired": False})
        in result.notion_actions
    )


def test_migration_moves_the_key_and_keeps_the_page() -> None:
    checklist = make_checklist(
        [("entry.networks.dense", "Dense", 1), ("entry.networks.conv", "CNN", 2)],
        version=2,
        migrations="[{version: 2, keys: {entry.networks.cnn: entry.networks.conv}}]",
    )
    rows = [row("entry.networks.dense", "Dense", 1), row("entry.networks.cnn", "CNN", 2, done=True)]
    result = plan(rows, mode="push", checklist=checklist)
    assert (
        MigrateKey("page-entry.networks.cnn", "entry.networks.cnn", "entry.networks.conv")
        in result.notion_actions
    )
    assert not any(isinstance(a, (CreatePage, RetireItem)) for a in result.notion_actions)
    assert result.rows["entry.networks.conv"].done


def test_duplicates_keep_the_earliest_created_row_merge_into_it_and_trash_the_rest() -> None:
    early = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    late = datetime(2026, 11, 1, 10, 1, tzinfo=timezone.utc)
    rows = [
        row("entry.networks.dense", "Dense", 1, page_id="b-ticked", done=True, created_time=early),
        row("entry.networks.dense", "Dense", 1, page_id="a-later", notes="n", created_time=late),
        row("entry.networks.cnn", "CNN", 2),
    ]
    state = {"entry.networks.dense": state_of(rows[1])}  # never "the page my state knows"
    result = plan(rows, state, mode="sync")
    assert result.rows["entry.networks.dense"].page_id == "b-ticked"
    assert UpdatePage("b-ticked", "entry.networks.dense", {"status": "Done", "notes": "n"}) in (
        result.notion_actions
    )
    assert TrashDuplicate("a-later", "entry.networks.dense", "b-ticked") in result.notion_actions
    (healed,) = result.reports
    assert isinstance(healed, HealDuplicate) and healed.trashed_page_ids == ("a-later",)
    assert not any(isinstance(a, CreatePage) for a in result.notion_actions)


def test_duplicates_created_in_the_same_minute_keep_the_lowest_page_id() -> None:
    rows = [
        row("entry.networks.dense", "Dense", 1, page_id="p2"),
        row("entry.networks.dense", "Dense", 1, page_id="p1"),
    ]
    result = plan(rows, mode="pull")
    assert result.rows["entry.networks.dense"].page_id == "p1"


def test_duplicates_that_would_lose_a_learner_value_are_kept_and_reported() -> None:
    rows = [
        row("entry.networks.dense", "Dense", 1, page_id="p1", evidence="https://a.example"),
        row("entry.networks.dense", "Dense", 1, page_id="p2", evidence="https://b.example"),
    ]
    result = plan(rows, mode="pull")
    (kept,) = result.reports
    assert isinstance(kept, ReportDuplicate) and kept.conflicts == ("Evidence",)
    assert not any(isinstance(a, TrashDuplicate) for a in result.notion_actions)


def test_missing_columns_are_added_first() -> None:
    result = plan(synced_rows(), mode="push", missing_columns=("notes", "evidence"))
    assert result.notion_actions[0] == AddColumns(("notes", "evidence"))


def test_first_sight_of_each_item_is_a_baseline_not_a_completion() -> None:
    rows = [
        row("entry.networks.dense", "Dense", 1, done=True, done_on=date(2026, 1, 5)),
        row("entry.networks.cnn", "CNN", 2),
    ]
    result = plan(rows, mode="pull")
    events = {t.event.key: t.event for t in result.ticks}
    assert events["entry.networks.dense"].from_status is None
    assert events["entry.networks.dense"].to_status == "done"
    assert events["entry.networks.dense"].window_start is None


def test_pull_records_a_tick_between_the_last_pull_and_now() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    last = datetime(2026, 11, 27, 11, 45, tzinfo=timezone.utc)
    ticked = [row("entry.networks.dense", "Dense", 1, done=True), rows[1]]
    result = plan(ticked, state, mode="pull", last_run=last)
    (tick,) = result.ticks
    assert (tick.event.from_status, tick.event.to_status) == ("not_started", "done")
    assert (tick.event.window_start, tick.event.observed_at) == (last, NOW)


def test_status_done_counts_as_done_and_in_progress_is_tracked() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    changed = [
        row("entry.networks.dense", "Dense", 1, status_option="Done"),
        row("entry.networks.cnn", "CNN", 2, status_option="In progress"),
    ]
    result = plan(changed, state, mode="pull")
    assert {(t.event.key, t.event.to_status) for t in result.ticks} == {
        ("entry.networks.dense", "done"),
        ("entry.networks.cnn", "in_progress"),
    }


def test_done_on_is_filled_once_when_first_seen_done_and_empty() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    ticked = [row("entry.networks.dense", "Dense", 1, done=True), rows[1]]
    result = plan(ticked, state, mode="pull")
    assert [
        (type(a), a.page_id, a.day) for a in result.notion_actions if isinstance(a, FillDoneOn)
    ] == [(FillDoneOn, "page-entry.networks.dense", TODAY)]
    # Already done last time (the learner cleared the date on purpose): leave it alone.
    state_done = {**state, "entry.networks.dense": state_of(ticked[0])}
    again = plan(ticked, state_done, mode="pull")
    assert not any(isinstance(a, FillDoneOn) for a in again.notion_actions)


def test_done_on_set_by_the_learner_is_never_overwritten() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    ticked = [
        row("entry.networks.dense", "Dense", 1, done=True, done_on=date(2026, 11, 20)),
        rows[1],
    ]
    result = plan(ticked, state, mode="pull")
    assert not any(isinstance(a, FillDoneOn) for a in result.notion_actions)


def test_every_mode_records_the_tick_it_sees() -> None:
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    ticked = [row("entry.networks.dense", "Dense", 1, done=True), rows[1]]
    for mode in ("push", "pull", "sync"):
        (tick,) = plan(ticked, state, mode=mode).ticks
        assert (tick.event.from_status, tick.event.to_status) == ("not_started", "done")


# -- halts ---------------------------------------------------------------------------------------
def test_halt_when_notion_returns_no_rows_but_state_remembers_items() -> None:
    result = plan([], mode="sync")
    halts = check_plan(result, remote_row_count=0, remembered=2, retire_threshold=0.25)
    assert len(halts) == 1 and "no rows" in halts[0].reason
    assert (
        check_plan(result, remote_row_count=0, remembered=2, retire_threshold=0.25, force=True)
        == []
    )


def test_halt_when_more_than_the_threshold_would_be_retired() -> None:
    rows = [
        *synced_rows(),
        row("entry.networks.rnn", "RNN", 3),
        row("entry.networks.gan", "GAN", 4),
    ]
    result = plan(rows, {r.key or "": state_of(r) for r in rows}, mode="push")
    halts = check_plan(result, remote_row_count=4, remembered=4, retire_threshold=0.25)
    assert len(halts) == 1 and "2 of 4 rows would be retired" in halts[0].reason
    assert check_plan(result, remote_row_count=4, remembered=4, retire_threshold=0.5) == []


def test_retyped_column_halts_even_with_force() -> None:
    result = plan(synced_rows(), mode="push")
    halts = check_plan(
        result,
        remote_row_count=2,
        remembered=2,
        retire_threshold=0.25,
        retyped=[("order", "Order", "rich_text")],
        force=True,
    )
    assert len(halts) == 1
    assert '"Order" is a rich_text property' in halts[0].reason
    assert "number" in halts[0].hint


@pytest.mark.parametrize("mode", ["push", "pull", "sync"])
def test_the_same_inputs_give_the_same_plan(mode: str) -> None:
    rows = [*synced_rows(), row(None, "Own", page_id="p-own")]
    assert plan(rows, mode=mode) == plan(rows, mode=mode)


def test_a_lost_learner_column_with_remembered_values_halts_even_with_force() -> None:
    from sync.plan_halts import find_lost_learner_columns

    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    ticked = {
        **state,
        "entry.networks.dense": state_of(row("entry.networks.dense", "Dense", done=True)),
    }
    assert find_lost_learner_columns(["done", "notes", "description"], ticked) == ["done"]
    assert find_lost_learner_columns(["done"], state) == []  # nothing ticked yet: re-add freely
    result = plan(rows, ticked, missing_columns=("done",))
    halts = check_plan(
        result,
        remote_row_count=2,
        remembered=2,
        retire_threshold=0.25,
        lost_learner_columns=["done"],
        force=True,
    )
    assert len(halts) == 1 and '"Done" column is gone' in halts[0].reason
    assert "doctor --fix" in halts[0].hint


def test_an_own_row_never_gets_a_key_the_history_has_used() -> None:
    rows = [*synced_rows(), row(None, "Read a paper", page_id="p-new")]
    result = plan(rows, mode="push", used_keys={"custom.read-a-paper"})
    assert AdoptRow("p-new", "custom.read-a-paper-2", "Read a paper") in result.notion_actions


def test_done_on_is_filled_the_first_time_an_item_is_seen_done_even_by_a_push() -> None:
    rows = [row(None, "Kaggle", page_id="p-own", done=True), *synced_rows()]
    result = plan(rows, mode="push")
    assert [
        (a.page_id, a.key, a.day) for a in result.notion_actions if isinstance(a, FillDoneOn)
    ] == [("p-own", "custom.kaggle", TODAY)]


def test_an_item_already_retired_is_left_alone() -> None:
    rows = [*synced_rows(), row("entry.networks.rnn", "RNN", 3, retired=True)]
    result = plan(rows, {r.key or "": state_of(r) for r in rows}, mode="push")
    assert result.notion_actions == () and result.retiring == 0


def test_a_retired_row_a_new_state_does_not_know_is_kept_as_retired_not_reported() -> None:
    rows = [*synced_rows(), row("entry.networks.rnn", "RNN", 3, retired=True, page_id="p-rnn")]
    result = plan(rows, mode="pull")
    assert result.reports == () and result.states["entry.networks.rnn"].retired


def test_a_migrated_item_continues_the_history_of_its_old_key() -> None:
    checklist = make_checklist(
        [("entry.networks.dense", "Dense", 1), ("entry.networks.conv", "CNN", 2)],
        version=2,
        migrations="[{version: 2, keys: {entry.networks.cnn: entry.networks.conv}}]",
    )
    rows = synced_rows()
    state = {r.key or "": state_of(r) for r in rows}
    ticked = [rows[0], row("entry.networks.cnn", "CNN", 2, done=True)]
    result = plan(ticked, state, mode="sync", checklist=checklist)
    (tick,) = result.ticks
    assert (tick.event.key, tick.event.from_status, tick.event.to_status) == (
        "entry.networks.conv",
        "not_started",
        "done",
    )


def test_a_key_no_row_holds_any_more_ends_its_history_not_started() -> None:
    rows = [row("entry.networks.dense", "Dense", 1, done=True), row("entry.networks.cnn", "CNN", 2)]
    state = {r.key or "": state_of(r) for r in rows}
    result = plan([rows[1]], state, mode="pull")  # the learner trashed Dense's row
    (tick,) = result.ticks
    assert (tick.event.key, tick.event.from_status, tick.event.to_status) == (
        "entry.networks.dense",
        "done",
        "not_started",
    )
    assert "entry.networks.dense" not in result.states
    # A push creates the row again instead: the create's answer continues the history.
    assert plan([rows[1]], state, mode="push").ticks == ()
