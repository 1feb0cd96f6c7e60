"""Pages: creation in data sources and pages, values, checks, trash, timestamps."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from notion_client import APIErrorCode, APIResponseError, Client

from sync.sandbox import SandboxServer
from tests.sandbox_fixtures import SandboxDatabase, plain, text

MINUTE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$")


def create_row(notion: Client, db: SandboxDatabase, **properties: Any) -> dict[str, Any]:
    page: dict[str, Any] = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": db.data_source_id},
        properties=properties,
    )
    return page


def test_row_page_shape(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = create_row(
        notion,
        sandbox_db,
        Name={"title": text("Learn pandas")},
        Key={"rich_text": text("py.pandas")},
        Done={"checkbox": True},
    )
    assert page["object"] == "page"
    assert page["parent"] == {
        "type": "data_source_id",
        "data_source_id": sandbox_db.data_source_id,
        "database_id": sandbox_db.database_id,
    }
    assert page["url"] == "https://app.notion.com/p/Learn-pandas-" + page["id"].replace("-", "")
    assert MINUTE_TIME.match(page["created_time"]) and MINUTE_TIME.match(page["last_edited_time"])
    assert page["in_trash"] is False and page["archived"] is False and page["is_archived"] is False
    properties = page["properties"]
    assert set(properties) == set(sandbox_db.property_ids)
    for name, value in properties.items():
        assert value["id"] == sandbox_db.property_ids[name]
    assert properties["Name"]["title"][0] == {
        "type": "text",
        "text": {"content": "Learn pandas", "link": None},
        "annotations": {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        },
        "plain_text": "Learn pandas",
        "href": None,
    }
    assert properties["Done"] == {
        "id": sandbox_db.property_ids["Done"],
        "type": "checkbox",
        "checkbox": True,
    }
    defaults = {k: v[v["type"]] for k, v in properties.items() if k not in ("Name", "Key", "Done")}
    assert defaults == {
        "Status": None,
        "Level": None,
        "Hours": None,
        "Done on": None,
        "Evidence": None,
        "Notes": [],
    }


def test_page_under_a_page_with_untyped_parent_and_title_shorthand(
    notion: Client, sandbox: SandboxServer
) -> None:
    page = notion.pages.create(
        parent={"page_id": sandbox.root_page_id.replace("-", "")},
        properties={"title": [{"text": {"content": "Test Page"}}]},
        children=[],
    )
    assert page["parent"] == {"type": "page_id", "page_id": sandbox.root_page_id}
    assert list(page["properties"]) == ["title"]
    assert plain(page["properties"]["title"]) == "Test Page"
    assert page["url"].endswith("/Test-Page-" + page["id"].replace("-", ""))
    with pytest.raises(APIResponseError, match="Key is not a property that exists"):
        notion.pages.create(
            parent={"page_id": sandbox.root_page_id}, properties={"Key": {"rich_text": text("x")}}
        )


def test_new_select_option_is_created_with_a_color(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    page = create_row(notion, sandbox_db, Status={"select": {"name": "Blocked"}})
    value = page["properties"]["Status"]["select"]
    assert set(value) == {"id", "name", "color"}
    assert value["name"] == "Blocked"
    assert value["color"] != "default"
    options = notion.data_sources.retrieve(sandbox_db.data_source_id)["properties"]["Status"][
        "select"
    ]["options"]
    assert [o["name"] for o in options][-1] == "Blocked"
    again = create_row(notion, sandbox_db, Status={"select": {"name": "Blocked"}})
    assert again["properties"]["Status"]["select"]["id"] == value["id"]
    by_id = create_row(notion, sandbox_db, Status={"select": {"id": value["id"]}})
    assert by_id["properties"]["Status"]["select"]["name"] == "Blocked"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"Status": {"select": {"name": "a,b"}}}, "Invalid select option, commas not allowed: a,b"),
        ({"Nope": {"checkbox": True}}, "Nope is not a property that exists."),
        ({"Done": {"rich_text": text("yes")}}, "Done is expected to be checkbox."),
        ({"Done": {"type": "url", "url": "x"}}, "Done is expected to be checkbox."),
        (
            {"Done": {"checkbox": "yes"}},
            "body failed validation: body.properties.Done.checkbox should be a boolean, "
            'instead was `"yes"`.',
        ),
        ({"Hours": {"number": "3"}}, "body.properties.Hours.number should be a number"),
        ({"Done on": {"date": {"start": "yesterday"}}}, "should be a valid ISO 8601 date string"),
        (
            {"Status": {"select": {"id": "no-such-option"}}},
            "no-such-option is an invalid select option.",
        ),
        (
            {"Notes": {"rich_text": text("x" * 2001)}},
            "body failed validation: body.properties.Notes.rich_text[0].text.content.length "
            "should be ≤ `2000`, instead was `2001`.",
        ),
        (
            {"Notes": {"rich_text": text("x") * 101}},
            "body failed validation: body.properties.Notes.rich_text.length should be ≤ `100`, "
            "instead was `101`.",
        ),
        ({"Evidence": {"url": "https://e.x/" + "a" * 2000}}, "body.properties.Evidence.url.length"),
    ],
)
def test_bad_values_are_400_validation_errors(
    notion: Client,
    sandbox: SandboxServer,
    sandbox_db: SandboxDatabase,
    properties: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(APIResponseError) as caught:
        create_row(notion, sandbox_db, **properties)
    assert caught.value.status == 400
    assert caught.value.code == APIErrorCode.ValidationError
    assert message in str(caught.value)
    assert sandbox.control.pages(sandbox_db.data_source_id, include_trashed=True) == []
    options = notion.data_sources.retrieve(sandbox_db.data_source_id)["properties"]["Status"]
    assert [o["name"] for o in options["select"]["options"]] == ["Todo", "Doing", "Done"]


def test_limits_are_inclusive(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = create_row(notion, sandbox_db, Notes={"rich_text": text("x" * 2000) * 100})
    assert len(page["properties"]["Notes"]["rich_text"]) == 100


def test_date_values_come_back_like_notion(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = create_row(notion, sandbox_db, **{"Done on": {"date": {"start": "2021-01-01"}}})
    assert page["properties"]["Done on"]["date"] == {
        "start": "2021-01-01",
        "end": None,
        "time_zone": None,
    }
    updated = notion.pages.update(
        page["id"],
        properties={
            "Done on": {
                "type": "date",
                "date": {"start": "2024-01-08T12:00:00Z", "time_zone": "UTC"},
            }
        },
    )
    assert updated["properties"]["Done on"]["date"] == {
        "start": "2024-01-08T12:00:00.000+00:00",
        "end": None,
        "time_zone": None,
    }
    local = notion.pages.update(
        page["id"],
        properties={
            "Done on": {
                "date": {
                    "start": "2024-07-08T12:34:56.789",
                    "end": "2024-07-09T08:00:59",
                    "time_zone": "Europe/London",
                }
            }
        },
    )
    # Recorded: a date-time is cut to the minute and answered with the zone's offset applied.
    assert local["properties"]["Done on"]["date"] == {
        "start": "2024-07-08T12:34:00.000+01:00",
        "end": "2024-07-09T08:00:00.000+01:00",
        "time_zone": None,
    }
    offset = notion.pages.update(
        page["id"],
        properties={"Done on": {"date": {"start": "2024-01-08T12:00:30+02:00"}}},
    )
    assert offset["properties"]["Done on"]["date"]["start"] == "2024-01-08T10:00:00.000+00:00"
    cleared = notion.pages.update(page["id"], properties={"Done on": {"date": None}})
    assert cleared["properties"]["Done on"]["date"] is None


def test_update_changes_only_the_properties_sent(
    notion: Client, sandbox_db: SandboxDatabase
) -> None:
    page = create_row(notion, sandbox_db, Key={"rich_text": text("k")}, Hours={"number": 2})
    updated = notion.pages.update(page["id"], properties={"Done": {"checkbox": True}})
    assert updated["properties"]["Done"]["checkbox"] is True
    assert plain(updated["properties"]["Key"]) == "k"
    assert updated["properties"]["Hours"]["number"] == 2
    by_id = notion.pages.update(
        page["id"], properties={sandbox_db.property_ids["Hours"]: {"number": 3.5}}
    )
    assert by_id["properties"]["Hours"]["number"] == 3.5


def test_trash_restore_and_the_archived_alias(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = create_row(notion, sandbox_db, Key={"rich_text": text("k")})
    trashed = notion.pages.update(page["id"], in_trash=True)
    assert (trashed["in_trash"], trashed["archived"], trashed["is_archived"]) == (True, True, False)
    assert notion.data_sources.query(sandbox_db.data_source_id)["results"] == []
    assert notion.pages.retrieve(page["id"])["in_trash"] is True
    with pytest.raises(APIResponseError) as caught:
        notion.pages.update(page["id"], properties={"Done": {"checkbox": True}})
    assert caught.value.code == APIErrorCode.ValidationError
    assert str(caught.value) == (
        "Can't edit block that is archived. You must unarchive the block before editing."
    )
    restored = notion.pages.update(
        page["id"], archived=False, properties={"Done": {"checkbox": True}}
    )
    assert restored["in_trash"] is False and restored["properties"]["Done"]["checkbox"] is True
    archived = notion.pages.update(page["id"], archived=True)
    assert archived["in_trash"] is True and archived["archived"] is True


def test_icons(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id}, properties={}, icon={"emoji": "✅"}
    )
    assert page["icon"] == {"type": "emoji", "emoji": "✅"}
    external = notion.pages.update(
        page["id"], icon={"type": "external", "external": {"url": "https://example.com/i.png"}}
    )
    assert external["icon"] == {
        "type": "external",
        "external": {"url": "https://example.com/i.png"},
    }
    assert notion.pages.update(page["id"], icon=None)["icon"] is None
    with pytest.raises(APIResponseError, match=r"body\.icon"):
        notion.pages.update(page["id"], icon={"type": "file_upload"})


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_timestamps_are_minute_rounded_and_follow_the_sandbox_clock(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    page = create_row(notion, sandbox_db)
    sandbox.control.advance_clock(150)
    updated = notion.pages.update(page["id"], properties={"Done": {"checkbox": True}})
    assert MINUTE_TIME.match(updated["last_edited_time"])
    assert updated["created_time"] == page["created_time"]
    gap = _parse(updated["last_edited_time"]) - _parse(page["last_edited_time"])
    assert gap.total_seconds() in (120, 180)


def test_filter_properties_on_retrieve(notion: Client, sandbox_db: SandboxDatabase) -> None:
    page = create_row(notion, sandbox_db, Done={"checkbox": True})
    done_id = sandbox_db.property_ids["Done"]
    only = notion.pages.retrieve(page["id"], filter_properties=[done_id, "title"])
    assert set(only["properties"]) == {"Done", "Name"}


def test_computed_properties(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    notion.data_sources.update(
        sandbox_db.data_source_id,
        properties={
            "Created": {"created_time": {}},
            "Edited": {"last_edited_time": {}},
            "Editor": {"last_edited_by": {}},
        },
    )
    page = create_row(notion, sandbox_db)
    sandbox.control.tick(page["id"])
    values = notion.pages.retrieve(page["id"])["properties"]
    assert values["Created"]["created_time"] == page["created_time"]
    assert MINUTE_TIME.match(values["Edited"]["last_edited_time"])
    assert values["Editor"]["last_edited_by"]["type"] == "person"
    with pytest.raises(APIResponseError, match="cannot be set"):
        notion.pages.update(page["id"], properties={"Created": {"created_time": "2020-01-01"}})


def test_page_cover_is_set_and_cleared(notion: Client, sandbox: SandboxServer) -> None:
    cover = {"type": "external", "external": {"url": "https://example.com/cover.jpg"}}
    page = notion.pages.create(parent={"page_id": sandbox.root_page_id}, properties={}, cover=cover)
    assert page["cover"] == cover
    assert notion.pages.update(page["id"], cover=None)["cover"] is None
    with pytest.raises(
        APIResponseError, match=re.escape("body.cover.external.url should be a string")
    ):
        notion.pages.update(page["id"], cover={"type": "external", "external": {}})
