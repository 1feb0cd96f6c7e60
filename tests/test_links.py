"""Links printed for a sandbox point at the sandbox (app.notion.com knows no sandbox id);
links for Notion are Notion's, unchanged."""

from __future__ import annotations

from sync.links import shown_url

HEX = "0123456789abcdef0123456789ABCDEF"


def test_notion_links_are_unchanged() -> None:
    url = f"https://app.notion.com/p/{HEX}"
    assert shown_url(url, "https://api.notion.com") == url
    assert shown_url(url, "https://api.notion.com/") == url
    assert shown_url(None, "http://127.0.0.1:9") is None


def test_sandbox_links_open_the_sandbox_page_for_the_same_id() -> None:
    base = "http://127.0.0.1:8765"
    expected = f"{base}/__sandbox/open/{HEX.lower()}"
    assert shown_url(f"https://app.notion.com/p/{HEX}", base) == expected
    assert shown_url(f"https://app.notion.com/p/Learn-pandas-{HEX}", base + "/") == expected
    assert shown_url(f"https://app.notion.com/p/{HEX}?v={'1' * 32}", base) == expected  # a view
    assert shown_url("https://example.com/no-id-here", base) == "https://example.com/no-id-here"
