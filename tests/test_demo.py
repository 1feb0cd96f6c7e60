"""The demo (the README's first command) shows the whole loop working."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_ends_with_a_status_showing_the_ticked_items(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_"))}
    env["COLUMNS"] = "80"  # the README shows an 80-column terminal
    state = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, "-m", "sync", "demo", "--state-dir", str(state)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    status = out[out.index("4. Progress") :]
    assert "This week: 4 done" in status  # the own item added already ticked counts
    for title in (
        "Small image datasets",
        "Dense layers",
        "Convolutional neural networks",
        "Kaggle: Titanic competition",
    ):
        assert f"✓ {title}" in status
    assert "Your own items" in status
    # Then what the Progress tab's charts show, next to status: the same numbers.
    cockpit = out[out.index("5. The same progress in Notion's Progress tab") :]
    overall = json.loads(
        subprocess.run(
            [sys.executable, "-m", "sync", "status", "--json"],
            cwd=tmp_path,
            env={**env, "DSPROGRESS_STATE_DIR": str(state)},
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )
    shown = re.search(r"Done overall: (\d+)\.\d%", cockpit)
    assert shown is not None and int(shown.group(1)) == overall["progress"]["percent"]
    assert "No Level 100.0%" in cockpit  # the own item, done
    weeks = overall["done_by_week"]
    assert f"week of {weeks[-1]['week_of']}: {sum(w['done'] for w in weeks)}" in cockpit
    snapshot = json.loads((state / "snapshot.json").read_text())
    done = {item["key"] for item in snapshot["items"] if item["done"]}
    assert "entry.networks.cnn" in done and "custom.kaggle-titanic-competition" in done
    assert "Traceback" not in result.stderr
    # app.notion.com knows no sandbox id: every link printed is the sandbox's own
    assert "app.notion.com" not in out + result.stderr and "notion.so" not in out
    assert out.count("/__sandbox/open/") >= 2  # the database created, and status's link
    assert _comparable(_readme_block("demo-output")) == _comparable(out)


def _readme_block(marker: str) -> str:
    """The code block after `<!-- marker ... -->` in README.md."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index(f"<!-- {marker}") :]
    start = after.index("```text\n") + len("```text\n")
    return after[start : after.index("```", start)]


def _comparable(text: str) -> str:
    """The demo's words, without what changes from run to run (ports, ids, folders, timings,
    the clock) or with the terminal's wrapping."""
    for pattern, stand_in in (
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"/__sandbox/open/[0-9a-f]{32}", "/__sandbox/open/ID"),
        (r"\(\d+ requests?, [\d.]+ s\)", "(N requests, T s)"),
        (r"Last sync: .*", "Last sync: WHEN"),
        (r"state in \S+", "state in FOLDER"),
        (r"Snapshot: \S+", "Snapshot: FILE"),
        (r"week of \d{4}-\d{2}-\d{2}", "week of DAY"),
    ):
        text = re.sub(pattern, stand_in, text)
    return " ".join(text.split())
