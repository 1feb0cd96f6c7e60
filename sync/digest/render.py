"""Render a digest with Jinja2: Markdown, plain text, HTML email, and JSON for the numbers.

Templates are looked up in the user's `DSPROGRESS_TEMPLATES_DIR` first, then in the bundled
`templates/` folder, so a user can copy one template and change it. HTML templates autoescape; the
Markdown template escapes Notion text with the `md` filter. Every sentence a digest says is built
here once (`build_phrases`) as plain text, and each template escapes it for its format. Pure, apart
from reading the template files.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2

from sync.checklist_files import bundled_templates_dir
from sync.digest.data import DigestData, Pace, SyncHealth
from sync.errors import ConfigError
from sync.weeks import format_utc_offset, format_week
from sync.wording import (
    format_day,
    format_duration,
    format_in_progress,
    format_number,
    plural,
    skipped_note,
)

Format = Literal["md", "text", "html", "json"]
FORMATS: tuple[Format, ...] = ("md", "text", "html", "json")
TEMPLATE_NAMES: dict[str, str] = {
    "md": "digest.md.j2",
    "text": "digest.txt.j2",
    "html": "digest.html.j2",
}
BAR_WIDTH = 20
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|#${}^])")
_MD_LINE_START = re.compile(r"^(\s*\d*)([-+=.)])")
_MD_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)


# ----------------------------------------------------------------------------------- formatting


def format_moment(moment: datetime) -> str:
    """`Mon 23 Nov 2026 08:00` in the moment's own zone."""
    return f"{format_day(moment.date())} {moment:%H:%M}"


