"""Rendering: escaping of Notion text, the links a digest may make, user templates, bars."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from sync.digest.data import DigestData
from sync.digest.deliver import load_digest
from sync.digest.render import (
    build_digest_json,
    build_trend,
    escape_markdown,
    render_digest,
    render_subject,
    text_bar,
)
from sync.errors import ConfigError
from sync.weeks import format_day_range, parse_week

from .scenarios import Learner, normal_week

HOSTILE_TITLE = '<script>alert("x")</script> <!channel> @everyone [click](https://evil.example)'


def hostile_digest(tmp_path: Path) -> DigestData:
    learner = Learner(tmp_path, "Europe/Berlin")
    learner.pull("2026-11-16 10:00")
    learner.edit(
        "entry.data.images",
        title=HOSTILE_TITLE,
        notes="<img src=x onerror=alert(1)> **bold** & more",
        evidence="javascript:alert(1)",
    )
    learner.edit("entry.data.text", url="javascript:alert(2)", evidence="https://ok.example/a(b)")
    learner.pull("2026-11-24 10:00", {"entry.data.images": "done", "entry.data.text": "done"})
    data = load_digest(
        learner.store,
        learner.checklist,
        week=parse_week("2026-W48"),
        zone=learner.zone,
        week_start="mon",
        now=learner.at("2026-11-30 08:00"),
    )
    learner.close()
    return data


class _Collector(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "br", "img", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name in ("href", "src")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def test_notion_text_is_escaped_in_html(tmp_path: Path) -> None:
    html = render_digest(hostile_digest(tmp_path), "html")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt; **bold** &amp; more" in html
    parser = _Collector()
    parser.feed(html)
    assert parser.stack == []  # every tag closed, in order
    assert not {"script", "style", "link", "img", "iframe"} & set(parser.tags)
    # the only links: Notion pages and http(s) evidence; never javascript:
    assert parser.hrefs and all(h.startswith(("https://", "http://")) for h in parser.hrefs)
    assert "https://evil.example" not in parser.hrefs


def test_notion_text_is_inert_in_markdown(tmp_path: Path) -> None:
    markdown = render_digest(hostile_digest(tmp_path), "md")
    assert not re.search(r"(?<!\\)<", markdown)  # every < is escaped: no HTML
    assert r"\<script\>" in markdown and r"\<img src=x" in markdown
    assert r"\[click\](https\://evil.example)" in markdown
    assert "](javascript" not in markdown and "Evidence: javascript:alert(1)" in markdown  # text
    assert "(https://ok.example/a%28b%29)" in markdown  # a link that cannot end early


def test_plain_text_keeps_text_as_is(tmp_path: Path) -> None:
    text = render_digest(hostile_digest(tmp_path), "text")
    assert HOSTILE_TITLE in text
    assert "Evidence: javascript:alert(1)" in text  # shown, never a link


def test_escape_markdown() -> None:
    assert escape_markdown("a*b_c`d") == r"a\*b\_c\`d"
    assert escape_markdown("# title") == r"\# title"
    assert escape_markdown("- item") == r"\- item"
    assert escape_markdown("1. first") == r"1\. first"
    assert escape_markdown("see www.x.org or http://y") == r"see www\.x.org or http\://y"
    assert escape_markdown("Q&A <b>") == r"Q\&A \<b\>"
    assert escape_markdown("save $5 {x} 2^3") == r"save \$5 \{x\} 2\^3"  # Notion: no equations


def test_text_bar() -> None:
    assert text_bar(0, 10) == "░" * 10
    assert text_bar(100, 10) == "█" * 10
    assert text_bar(99, 10) == "█" * 9 + "░"
    assert len(text_bar(37)) == 20


def test_subject_names_the_week(tmp_path: Path) -> None:
    learner, week, now = normal_week(tmp_path)
    data = load_digest(
        learner.store,
        learner.checklist,
        week=parse_week(week),
        zone=learner.zone,
        week_start="mon",
        now=learner.at(now),
    )
    learner.close()
    assert render_subject(data) == (
        "Data Science progress checklist: 2026-W48 (23–29 Nov), 3 items done"
    )
    numbers = build_digest_json(data)
    assert json.loads(render_digest(data, "json")) == numbers
    assert numbers["done_this_week"] == 3 and numbers["overall"]["percent"] == 60
    assert numbers["window"]["start"] == "2026-11-23T00:00:00+01:00"


def test_user_templates_override_the_bundled_ones(tmp_path: Path) -> None:
    data = hostile_digest(tmp_path / "state")
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "digest.txt.j2").write_text("{{ data.week }}: {{ data.done_this_week }} done\n")
    (mine / "digest.html.j2").write_text("<p>{{ data.completions[0].item.title }}</p>\n")
    assert render_digest(data, "text", templates_dir=mine) == "2026-W48: 2 done\n"
    assert "&lt;script&gt;" in render_digest(data, "html", templates_dir=mine)  # still escaped
    assert render_digest(data, "md", templates_dir=mine).startswith("# Data Science")  # bundled


def test_a_broken_user_template_is_a_config_error(tmp_path: Path) -> None:
    data = hostile_digest(tmp_path / "state")
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "digest.txt.j2").write_text("line one\n{{ data.no_such_field }}\n")
    with pytest.raises(ConfigError, match=r"digest\.txt\.j2, line 2 cannot be rendered"):
        render_digest(data, "text", templates_dir=mine)
    (mine / "digest.md.j2").write_text("{% if %}\n")
    with pytest.raises(ConfigError, match="cannot be rendered"):
        render_digest(data, "md", templates_dir=mine)


def test_trend_against_last_week_and_the_average() -> None:
    assert build_trend(3, 1, "last week") == "▲ 2 more than last week (1)"
    assert build_trend(0, 2, "last week") == "▼ 2 fewer than last week (2)"
    assert build_trend(2, 2, "last week") == "= same as last week (2)"
    assert build_trend(1, 0.5, "your four-week average") == "▲ above your four-week average (0.5)"
    assert build_trend(0, 0.67, "your four-week average") == "▼ below your four-week average (0.67)"


def test_week_ranges_read_as_people_write_them() -> None:
    assert format_day_range(date(2026, 11, 23), date(2026, 11, 29)) == "23–29 Nov"
    assert format_day_range(date(2026, 11, 30), date(2026, 12, 6)) == "30 Nov – 6 Dec"
    assert format_day_range(date(2026, 12, 28), date(2027, 1, 3)) == "28 Dec 2026 – 3 Jan 2027"


def test_every_format_links_to_the_checklist_database(tmp_path: Path) -> None:
    learner, week, now = normal_week(tmp_path)
    url = "https://www.notion.so/1a2b3c4d1a2b1a2b1a2b1a2b3c4d5e6f"
    learner.store.set_meta("database_url", url)
    data = load_digest(
        learner.store,
        learner.checklist,
        week=parse_week(week),
        zone=learner.zone,
        week_start="mon",
        now=learner.at(now),
    )
    learner.close()
    assert data.database_url == url
    assert f'<a href="{url}"' in render_digest(data, "html")
    assert f"[Open your checklist in Notion]({url})" in render_digest(data, "md")
    assert f"Your checklist: {url}" in render_digest(data, "text")
    assert "Open your checklist" not in render_digest(replace(data, database_url=None), "html")


def test_a_sandboxs_digest_links_to_the_sandboxs_own_page(tmp_path: Path) -> None:
    learner, week, now = normal_week(tmp_path)
    database_id = "1a2b3c4d1a2b1a2b1a2b1a2b3c4d5e6f"
    learner.store.set_meta("database_url", f"https://app.notion.com/p/{database_id}")
    data = load_digest(
        learner.store,
        learner.checklist,
        week=parse_week(week),
        zone=learner.zone,
        week_start="mon",
        now=learner.at(now),
        base_url="http://127.0.0.1:8765",
    )
    learner.close()
    assert data.database_url == f"http://127.0.0.1:8765/__sandbox/open/{database_id}"


def test_every_format_links_to_the_progress_tab_when_there_is_one(tmp_path: Path) -> None:
    learner, week, now = normal_week(tmp_path)
    url = "https://www.notion.so/1a2b3c4d1a2b1a2b1a2b1a2b3c4d5e6f"
    tab = f"{url}?v=3209b18dcc8f456c8931c420a490c722"
    learner.store.set_meta("database_url", url)
    learner.store.set_meta("progress_url", tab)
    data = load_digest(
        learner.store,
        learner.checklist,
        week=parse_week(week),
        zone=learner.zone,
        week_start="mon",
        now=learner.at(now),
    )
    learner.close()
    assert data.progress_url == tab
    assert f'<a href="{tab}"' in render_digest(data, "html")
    assert f"[See your progress charts]({tab})" in render_digest(data, "md")
    assert f"Your progress charts: {tab}" in render_digest(data, "text")
    for kind in ("html", "md", "text"):
        assert "progress charts" not in render_digest(replace(data, progress_url=None), kind)
