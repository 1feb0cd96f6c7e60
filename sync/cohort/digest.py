"""PURE: the weekly cohort digest in Markdown, plain text, HTML (with an activity heatmap per
learner) and JSON. Learners' Notes and Evidence appear only when the mentor includes them
(`DSPROGRESS_COHORT_INCLUDE_NOTES`); every number comes from the grid (`sync.progress`)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sync.cohort.grid import HEAT_DAYS, CohortGrid, LearnerNumbers
from sync.cohort.report import build_cohort_json, build_heat_days, build_level_names, find_level
from sync.digest.render import escape_markdown
from sync.weeks import WeekWindow, format_week
from sync.wording import format_day, plural

Format = Literal["md", "text", "html", "json"]
FORMATS: tuple[Format, ...] = ("md", "text", "html", "json")
HEAT_COLOURS = ("#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39")


@dataclass(frozen=True)
class CohortDigest:
    grid: CohortGrid
    window: WeekWindow
    now: datetime
    stalled_days: int
    include_notes: bool

    @property
    def week(self) -> str:
        return str(self.window.week)


def render_subject(digest: CohortDigest) -> str:
    grid = digest.grid
    return (
        f"Cohort digest {digest.week}: {plural(grid.done_in_week, 'completion')}, "
        f"{plural(len(grid.learners), 'learner')}"
    )


def _percent(numbers: LearnerNumbers, level: str) -> str:
    tally = find_level(numbers, level)
    return f"{tally.percent}%" if tally is not None and tally.total else "–"


def _last(numbers: LearnerNumbers) -> str:
    return format_day(numbers.last_activity) if numbers.last_activity else "never"


def _lines(digest: CohortDigest, *, md: bool) -> list[str]:
    """The digest's sentences, once, in order; `md` escapes the learners' text."""
    esc = escape_markdown if md else (lambda text: text)
    grid, out = digest.grid, []
    median = "–" if grid.median_percent is None else f"{grid.median_percent:g}%"
    out.append(f"{'# ' if md else ''}Cohort digest, {format_week(digest.window)}")
    out += [
        "",
        f"{plural(len(grid.learners), 'learner')}; {plural(grid.done_in_week, 'completion')} this "
        f"week; median {median} done.",
        "",
    ]
    levels = build_level_names(grid)
    out.append(f"{'## ' if md else ''}Progress")
    out.append("")
    header = ["Learner", "Done", *levels, "This week", "Last activity"]
    if md:
        out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    else:
        out.append("  " + ", ".join(header))
    for n in grid.learners:
        if not n.reachable:
            cells = [esc(n.name), "unreachable", *["–"] * len(levels), "–", _last(n)]
        else:
            done = f"{n.overall.done}/{n.overall.total} ({n.overall.percent}%)"
            cells = [esc(n.name), done, *[_percent(n, lv) for lv in levels]]
            cells += [str(len(n.completed)), _last(n)]
        out.append("| " + " | ".join(cells) + " |" if md else "  " + ", ".join(cells))
    out += ["", *_lists(digest, md=md)]
    return out


def _lists(digest: CohortDigest, *, md: bool) -> list[str]:
    esc = escape_markdown if md else (lambda text: text)
    grid, out = digest.grid, []
    head = "## " if md else ""
    stalled = [n for n in grid.learners if n.reachable and n.stalled]
    out.append(f"{head}Stalled (no completion in {plural(digest.stalled_days, 'day')})")
    out += [f"- {esc(n.name)}: last completion {_day(n.last_completion)}" for n in stalled] or [
        "- nobody"
    ]
    out += ["", f"{head}Behind the median"]
    behind = [n for n in grid.learners if n.behind]
    out += [f"- {esc(n.name)}: {n.overall.percent}%" for n in behind] or ["- nobody"]
    out += ["", f"{head}Completed this week"]
    for n in grid.learners:
        for c in n.completed:
            extra = ""
            if digest.include_notes and (c.notes or c.evidence):
                extra = " — " + "; ".join(esc(p) for p in (c.notes, c.evidence or "") if p)
            out.append(f"- {esc(n.name)}: {esc(c.title)} ({format_day(c.day)}){extra}")
    if not grid.done_in_week:
        out.append("- nothing this week")
    if grid.longest_started:
        out += ["", f"{head}In progress the longest"]
        out += [
            f"- {esc(s.title)}: {plural(s.learners, 'learner')}, "
            + (f"{plural(s.days, 'day')} in all" if s.days else "in progress since the first read")
            for s in grid.longest_started
        ]
    unreachable = [n for n in grid.learners if not n.reachable]
    if unreachable:
        out += ["", f"{head}Unreachable"]
        out += [f"- {esc(n.name)}: {esc(n.reason or 'not read')}" for n in unreachable]
    return out


def _day(day: date | None) -> str:
    return format_day(day) if day else "never"


def render_heatmap(numbers: LearnerNumbers, today: date) -> str:
    """Eight weeks of completions, one cell a day (columns are weeks), as an HTML table."""
    days = build_heat_days(today, HEAT_DAYS)
    rows = []
    for weekday in range(7):
        cells = []
        for day in days[weekday::7]:
            count = numbers.heat.get(day, 0)
            colour = HEAT_COLOURS[min(count, len(HEAT_COLOURS) - 1)]
            title = f"{format_day(day)}: {plural(count, 'completion')}"
            cells.append(
                f'<td title="{html.escape(title)}" style="width:9px;height:9px;padding:0;'
                f'background:{colour};border-radius:2px"></td>'
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table role="img" style="border-collapse:separate;border-spacing:2px" '
        f'aria-label="{html.escape(numbers.name)}: completions, last 8 weeks">'
        + "".join(rows)
        + "</table>"
    )


def _html_body(digest: CohortDigest) -> str:
    grid, today = digest.grid, digest.now.date()
    parts = [
        f'<h1 style="font-size:20px">Cohort digest, {html.escape(format_week(digest.window))}</h1>'
    ]
    lines = _lines(digest, md=False)
    parts.append(f"<p>{html.escape(lines[2])}</p>")
    levels = build_level_names(grid)
    head = "".join(
        f'<th style="text-align:left;padding:4px">{html.escape(h)}</th>'
        for h in ["Learner", "Done", *levels, "This week"]
    )
    body = []
    for n in grid.learners:
        flags = [
            f for f, on in (("stalled", n.reachable and n.stalled), ("behind", n.behind)) if on
        ]
        flag = f'<br><small style="color:#b35c00">{" · ".join(flags)}</small>' if flags else ""
        if n.reachable:
            done = f"{n.overall.percent}%<br><small>{n.overall.done}/{n.overall.total}</small>"
            cells = [done, *[html.escape(_percent(n, lv)) for lv in levels], str(len(n.completed))]
        else:
            cells = ["unreachable", *["–"] * len(levels), "–"]
        body.append(
            f'<tr style="border-top:1px solid #eee"><td style="padding:4px">'
            f"<b>{html.escape(n.name)}</b>{flag}</td>"
            + "".join(f'<td style="padding:4px">{c}</td>' for c in cells)
            + "</tr>"
        )
    parts.append(
        '<div style="overflow-x:auto"><table style="border-collapse:collapse;font-size:14px">'
        f"<tr>{head}</tr>{''.join(body)}</table></div>"
    )
    parts.append('<h2 style="font-size:16px">Activity, last 8 weeks</h2><div>')
    for n in grid.learners:
        parts.append(
            '<div style="display:inline-block;vertical-align:top;margin:0 12px 12px 0">'
            f'<div style="font-size:12px">{html.escape(n.name)}</div>'
            f"{render_heatmap(n, today)}</div>"
        )
    parts.append("</div>")
    rest = _lists(digest, md=False)
    parts.append(_html_lists(rest))
    return "".join(parts)


def _html_lists(lines: list[str]) -> str:
    out, open_list = [], False
    for line in lines:
        if line.startswith("- "):
            if not open_list:
                out.append("<ul>")
                open_list = True
            out.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if open_list:
            out.append("</ul>")
            open_list = False
        if line:
            out.append(f'<h2 style="font-size:16px">{html.escape(line)}</h2>')
    return "".join(out) + ("</ul>" if open_list else "")


def render_cohort_digest(digest: CohortDigest, fmt: Format) -> str:
    if fmt == "json":
        data: dict[str, Any] = build_cohort_json(
            digest.grid,
            window=digest.window,
            now=digest.now,
            stalled_days=digest.stalled_days,
            include_notes=digest.include_notes,
        )
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(render_subject(digest))}</title></head>"
            '<body style="font-family:system-ui,sans-serif;margin:16px;color:#222">'
            f"{_html_body(digest)}</body></html>\n"
        )
    return "\n".join(_lines(digest, md=fmt == "md")) + "\n"
