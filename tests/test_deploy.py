"""The deployment recipes in scripts/deploy/: each parses, and runs what the docs say it runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "scripts" / "deploy"
UNITS = ("dsprogress.service", "dsprogress-once.service", "dsprogress-once.timer")
_CRON_FIELD = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
CRON = re.compile(rf"^{_CRON_FIELD}( +{_CRON_FIELD}){{4}}$")


def load_workflow() -> dict[Any, Any]:
    data = yaml.safe_load((DEPLOY / "github-actions.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_workflow_runs_once_on_a_schedule_and_keeps_the_state() -> None:
    workflow = load_workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict)
    (schedule,) = triggers["schedule"]
    assert CRON.match(schedule["cron"])
    assert "workflow_dispatch" in triggers
    assert workflow["concurrency"]["cancel-in-progress"] is False

    (job,) = workflow["jobs"].values()
    assert job["env"]["NOTION_TOKEN"] == "${{ secrets.NOTION_TOKEN }}"
    state_dir = job["env"]["DSPROGRESS_STATE_DIR"]
    steps = job["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any(run.strip() == "dsprogress run --once" for run in runs)

    restore = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache/restore"))
    save = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache/save"))
    run_index = runs.index("dsprogress run --once")
    assert steps.index(restore) < run_index < steps.index(save)
    assert save["if"] == "always()"
    assert restore["with"]["path"] == save["with"]["path"]
    assert state_dir.endswith("/" + restore["with"]["path"])
    assert restore["with"]["restore-keys"]
    assert restore["with"]["key"] == save["with"]["key"]
    # No secret is ever written into the workflow itself.
    text = (DEPLOY / "github-actions.yml").read_text(encoding="utf-8")
    assert not re.search(r"ntn_[A-Za-z0-9]|secret_[A-Za-z0-9]{8}", text)


def test_crontab_line() -> None:
    lines = [
        line
        for line in (DEPLOY / "crontab.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert CRON.match(" ".join(fields[:5]))
    assert "run --once" in fields[5]
    assert "%" not in fields[5]  # cron would turn it into a newline


def read_unit(name: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current[key] = value
    return sections


def test_units_run_the_daemon_and_the_once_alternative() -> None:
    daemon = read_unit("dsprogress.service")
    assert daemon["Service"]["ExecStart"].endswith("dsprogress run")
    assert daemon["Service"]["KillSignal"] == "SIGTERM"
    assert set(daemon["Service"]["RestartPreventExitStatus"].split()) >= {"3", "9"}
    once = read_unit("dsprogress-once.service")
    assert once["Service"]["Type"] == "oneshot"
    assert " run --once" in once["Service"]["ExecStart"]
    timer = read_unit("dsprogress-once.timer")
    assert timer["Timer"]["Unit"] == "dsprogress-once.service"
    assert timer["Timer"]["Persistent"] == "true"


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    # verify checks that ExecStart exists: point it at this environment's dsprogress.
    executable = Path(sys.executable).parent / "dsprogress"
    if not executable.exists():
        pytest.skip("no dsprogress console script next to this Python")
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("%h/.local/bin/dsprogress", str(executable)))
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    if "Failed to initialize manager" in output:
        pytest.skip(f"systemd-analyze cannot run here: {output.strip()}")
    assert result.returncode == 0, output
    assert "dsprogress" not in output, output


def test_every_recipe_is_documented() -> None:
    doc = (ROOT / "docs" / "scheduling.md").read_text(encoding="utf-8")
    for path in sorted(DEPLOY.iterdir()):
        assert f"scripts/deploy/{path.name}" in doc
