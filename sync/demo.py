"""`dsprogress demo`: the whole loop against a local sandbox, with no Notion account.

Starts the sandbox on a free port, syncs the checklist into it, acts as the learner in "Notion"
(ticks a few items, marks one in progress, adds an own item), syncs again and shows the progress:
`status` as the terminal shows it, then the series the Progress tab's charts show in "Notion".
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.config import Settings, load_settings
from sync.engine import SyncReport
from sync.notion.adapter import NotionAdapter
from sync.notion.cockpit import TITLES, WIDGETS
from sync.notion.mark import parse_mark
from sync.sandbox import SandboxServer
from sync.sandbox.control import SandboxControl
from sync.store import open_store

Say = Callable[[str], None]
DEMO_RATE_LIMIT = 3.0


def build_demo_settings(sandbox: SandboxServer, state_dir: Path) -> Settings:
    return load_settings(
        None,
        NOTION_TOKEN=sandbox.token,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
        NOTION_BASE_URL=sandbox.base_url,
        DSPROGRESS_STATE_DIR=str(state_dir),
        DSPROGRESS_RATE_LIMIT=str(DEMO_RATE_LIMIT),
        NOTION_DATABASE_ID="",
    )


def _key_of(page: dict[str, object]) -> str:
    properties = page.get("properties")
    assert isinstance(properties, dict)
    key = properties.get("Key") or {}
    return "".join(t.get("plain_text", "") for t in key.get("rich_text", []))


def act_as_learner(
    control: SandboxControl, data_source_id: str, titles: Mapping[str, str], say: Say
) -> None:
    """What a learner does in the Notion app during a week (told by the items' titles)."""
    pages = {_key_of(p): str(p["id"]) for p in control.pages(data_source_id)}
    for key in (
        "entry.data_handling.small_image_datasets",
        "entry.networks.dense",
        "entry.networks.cnn",
    ):
        if key in pages:
            control.tick(pages[key])
            say(f"  ticked Done on '{titles[key]}'")
    rnn = "entry.networks.rnn"
    if rnn in pages:
        control.set_select(pages[rnn], "Status", "In progress")
        control.set_text(pages[rnn], "Notes", "Working through a text classifier")
        say(f"  set '{titles[rnn]}' to In progress, with a note")
    control.add_row(data_source_id, "Kaggle: Titanic competition", {"Done": {"checkbox": True}})
    say("  added an own row 'Kaggle: Titanic competition', ticked")


def run_demo(
    say: Say,
    sync: Callable[[Settings, Checklist], SyncReport],
    show_status: Callable[[Settings], None],
    state_dir: Path | None = None,
) -> Path:
    """Run the demo; return the state folder (kept, so the learner can look at it).

    `sync` runs one sync and shows its report (the CLI wraps it in its progress display).
    """
    folder = state_dir or Path(tempfile.mkdtemp(prefix="dsprogress-demo-"))
    checklist = load_checklist()
    titles = {item.key: item.title for item in checklist.items}
    with SandboxServer(port=0) as sandbox:
        settings = build_demo_settings(sandbox, folder)
        say(f"Sandbox Notion at {sandbox.base_url}; state in {folder}")
        say(f"1. First sync: the checklist ({len(checklist.items)} items) goes into Notion")
        sync(settings, checklist)
        with open_store(folder) as store:
            data_source_id = store.get_meta("data_source_id")
        assert data_source_id is not None
        say("2. Meanwhile, in Notion, the learner...")
        act_as_learner(sandbox.control, data_source_id, titles, say)
        say("3. Second sync: ticks come back, with a dated history")
        sync(settings, checklist)
        say("4. Progress (`dsprogress status`, no network needed)")
        show_status(settings)
        say("5. The same progress in Notion's Progress tab (charts Notion computes from the rows)")
        for line in read_cockpit_lines(settings, sandbox.control, folder):
            say(f"  {line}")
    return folder


def read_cockpit_lines(settings: Settings, control: SandboxControl, folder: Path) -> list[str]:
    """One line per chart of the Progress tab: what it shows now (the sandbox computes it)."""
    with open_store(folder) as store:
        database_id = store.get_meta("database_id")
    assert database_id is not None and settings.token is not None
    with NotionAdapter(settings.token, settings.notion_base_url) as notion:
        mark = parse_mark(notion.fetch_database(database_id).get("description"))
    if mark is None or mark.cockpit is None or mark.cockpit.refused is not None:
        return ["(no Progress tab in this database)"]
    lines = []
    for name in WIDGETS:
        view_id = mark.cockpit.widgets.get(name)
        if view_id is None or name == "next_up":
            continue
        lines.append(render_chart_line(TITLES[name], name, control.chart(view_id)))
    return lines


def render_chart_line(title: str, name: str, series: Mapping[str, Any]) -> str:
    labels = [str(label) for label in series.get("labels") or []]
    values = [float(value) for value in series.get("values") or []]
    if name == "overall":
        return f"{title}: {values[0]:.1f}%" if values else f"{title}: -"
    unit = "%" if name == "levels" else ""
    shown = ", ".join(
        f"{label} {value:.1f}{unit}" if unit else f"week of {label}: {value:g}"
        for label, value in zip(labels, values, strict=True)
    )
    return f"{title}: {shown or '-'}"
