"""The walls hold: a violation of each kind planted in a copy of the package fails the check.

The checks are the ones `scripts/test` runs: import-linter's contracts in pyproject.toml (the
pure core does no I/O and reads no other part of `sync.notion`; the layers; the sandbox stands
alone) and ruff's banned-API rule (the pure core reads no clock). Each case copies `sync/` and
`pyproject.toml` to a temporary folder, plants one line, and runs the real tool there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def copy_tree(target: Path) -> Path:
    shutil.copytree(ROOT / "sync", target / "sync", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n\n{line}  # planted\n")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ruff_clock(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ruff"), "check", "--select", "TID251", "sync"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_the_tree_as_it_is_keeps_every_wall(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    assert lint_imports(tree).returncode == 0
    assert ruff_clock(tree).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("sync.plan", "import sqlite3", "The pure core"),
        ("sync.reconcile", "import sync.store", "The pure core"),
        ("sync.progress", "import sync.notion.adapter", "The pure core"),
        ("sync.weeks", "import os", "The pure core"),
        ("sync.notion.mapping", "import sync.notion.views", "The pure core"),
        ("sync.digest.compute", "import sync.logs", "The other pure modules"),
        ("sync.engine", "import sync.cli", "Layers"),
        ("sync.progress", "import sync.digest.deliver", "Layers"),
        ("sync.sandbox.app", "import sync.notion.mapping", "The sandbox imports nothing"),
        ("sync.digest.render", "import notion_client", "Only the Notion adapter's gateway"),
    ],
)
def test_a_planted_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    tree = copy_tree(tmp_path)
    plant(tree, module, line)
    result = lint_imports(tree)
    assert result.returncode != 0
    report = " ".join(result.stdout.split())
    assert f"{broken}" in report and "BROKEN" in report, report[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "call"),
    [
        ("sync.reconcile", "import datetime\n_PLANTED = datetime.datetime.now()"),
        ("sync.progress", "import datetime\n_PLANTED = datetime.date.today()"),
        ("sync.digest.compute", "import time\n_PLANTED = time.time()"),
    ],
)
def test_a_planted_clock_call_in_the_pure_core_fails_ruff(
    tmp_path: Path, module: str, call: str
) -> None:
    tree = copy_tree(tmp_path)
    plant(tree, module, call)
    result = ruff_clock(tree)
    assert result.returncode != 0 and "TID251" in result.stdout, result.stdout


@pytest.mark.slow
def test_the_clock_may_be_read_outside_the_pure_core(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    plant(tree, "sync.engine", "import datetime\n_PLANTED = datetime.datetime.now()")
    assert ruff_clock(tree).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize(("key", "ok"), [("database_url", True), ("databse_url", False)])
def test_a_misspelt_state_metadata_key_is_a_type_error(tmp_path: Path, key: str, ok: bool) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from sync.store import Store\n\n\n"
        f"def read(store: Store) -> str | None:\n    return store.get_meta({key!r})\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--cache-dir", str(tmp_path / "cache"), str(probe)],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode == 0) is ok, result.stdout
    if not ok:
        assert 'Argument 1 to "get_meta" of "Store"' in result.stdout
