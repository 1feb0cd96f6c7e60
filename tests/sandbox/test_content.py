"""Block children and page Markdown."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIErrorCode, APIResponseError, Client

from sync.sandbox import SandboxServer
from sync.sandbox.ids import normalize_id
from tests.sandbox_fixtures import SandboxDatabase, plain, text


@pytest.fixture
def page(notion: Client, sandbox: SandboxServer) -> dict[str, Any]:
    result: dict[str, Any] = notion.pages.create(
        parent={"page_id": sandbox.root_page_id}, properties={"title": text("Notes")}
    )
    return result


def rich(content: str) -> dict[str, Any]:
    return {"rich_text": text(content)}


BLOCKS: list[dict[str, Any]] = [
    {"type": "heading_1", "heading_1": rich("Title")},
    {"type": "heading_2", "heading_2": rich("Section")},
    {"type": "heading_3", "heading_3": {**rich("Sub"), "is_toggleable": True}},
    {"type": "paragraph", "paragraph": rich("Some text")},
    {"type": "bulleted_list_item", "bulleted_list_item": rich("bullet")},
    {"type": "numbered_list_item", "numbered_list_item": {**rich("first"), "color": "red"}},
    {"type": "to_do", "to_do": {**rich("task"), "checked": True}},
    {"type": "divider", "divider": {}},
    {"type": "callout", "callout": {**rich("Tip"), "icon": {"type": "emoji", "emoji": "🚀"}}},
    {"quote": rich("Quoted")},
    {"type": "toggle", "toggle": rich("More")},
    {"type": "code", "code": {**rich("SELECT 1"), "language": "sql"}},
    {"type": "bookmark", "bookmark": {"url": "https://example.com"}},
    {"type": "equation", "equation": {"expression": "e^{i\\pi}"}},
    {"type": "table_of_contents", "table_of_contents": {}},
    {"type": "breadcrumb", "breadcrumb": {}},
]
PAYLOAD_KEYS = {
    "heading_1": {"rich_text", "is_toggleable", "color"},
    "heading_2": {"rich_text", "is_toggleable", "color"},
    "heading_3": {"rich_text", "is_toggleable", "color"},
    "paragraph": {"rich_text", "icon", "color"},
    "bulleted_list_item": {"rich_text", "color"},
    "numbered_list_item": {"rich_text", "color"},
    "to_do": {"rich_text", "checked", "color"},
    "divider": set(),
    "callout": {"rich_text", "icon", "color"},
    "quote": {"rich_text", "color"},
    "toggle": {"rich_text", "color"},
    "code": {"caption", "rich_text", "language"},
    "bookmark": {"caption", "url"},
    "equation": {"expression"},
    "table_of_contents": {"color"},
    "breadcrumb": set(),
}


def test_append_and_list_every_supported_block(notion: Client, page: dict[str, Any]) -> None:
    appended = notion.blocks.children.append(page["id"], children=BLOCKS)
    assert appended["object"] == "list" and appended["type"] == "block" and appended["block"] == {}
    types = [block["type"] for block in appended["results"]]
    assert types == [b.get("type", "quote") for b in BLOCKS]
    for block in appended["results"]:
        assert block["parent"] == {"type": "page_id", "page_id": page["id"]}
        assert set(block[block["type"]]) == PAYLOAD_KEYS[block["type"]], block["type"]
        assert block["has_children"] is False and block["in_trash"] is False
    listed = notion.blocks.children.list(page["id"])
    assert [b["id"] for b in listed["results"]] == [b["id"] for b in appended["results"]]
    to_do = listed["results"][6]
    assert (
        to_do["to_do"]["checked"] is True
        and plain({"type": "x", "x": to_do["to_do"]["rich_text"]}) == "task"
    )
    assert listed["results"][5]["numbered_list_item"]["color"] == "red"


def test_nested_children_and_retrieve(notion: Client, page: dict[str, Any]) -> None:
    appended = notion.blocks.children.append(
        page["id"],
        children=[
            {"bulleted_list_item": {**rich("parent"), "children": [{"paragraph": rich("child")}]}}
        ],
    )
    parent = appended["results"][0]
    assert parent["has_children"] is True
    children = notion.blocks.children.list(parent["id"])["results"]
    assert [c["type"] for c in children] == ["paragraph"]
    assert children[0]["parent"] == {"type": "block_id", "block_id": parent["id"]}
    assert notion.blocks.retrieve(children[0]["id"])["id"] == children[0]["id"]


def test_children_pagination_uses_block_ids(notion: Client, page: dict[str, Any]) -> None:
    notion.blocks.children.append(
        page["id"], children=[{"paragraph": rich(f"p{i}")} for i in range(5)]
    )
    first = notion.blocks.children.list(page["id"], page_size=2)
    assert first["has_more"] is True
    assert normalize_id(first["next_cursor"]) == first["next_cursor"]
    second = notion.blocks.children.list(page["id"], page_size=2, start_cursor=first["next_cursor"])
    third = notion.blocks.children.list(page["id"], page_size=2, start_cursor=second["next_cursor"])
    texts = [
        b["paragraph"]["rich_text"][0]["plain_text"]
        for r in (first, second, third)
        for b in r["results"]
    ]
    assert texts == ["p0", "p1", "p2", "p3", "p4"]
    assert third["has_more"] is False and third["next_cursor"] is None


def test_append_after_a_sibling(notion: Client, page: dict[str, Any]) -> None:
    first = notion.blocks.children.append(
        page["id"], children=[{"paragraph": rich("a")}, {"paragraph": rich("c")}]
    )
    notion.blocks.children.append(
        page["id"], children=[{"paragraph": rich("b")}], after=first["results"][0]["id"]
    )
    listed = notion.blocks.children.list(page["id"])["results"]
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in listed] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("children", "message"),
    [
        (
            [{"paragraph": rich("x")}] * 101,
            "body.children.length should be ≤ `100`, instead was `101`.",
        ),
        ([{"type": "image", "image": {}}], "does not support image blocks"),
        (
            [{"paragraph": {"rich_text": text("x" * 2001)}}],
            "text.content.length should be ≤ `2000`",
        ),
        ([{"type": "unicorn", "unicorn": {}}], "body.children[0].type should be a block type"),
        (
            [
                {
                    "bulleted_list_item": {
                        **rich("1"),
                        "children": [
                            {
                                "bulleted_list_item": {
                                    **rich("2"),
                                    "children": [{"paragraph": rich("3")}],
                                }
                            }
                        ],
                    }
                }
            ],
            "maximum nesting",
        ),
    ],
)
def test_bad_appends_are_400(
    notion: Client, page: dict[str, Any], children: list[Any], message: str
) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.blocks.children.append(page["id"], children=children)
    assert caught.value.code == APIErrorCode.ValidationError
    assert message in str(caught.value)
    assert notion.blocks.children.list(page["id"])["results"] == []


def test_child_pages_and_databases_show_as_blocks(
    notion: Client, sandbox: SandboxServer, page: dict[str, Any], sandbox_db: SandboxDatabase
) -> None:
    children = notion.blocks.children.list(sandbox.root_page_id)["results"]
    kinds = {(c["type"], c["id"]) for c in children}
    assert ("child_page", page["id"]) in kinds
    assert ("child_database", sandbox_db.database_id) in kinds
    child_page = next(c for c in children if c["id"] == page["id"])
    assert child_page["child_page"] == {"title": "Notes"}


def test_delete_blocks_and_pages(
    notion: Client, sandbox: SandboxServer, page: dict[str, Any]
) -> None:
    block = notion.blocks.children.append(page["id"], children=[{"paragraph": rich("gone")}])[
        "results"
    ][0]
    deleted = notion.blocks.delete(block["id"])
    assert deleted["in_trash"] is True and deleted["archived"] is True
    assert notion.blocks.children.list(page["id"])["results"] == []
    as_block = notion.blocks.delete(page["id"])
    assert as_block["type"] == "child_page" and as_block["in_trash"] is True
    assert notion.pages.retrieve(page["id"])["in_trash"] is True
    with pytest.raises(APIResponseError, match="archived"):
        notion.blocks.children.append(page["id"], children=[{"paragraph": rich("x")}])
    ids = [c["id"] for c in notion.blocks.children.list(sandbox.root_page_id)["results"]]
    assert page["id"] not in ids


def test_create_page_with_children_and_with_markdown(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    with_children = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={"Name": {"title": text("Row")}},
        children=[{"paragraph": rich("about this item")}],
    )
    listed = notion.blocks.children.list(with_children["id"])["results"]
    assert [b["type"] for b in listed] == ["paragraph"]
    from_markdown = notion.pages.create(
        parent={"page_id": sandbox.root_page_id},
        markdown="# Meeting Notes\n\nDiscussed roadmap.\n\n- [ ] Draft proposal",
    )
    assert plain(from_markdown["properties"]["title"]) == "Meeting Notes"
    markdown = notion.pages.retrieve_markdown(from_markdown["id"])["markdown"]
    assert markdown == "Discussed roadmap.\n- [ ] Draft proposal"
    with pytest.raises(APIResponseError, match="mutually exclusive"):
        notion.pages.create(parent={"page_id": sandbox.root_page_id}, markdown="x", children=[])


def test_markdown_insert_matches_the_recording(notion: Client, page: dict[str, Any]) -> None:
    empty = notion.pages.retrieve_markdown(page["id"])
    assert empty == {
        "object": "page_markdown",
        "id": page["id"],
        "markdown": "",
        "truncated": False,
        "unknown_block_ids": [],
        "request_id": empty["request_id"],
    }
    updated = notion.pages.update_markdown(
        page["id"],
        type="insert_content",
        insert_content={"content": "## New Section\n\nHello from markdown."},
    )
    assert updated["object"] == "page_markdown"
    assert updated["markdown"] == "## New Section\nHello from markdown."


def test_markdown_round_trip_and_replace(notion: Client, page: dict[str, Any]) -> None:
    source = "\n".join(
        [
            "# Heading",
            "Text with **bold**, *italic*, `code` and [a link](https://example.com)",
            "- bullet",
            "\t- nested bullet",
            "1. numbered",
            "- [x] done",
            "- [ ] open",
            "> quote",
            "---",
            '<callout icon="💡">Careful</callout>',
            "```python",
            "print(1)",
            "```",
            "$$E=mc^2$$",
        ]
    )
    notion.pages.update_markdown(
        page["id"], type="replace_content", replace_content={"new_str": source}
    )
    assert notion.pages.retrieve_markdown(page["id"])["markdown"] == source
    blocks = notion.blocks.children.list(page["id"])["results"]
    paragraph = blocks[1]["paragraph"]["rich_text"]
    assert [item["annotations"]["bold"] for item in paragraph][:2] == [False, True]
    assert paragraph[-1]["href"] == "https://example.com"
    assert blocks[2]["has_children"] is True
    notion.pages.update_markdown(
        page["id"], type="replace_content", replace_content={"new_str": "only this"}
    )
    assert notion.pages.retrieve_markdown(page["id"])["markdown"] == "only this"
    assert len(notion.blocks.children.list(page["id"])["results"]) == 1


def test_markdown_insert_positions(notion: Client, page: dict[str, Any]) -> None:
    notion.pages.update_markdown(
        page["id"], type="replace_content", replace_content={"new_str": "first\nlast"}
    )
    notion.pages.update_markdown(
        page["id"],
        type="insert_content",
        insert_content={"content": "start", "position": {"type": "start"}},
    )
    notion.pages.update_markdown(
        page["id"],
        type="insert_content",
        insert_content={"content": "middle", "after": "first...first"},
    )
    assert notion.pages.retrieve_markdown(page["id"])["markdown"] == "start\nfirst\nmiddle\nlast"
    with pytest.raises(APIResponseError, match="Could not find the text"):
        notion.pages.update_markdown(
            page["id"], type="insert_content", insert_content={"content": "x", "after": "absent..."}
        )
    with pytest.raises(APIResponseError, match="does not support update_content"):
        notion.pages.update_markdown(page["id"], type="update_content", update_content={})


def test_unknown_blocks_are_listed_in_markdown(notion: Client, page: dict[str, Any]) -> None:
    appended = notion.blocks.children.append(
        page["id"],
        children=[{"paragraph": rich("before")}, {"bookmark": {"url": "https://example.com"}}],
    )
    result = notion.pages.retrieve_markdown(page["id"])
    assert result["unknown_block_ids"] == [appended["results"][1]["id"]]
    assert result["markdown"].startswith("before\n<unknown ")


def test_children_page_size_over_100_is_400(notion: Client, page: dict[str, Any]) -> None:
    with pytest.raises(APIResponseError) as caught:
        notion.blocks.children.list(page["id"], page_size=101)
    assert str(caught.value) == (
        "query failed validation: query.page_size should be ≤ `100`, instead was `101`."
    )


def test_append_after_answers_the_new_blocks_and_the_siblings_after_them(
    notion: Client, page: dict[str, Any]
) -> None:
    first = notion.blocks.children.append(
        page["id"], children=[{"paragraph": rich(t)} for t in ("a", "d", "e")]
    )
    answer = notion.blocks.children.append(
        page["id"],
        children=[{"paragraph": rich("b")}, {"paragraph": rich("c")}],
        after=first["results"][0]["id"],
    )
    shown = [b["paragraph"]["rich_text"][0]["plain_text"] for b in answer["results"]]
    assert shown == ["b", "c", "d", "e"]  # as recorded: not only the new blocks


def test_mentions_of_dates_pages_databases_and_users(
    notion: Client, sandbox: SandboxServer, page: dict[str, Any], sandbox_db: SandboxDatabase
) -> None:
    learner = next(u for u in notion.users.list()["results"] if u["type"] == "person")
    mentions = [
        {"mention": {"type": "date", "date": {"start": "2022-12-16", "end": None}}},
        {"type": "mention", "mention": {"type": "page", "page": {"id": page["id"]}}},
        {"mention": {"database": {"id": sandbox_db.database_id}}},
        {"mention": {"type": "user", "user": {"object": "user", "id": learner["id"]}}},
    ]
    block = notion.blocks.children.append(
        page["id"], children=[{"paragraph": {"rich_text": mentions}}]
    )["results"][0]
    items = block["paragraph"]["rich_text"]
    assert [i["plain_text"] for i in items] == [
        "2022-12-16",
        "Notes",
        "DS Progress",
        f"@{learner['name']}",
    ]
    assert items[0]["mention"] == {
        "type": "date",
        "date": {"start": "2022-12-16", "end": None, "time_zone": None},
    }
    assert items[1]["mention"] == {"type": "page", "page": {"id": page["id"]}}
    assert items[1]["href"] == "https://app.notion.com/p/" + page["id"].replace("-", "")
    assert items[3]["mention"]["user"]["person"] == {"email": learner["person"]["email"]}
    assert items[3]["href"] is None
    # A learner's @-mention in a row's Notes is kept and read back.
    row = notion.pages.create(
        parent={"data_source_id": sandbox_db.data_source_id},
        properties={"Notes": {"rich_text": [*text("due "), mentions[0]]}},
    )
    assert plain(row["properties"]["Notes"]) == "due 2022-12-16"
    with pytest.raises(APIResponseError) as caught:
        notion.blocks.children.append(
            page["id"],
            children=[
                {
                    "paragraph": {
                        "rich_text": [{"mention": {"page": {"id": sandbox.unshared_page_id}}}]
                    }
                }
            ],
        )
    assert caught.value.code == APIErrorCode.ObjectNotFound


def test_deleting_a_database_as_a_block_trashes_it(
    notion: Client, sandbox: SandboxServer, sandbox_db: SandboxDatabase
) -> None:
    block = notion.blocks.retrieve(sandbox_db.database_id)
    assert block["type"] == "child_database" and block["child_database"] == {"title": "DS Progress"}
    deleted = notion.blocks.delete(sandbox_db.database_id)
    assert deleted["type"] == "child_database" and deleted["in_trash"] is True
    assert notion.databases.retrieve(sandbox_db.database_id)["in_trash"] is True
    ids = [c["id"] for c in notion.blocks.children.list(sandbox.root_page_id)["results"]]
    assert sandbox_db.database_id not in ids
