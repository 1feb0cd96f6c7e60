"""Page content as Notion-flavoured Markdown, both ways (a practical subset).

Rendering joins blocks with one newline (as the recorded API does); nested children are indented
with tabs. Blocks without a Markdown form render as `<unknown .../>` and are listed in
`unknown_block_ids`. Parsing understands headings, bullets, numbered items, to-dos, quotes,
dividers, fenced code, `$$equations$$`, `<callout>` lines, tab-indented children and the inline
marks **bold**, *italic*, ~~strike~~, `code` and [links](url).
"""

from __future__ import annotations

import re
from typing import Any

from sync.sandbox.ids import JSON, compact_id, database_url, page_url
from sync.sandbox.objects import page_title, visible_children
from sync.sandbox.richtext import plain_text
from sync.sandbox.store import Workspace
from sync.sandbox.validate import MAX_RICH_TEXT_CONTENT

_INLINE = re.compile(
    r"\*\*(?P<bold>.+?)\*\*|~~(?P<strike>.+?)~~|`(?P<code>[^`]+?)`"
    r"|\[(?P<label>[^\]]+?)\]\((?P<url>[^)\s]+?)\)|\*(?P<italic>[^*]+?)\*"
)
_NUMBERED = re.compile(r"^\d+[.)]\s+")
_CALLOUT = re.compile(r'^<callout(?:\s+icon="(?P<icon>[^"]*)")?>(?P<text>.*)</callout>$')
_PREFIXES = (
    ("### ", "heading_3"),
    ("## ", "heading_2"),
    ("# ", "heading_1"),
    ("- [ ] ", "to_do"),
    ("- [x] ", "to_do"),
    ("- [X] ", "to_do"),
    ("- ", "bulleted_list_item"),
    ("* ", "bulleted_list_item"),
    ("+ ", "bulleted_list_item"),
    ("> ", "quote"),
)


def _inline_markdown(items: Any) -> str:
    parts: list[str] = []
    for item in items or []:
        text = str(item.get("plain_text", ""))
        marks = item.get("annotations", {})
        if marks.get("code"):
            text = f"`{text}`"
        if marks.get("bold"):
            text = f"**{text}**"
        if marks.get("italic"):
            text = f"*{text}*"
        if marks.get("strikethrough"):
            text = f"~~{text}~~"
        if item.get("href"):
            text = f"[{text}]({item['href']})"
        parts.append(text)
    return "".join(parts)


def _block_lines(ws: Workspace, page: JSON, kind: str, record: JSON) -> list[str] | None:
    if kind == "page":
        return [
            f'<page url="{page_url(page_title(record), record["id"])}">{page_title(record)}</page>'
        ]
    if kind == "database":
        title = plain_text(record["title"])
        return [f'<database url="{database_url(record["id"])}">{title}</database>']
    block_type, payload = record["type"], record["payload"]
    text = _inline_markdown(payload.get("rich_text"))
    simple = {
        "paragraph": text,
        "heading_1": f"# {text}",
        "heading_2": f"## {text}",
        "heading_3": f"### {text}",
        "bulleted_list_item": f"- {text}",
        "numbered_list_item": f"1. {text}",
        "quote": f"> {text}",
        "divider": "---",
    }
    if block_type in simple:
        return [simple[block_type]]
    if block_type == "to_do":
        return [f"- [{'x' if payload['checked'] else ' '}] {text}"]
    if block_type == "callout":
        emoji = (payload.get("icon") or {}).get("emoji", "")
        return [f'<callout icon="{emoji}">{text}</callout>']
    if block_type == "code":
        return [f"```{payload['language']}", plain_text(payload["rich_text"]), "```"]
    if block_type == "equation":
        return [f"$${payload['expression']}$$"]
    return None


