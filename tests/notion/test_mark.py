"""The mark on the checklist database: read back what was written, keep the learner's text and the
digest's progress line, survive damage, and record digest weeks that only move forward."""

from __future__ import annotations

from typing import Any

from sync.notion.mark import (
    MARK_TOKEN,
    Mark,
    build_description,
    check_legacy_columns,
    check_marked_columns,
    parse_mark,
)


def answered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Request items as Notion answers them (with plain_text)."""
    return [{**item, "plain_text": item["text"]["content"]} for item in items]


def text_of(items: list[dict[str, Any]]) -> str:
    return "".join(item["text"]["content"] for item in items)


def test_a_written_mark_reads_back() -> None:
    mark = Mark("ds-1", {"key": "abc", "done": "d%3D"}, {"email": "2026-W48"})
    assert parse_mark(answered(build_description(None, mark=mark))) == mark


def test_no_mark_is_none_and_a_damaged_one_still_says_ours() -> None:
    assert parse_mark(answered([{"type": "text", "text": {"content": "My list"}}])) is None
    assert parse_mark(None) is None
    damaged = answered([{"type": "text", "text": {"content": f"{MARK_TOKEN} {{oops"}}])
    assert parse_mark(damaged) == Mark()


def test_the_learners_text_is_kept_when_the_mark_changes() -> None:
    learner = {"type": "text", "text": {"content": "Started in May. "}}
    first = answered([learner, *build_description(None, mark=Mark("ds-1"))])
    second = build_description(first, mark=Mark("ds-1", {"key": "k"}))
    assert text_of(second).startswith("Started in May. \n")
    assert parse_mark(answered(second)) == Mark("ds-1", {"key": "k"})


def test_the_summary_replaces_only_the_text_before_the_mark() -> None:
    current = answered(build_description(None, mark=Mark("ds-1", digests={"slack": "2026-W47"})))
    updated = build_description(current, summary="6/10 done (60%)")
    assert text_of(updated).startswith("6/10 done (60%)\n")
    assert parse_mark(answered(updated)) == Mark("ds-1", digests={"slack": "2026-W47"})
    # And a summary on a database without a mark adds none.
    assert text_of(build_description(None, summary="1/2 done")) == "1/2 done"


def test_digest_weeks_only_move_forward() -> None:
    mark = Mark().with_digest("email", "2026-W48")
    assert mark.with_digest("email", "2026-W47") == mark
    assert mark.digest_sent("email", "2026-W48") and mark.digest_sent("email", "2026-W47")
    assert not mark.digest_sent("email", "2026-W49") and not mark.digest_sent("slack", "2026-W48")


def test_columns_recognise_ours() -> None:
    legacy = {
        "Key": {"id": "k", "type": "rich_text"},
        "Done": {"id": "d", "type": "checkbox"},
        "Status": {"id": "s", "type": "select"},
        "Level": {"id": "l", "type": "select"},
        "Category": {"id": "c", "type": "select"},
        "Order": {"id": "o", "type": "number"},
    }
    assert check_legacy_columns(legacy)
    assert not check_legacy_columns({**legacy, "Order": {"id": "o", "type": "rich_text"}})
    renamed = {"Item id": legacy["Key"]}
    assert check_marked_columns(renamed, Mark("ds", {"key": "k"}))
    assert not check_marked_columns(renamed, Mark("ds", {"key": "other"}))


def test_the_largest_mark_fits_one_rich_text_item_and_keeps_what_matters() -> None:
    """The worst case: every column with a long property id (and room for more columns), every
    digest channel, the dashboard with its widgets, and far more level tabs than fit."""
    from sync.digest.channel_choice import CHANNELS
    from sync.model import FIELDS
    from sync.notion.cockpit import WIDGETS
    from sync.notion.mark import MAX_TEXT, Cockpit, render_mark

    uuid = "12345678-1234-4123-8123-123456789abc"
    columns = {f"{spec.field}_{n}": "%3F%7Cx%40" * 2 for spec in FIELDS for n in range(2)}
    cockpit = Cockpit(dashboard_id=uuid)
    for name in WIDGETS:
        cockpit = cockpit.with_widget(name, uuid)
    mark = Mark(uuid, columns, {channel: "2026-W48" for channel in CHANNELS})
    mark = mark.with_cockpit(cockpit).with_views([uuid] * 80)
    text = render_mark(mark)
    assert len(text) <= MAX_TEXT
    back = parse_mark(answered(build_description(None, mark=mark)))
    assert back is not None
    assert (back.column_ids, back.digests, back.cockpit) == (columns, mark.digests, cockpit)
    assert 0 < len(back.views) < 80  # the tabs that fit, first ones first
    assert back.views == mark.views[: len(back.views)]
    # A long refusal is cut, never the mark.
    refused = mark.with_cockpit(Cockpit(refused="x" * 5000))
    assert len(render_mark(refused)) <= MAX_TEXT
    parsed = parse_mark(answered(build_description(None, mark=refused)))
    assert parsed is not None and parsed.digests == mark.digests


def test_a_mark_from_before_the_cockpit_reads_without_one() -> None:
    old = f'{MARK_TOKEN} {{"v":1,"columns":{{"key":"abc"}},"digests":{{"email":"2026-W01"}}}}'
    mark = parse_mark([{"plain_text": old}])
    assert mark is not None and mark.cockpit is None and mark.views == ()
    assert mark.digests == {"email": "2026-W01"}
