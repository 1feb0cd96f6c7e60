"""`dsprogress checklist validate|show`: output, JSON shape, exit codes and error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sync.checklist_files import bundled_checklist_path, load_checklist
from sync.cli import cli
from sync.errors import ChecklistError

REPO = Path(__file__).resolve().parents[2]

SMALL = {
    "title": "My checklist",
    "version": 3,
    "levels": [{"name": "Entry", "icon": "🌱", "categories": ["Networks"]}],
    "items": [
        {
            "key": "entry.networks.dense",
            "title": "Dense layers",
            "level": "Entry",
            "category": "Networks",
            "order": 1,
            "description": "Fully connected layers.",
        },
        {
            "key": "entry.networks.cnn",
            "title": "Convolutional neural networks",
            "level": "Entry",
            "category": "Networks",
            "order": 2,
            "ongoing": True,
        },
    ],
}

# Three problems: a bad order type, a duplicate key and an unknown level.
BROKEN = """\
title: Broken
version: 1
levels:
  - name: Entry
    categories: [Networks]
items:
  - {key: entry.networks.dense, title: Dense, level: Entry, category: Networks, order: abc}
  - {key: entry.networks.dense, title: Again, level: Entry, category: Networks, order: 2}
  - {key: entry.networks.cnn, title: CNN, level: Expert, category: Networks, order: 3}
"""


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("DSPROGRESS_CHECKLIST", raising=False)
    return CliRunner()


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def run_dsprogress(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real entry point (`sync.cli.main`), which turns errors into messages and exit codes."""
    environment = {k: v for k, v in os.environ.items() if k != "DSPROGRESS_CHECKLIST"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sync", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


# ------------------------------------------------------------------------- validate


def test_validate_defaults_to_the_bundled_checklist(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checklist", "validate"])
    assert result.exit_code == 0, result.output
    count = len(load_checklist().items)
    assert result.output == f"✓ {bundled_checklist_path()}: {count} items in 3 levels, version 1\n"


def test_validate_a_given_file(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(cli, ["checklist", "validate", str(small)])
    assert result.exit_code == 0, result.output
    assert result.output == f"✓ {small}: 2 items in 1 level, version 3\n"


def test_validate_uses_the_configured_checklist(
    runner: CliRunner, small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSPROGRESS_CHECKLIST", str(small))
    result = runner.invoke(cli, ["checklist", "validate"])
    assert result.exit_code == 0, result.output
    assert str(small) in result.output


def test_validate_raises_the_checklist_error(runner: CliRunner, broken: Path) -> None:
    result = runner.invoke(cli, ["checklist", "validate", str(broken)])
    assert isinstance(result.exception, ChecklistError)
    assert len(result.exception.details) == 3


@pytest.mark.slow
def test_validate_lists_one_line_per_problem_and_exits_4(broken: Path) -> None:
    result = run_dsprogress("checklist", "validate", str(broken))
    assert result.returncode == 4
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        f"Error: {broken}: 3 problems in the checklist",
        '  - items[0] (entry.networks.dense): order must be a whole number, got "abc"',
        '  - items[1] (entry.networks.dense): duplicate key "entry.networks.dense" (also items[0])',
        '  - items[2] (entry.networks.cnn): unknown level "Expert"; the levels are Entry',
        "Hint: Fix the checklist file, then run `dsprogress checklist validate`.",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_validate_a_missing_file_names_it_and_exits_4(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = run_dsprogress("checklist", "validate", str(missing))
    assert result.returncode == 4
    assert f"Error: cannot read the checklist {missing}: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_broken_configured_checklist_fails_show_with_exit_4(broken: Path) -> None:
    result = run_dsprogress("checklist", "show", env={"DSPROGRESS_CHECKLIST": str(broken)})
    assert result.returncode == 4
    assert f"Error: {broken}: 3 problems in the checklist" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title: T\nversion: 1\nitems: [\n", encoding="utf-8")
    result = run_dsprogress("checklist", "validate", str(path))
    assert result.returncode == 4
    assert "  - line 4: YAML syntax error:" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------- show


def test_show_json_lists_the_items_in_checklist_order(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checklist", "show", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert [item["key"] for item in items] == [i.key for i in load_checklist().ordered_items()]
    required = {"key", "title", "level", "category", "order", "description", "ongoing"}
    assert all(required <= set(item) for item in items)
    cnn = next(item for item in items if item["key"] == "entry.networks.cnn")
    assert cnn["title"] == "Convolutional neural networks"
    assert (cnn["level"], cnn["category"], cnn["ongoing"]) == ("Entry", "Networks", False)


def test_show_json_of_a_given_file(runner: CliRunner, small: Path) -> None:
    result = runner.invoke(cli, ["checklist", "show", "--json", "--file", str(small)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {
            "key": "entry.networks.dense",
            "title": "Dense layers",
            "level": "Entry",
            "category": "Networks",
            "order": 1,
            "description": "Fully connected layers.",
            "ongoing": False,
            "examples": [],
            "project_idea": None,
        },
        {
            "key": "entry.networks.cnn",
            "title": "Convolutional neural networks",
            "level": "Entry",
            "category": "Networks",
            "order": 2,
            "description": "",
            "ongoing": True,
            "examples": [],
            "project_idea": None,
        },
    ]


def test_show_groups_items_by_level_and_category(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checklist", "show"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("Entry") < out.index("Intermediate") < out.index("Advanced")
    assert out.index("Networks") < out.index("Convolutional neural networks")
    assert out.index("Training") < out.index("Multi-GPU training") < out.index("Advanced")
    assert "entry.networks.cnn" in out  # the key, the identity to use in Notion
    assert "Staying up to date (ongoing)" in out


def test_help_explains_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checklist", "--help"])
    assert result.exit_code == 0
    assert "validate" in result.output and "show" in result.output
    assert "DSPROGRESS_CHECKLIST" in result.output


def test_validate_with_a_dot_env_that_is_not_utf8_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.errors import ConfigError

    monkeypatch.delenv("DSPROGRESS_CHECKLIST", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes("DSPROGRESS_CHECKLIST=mine-é.yaml\n".encode("latin-1"))
    result = CliRunner().invoke(cli, ["checklist", "validate"])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.message.endswith(".env: not UTF-8 text (byte 26)")