def render_markdown(
    ws: Workspace, page: JSON, container: JSON | None = None
) -> tuple[str, list[str]]:
    """The page's content (or one container in it) as Markdown, and the ids of blocks that have
    no Markdown form."""
    lines: list[str] = []
    unknown: list[str] = []

    def walk(container: JSON, depth: int) -> None:
        for kind, record in visible_children(ws, container):
            rendered = _block_lines(ws, page, kind, record)
            if rendered is None:
                unknown.append(record["id"])
                anchor = f"{page_url(page_title(page), page['id'])}#{compact_id(record['id'])}"
                rendered = [f'<unknown url="{anchor}" alt="{record["type"]}"/>']
            lines.extend("\t" * depth + line for line in rendered)
            if kind == "block":
                walk(record, depth + 1)

    walk(container if container is not None else page, 0)
    return "\n".join(lines), unknown


def _text_request(text: str) -> list[JSON]:
    """Inline Markdown as request rich-text items (each ≤ 2,000 characters)."""
    items: list[JSON] = []

    def add(content: str, **marks: Any) -> None:
        link = marks.pop("link", None)
        for start in range(0, len(content), MAX_RICH_TEXT_CONTENT):
            chunk = content[start : start + MAX_RICH_TEXT_CONTENT]
            item: JSON = {"type": "text", "text": {"content": chunk}}
            if link:
                item["text"]["link"] = {"url": link}
            if marks:
                item["annotations"] = marks
            items.append(item)

    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            add(text[position : match.start()])
        if match.group("bold") is not None:
            add(match.group("bold"), bold=True)
        elif match.group("strike") is not None:
            add(match.group("strike"), strikethrough=True)
        elif match.group("code") is not None:
            add(match.group("code"), code=True)
        elif match.group("label") is not None:
            add(match.group("label"), link=match.group("url"))
        else:
            add(match.group("italic"), italic=True)
        position = match.end()
    if position < len(text):
        add(text[position:])
    return items


def _line_block(line: str) -> JSON:
    if line.strip() in ("---", "***", "___"):
        return {"type": "divider", "divider": {}}
    callout = _CALLOUT.match(line)
    if callout:
        body: JSON = {"rich_text": _text_request(callout.group("text"))}
        if callout.group("icon"):
            body["icon"] = {"type": "emoji", "emoji": callout.group("icon")}
        return {"type": "callout", "callout": body}
    if line.startswith("$$") and line.endswith("$$") and len(line) > 4:
        return {"type": "equation", "equation": {"expression": line[2:-2]}}
    for prefix, kind in _PREFIXES:
        if line.startswith(prefix):
            body = {"rich_text": _text_request(line[len(prefix) :])}
            if kind == "to_do":
                body["checked"] = prefix[3] in "xX"
            return {"type": kind, kind: body}
    numbered = _NUMBERED.match(line)
    if numbered:
        body = {"rich_text": _text_request(line[numbered.end() :])}
        return {"type": "numbered_list_item", "numbered_list_item": body}
    return {"type": "paragraph", "paragraph": {"rich_text": _text_request(line)}}


def parse_markdown(markdown: str) -> list[JSON]:
    """Markdown as request-form blocks, ready for `parse_blocks`."""
    top: list[JSON] = []
    stack: list[tuple[int, JSON]] = []
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        if not raw.strip():
            continue
        depth = len(raw) - len(raw.lstrip("\t"))
        line = raw.strip("\t").rstrip()
        if line.startswith("```"):
            language = line[3:].strip() or "plain text"
            code: list[str] = []
            while index < len(lines) and lines[index].strip("\t").rstrip() != "```":
                code.append(lines[index].lstrip("\t"))
                index += 1
            index += 1
            content = "\n".join(code)
            block = {
                "type": "code",
                "code": {
                    "rich_text": _text_request(content) if content else [],
                    "language": language,
                },
            }
        else:
            block = _line_block(line)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        kind = block["type"]
        if parent is not None and parent["type"] not in ("divider", "code", "equation"):
            parent[parent["type"]].setdefault("children", []).append(block)
        else:
            top.append(block)
        if kind not in ("divider", "code", "equation"):
            stack.append((depth, block))
    return top