def wrap_text(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap a sentence for plain text; later lines get `indent`; URLs are never broken."""
    return textwrap.fill(
        text,
        width=width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def text_bar(percent: int, width: int = BAR_WIDTH) -> str:
    """`█████░░░░░`: the full cells round down, so a bar is only full at 100%."""
    full = max(0, min(width, percent * width // 100))
    return "█" * full + "░" * (width - full)


def escape_markdown(text: str) -> str:
    """Make Notion text inert in Markdown: no emphasis, links, HTML, headings or lists."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    escaped = escaped.replace("://", r"\://")
    escaped = _MD_WWW.sub(r"\1\\.", escaped)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def escape_markdown_url(url: str) -> str:
    """A link destination that cannot end the Markdown link early."""
    return "".join(f"%{ord(c):02X}" if c in "()<>\\ " else c for c in url)


def short_url(url: str, limit: int = 60) -> str:
    """`github.com/me/mnist` for a link label."""
    text = re.sub(r"^https?://", "", url, flags=re.IGNORECASE).rstrip("/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------- phrases


@dataclass(frozen=True)
class Phrases:
    """The sentences of a digest, plain text (each template escapes them for its format)."""

    subject: str
    week: str  # `2026-W48 (23–29 Nov)`
    headline: str
    comparison: str | None
    nudge: str | None
    consistency: str
    pace: str
    last_sync: str
    failures: str
    window: str
    skipped: str | None  # `1 skipped item not counted.`, as `dsprogress status` says it


def build_trend(this_week: int, reference: float, label: str) -> str:
    """`▲ 2 more than last week (1)`, `▼ below your four-week average (2.5)`, `= same as ...`."""
    shown = format_number(reference)
    if this_week == reference:
        return f"= same as {label} ({shown})"
    if float(reference).is_integer():
        gap = abs(this_week - int(reference))
        more = "more" if this_week > reference else "fewer"
        return f"{'▲' if this_week > reference else '▼'} {gap} {more} than {label} ({shown})"
    side = "above" if this_week > reference else "below"
    return f"{'▲' if this_week > reference else '▼'} {side} {label} ({shown})"


def _first_headline(data: DigestData) -> str:
    """`Your first week: 3 of 36 items done (8%), 2 this week and 1 earlier.` One total, the
    one under Progress; an item whose Done on the learner set before the week counts as earlier."""
    overall, start = data.overall, data.starting_point or data.overall
    headline = (
        f"Your first week: {overall.done} of {plural(overall.total, 'item')} done"
        f" ({overall.percent}%)"
    )
    parts = [f"{data.done_this_week} this week"] if data.done_this_week else []
    if start.done:
        before = f"{start.done} earlier"
        dated = data.starting_point_backdated
        if dated:
            whose = "its Done on date" if dated == 1 else "their Done on dates"
            before += f" ({'' if dated == start.done else f'{dated} '}by {whose})"
        parts.append(before)
    return headline + (", " + " and ".join(parts) if parts else "") + "."


def build_phrases(data: DigestData) -> Phrases:
    headline, subject_tail = _headline(data)
    last_sync, failures = _sync_phrases(data.sync)
    return Phrases(
        subject=f"{data.title}: {format_week(data.window)}, {subject_tail}",
        week=format_week(data.window),
        headline=headline,
        comparison=_comparison(data),
        nudge=_nudge(data),
        consistency=_consistency(data),
        pace=_pace(data.pace),
        last_sync=last_sync,
        failures=failures,
        window=_window(data),
        skipped=skipped_note(data.skipped),
    )


def _headline(data: DigestData) -> tuple[str, str]:
    """The headline, and the end of the subject line."""
    if data.is_first:
        return _first_headline(data), f"{data.overall.done} of {data.overall.total} done"
    if data.done_this_week:
        done = plural(data.done_this_week, "item")
        return f"{done} done this week.", f"{done} done"
    return "No new items ticked off this week.", "a quiet week"


def _comparison(data: DigestData) -> str | None:
    if data.is_first or data.done_last_week is None:
        return None
    comparison = build_trend(data.done_this_week, data.done_last_week, "last week")
    average, weeks = data.four_week_average, data.average_weeks
    if average is not None and weeks > 1:  # over one week it would repeat the last week
        label = "four-week average" if weeks >= 4 else f"average of the last {weeks} weeks"
        comparison += " · " + build_trend(data.done_this_week, average, f"your {label}")
    return comparison


def _nudge(data: DigestData) -> str | None:
    if not data.is_quiet:
        return None
    nudge = "A quiet week happens. "
    if data.next_up:
        return nudge + f"One small item is enough to get going again: {data.next_up[0].item.title}."
    return nudge + "Everything on the checklist is done: maybe pick a project of your own."


def _consistency(data: DigestData) -> str:
    run = data.consistency
    if data.is_first:
        return "This is your first tracked week."
    if run.current_run:
        return (
            f"{plural(run.current_run, 'active week')} in a row"
            f" · longest run: {plural(run.longest_run, 'week')}."
        )
    if run.longest_run:
        return (
            f"Your longest run so far is {plural(run.longest_run, 'active week')};"
            " one completed item next week starts a new one."
        )
    return "One completed item next week starts your first run of active weeks."


def _pace(pace: Pace) -> str:
    if pace.level is None:
        return "Every level is complete."
    if pace.weeks_needed is None or pace.eta is None:
        return (
            f"Not enough recent activity to estimate when {pace.level} will be finished"
            f" ({plural(pace.remaining, 'item')} left)."
        )
    measured = (
        f"At this week's pace ({plural(pace.per_week, 'item')} a week)"
        if pace.weeks_measured == 1
        else f"At your recent pace ({plural(pace.per_week, 'item')} a week over the last"
        f" {pace.weeks_measured} weeks)"
    )
    return (
        f"{measured}, {pace.level} ({plural(pace.remaining, 'item')} left) would be finished"
        f" in about {plural(pace.weeks_needed, 'week')}, around {format_day(pace.eta)}."
    )


def _sync_phrases(sync: SyncHealth) -> tuple[str, str]:
    """The last successful sync, and the failed syncs since the week began."""
    last_sync = (
        f"Last successful sync: {format_moment(sync.last_success)}."
        if sync.last_success
        else "No successful sync yet (run: dsprogress pull)."
    )
    since = format_day(sync.failures_since.date())
    if not sync.failures:
        return last_sync, f"No failed syncs since {since}."
    failures = f"{plural(sync.failures, 'failed sync')} since {since}"
    if sync.last_failure_at:
        failures += f"; the last on {format_moment(sync.last_failure_at)}"
    error = sync.last_failure_error
    if error:
        failures += f": {error}" + ("" if error.endswith((".", "!", "?")) else ".")
    else:
        failures += "."
    return last_sync, failures


def _window(data: DigestData) -> str:
    window = data.window
    start, end = window.start_local, window.end_local
    return (
        f"Week {data.week}: {format_moment(start)} ({format_utc_offset(start)}) to"
        f" {format_moment(end)} ({format_utc_offset(end)}), time zone {window.zone};"
        f" weeks start on {'Sunday' if window.week_start == 'sun' else 'Monday'}."
        f" Generated {format_moment(data.generated_at)}."
    )


# ------------------------------------------------------------------------------------ rendering


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html", ".html.j2", ".htm", ".xml"))


def build_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The user's folder (when set) first, then the bundled templates."""
    search = [str(templates_dir)] if templates_dir is not None else []
    search.append(str(bundled_templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=escape_markdown,
        md_url=escape_markdown_url,
        bar=text_bar,
        day=format_day,
        moment=format_moment,
        number=format_number,
        duration=format_duration,
        in_progress=format_in_progress,
        short_url=short_url,
        wrap=wrap_text,
    )
    env.globals["plural"] = plural
    return env


def render_digest(data: DigestData, fmt: Format, *, templates_dir: Path | None = None) -> str:
    """The digest as Markdown, plain text, HTML or JSON text."""
    if fmt == "json":
        return json.dumps(build_digest_json(data), indent=2, ensure_ascii=False) + "\n"
    name = TEMPLATE_NAMES[fmt]
    try:
        template = build_environment(templates_dir).get_template(name)
        return template.render(data=data, say=build_phrases(data))
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None) or _template_line(exc)
        where = name + (f", line {line}" if line else "")
        raise ConfigError(
            f"the digest template {where} cannot be rendered: {exc.message or type(exc).__name__}",
            hint="Fix your copy in DSPROGRESS_TEMPLATES_DIR, or delete it to use the bundled one.",
        ) from exc


def _template_line(exc: BaseException) -> int | None:
    """The template line an error was raised at (Jinja puts template frames in the traceback)."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename.endswith(".j2"):
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def render_subject(data: DigestData) -> str:
    return build_phrases(data).subject


def build_notion_summary(data: DigestData) -> str:
    """One line for the checklist database's description: last sync and done/total."""
    last = data.sync.last_success
    synced = f"Last sync {format_moment(last)}" if last else "Not synced yet"
    overall = data.overall
    return (
        f"{synced} · {overall.done}/{overall.total} done ({overall.percent}%)"
        f" · weekly digest {data.week}"
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def build_digest_json(data: DigestData) -> dict[str, Any]:
    """The numbers of a digest as JSON-ready data with stable keys (dates as ISO 8601)."""
    plain: dict[str, Any] = _plain(dataclasses.asdict(data))
    window = data.window
    plain["window"] = {
        "week": data.week,
        "zone": window.zone,
        "week_start": window.week_start,
        "start": window.start_local.isoformat(),
        "end": window.end_local.isoformat(),
        "start_utc": window.start.isoformat(),
        "end_utc": window.end.isoformat(),
    }
    plain["overall"]["percent"] = data.overall.percent
    if data.starting_point is not None:
        plain["starting_point"]["percent"] = data.starting_point.percent
    for level, source in zip(plain["levels"], data.levels, strict=True):
        level["progress"]["percent"] = source.progress.percent
        for category, cat_source in zip(level["categories"], source.categories, strict=True):
            category["progress"]["percent"] = cat_source.progress.percent
    plain["stalled_count"] = data.stalled_count
    return plain
