"""The error convention every command follows: one `Error:` line, a hint, a distinct exit code,
no traceback unless --verbose, and never a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sync import __version__


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "sync", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0 and __version__ in result.stdout


def test_help_lists_only_real_commands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("checklist", "push", "pull", "sync", "status"):
        assert f"  {command}" in result.stdout


def test_configuration_error_is_one_line_per_problem_with_exit_3(tmp_path: Path) -> None:
    env = {
        "NOTION_TOKEN": "ntn_topsecretvalue99",
        "DSPROGRESS_TIMEZONE": "Nowhere/Land",
        "DSPROGRESS_STATE_DIR": str(tmp_path / "s"),
    }
    result = run_cli("push", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert result.stderr.startswith("Error: ")
    assert "DSPROGRESS_TIMEZONE" in result.stderr and "Hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr + result.stdout


def test_missing_notion_settings_say_how_to_fix(tmp_path: Path) -> None:
    result = run_cli("sync", cwd=tmp_path, env={"DSPROGRESS_STATE_DIR": str(tmp_path / "s")})
    assert result.returncode == 3
    assert "NOTION_TOKEN" in result.stderr and "dsprogress init" in result.stderr


def test_status_before_any_sync_is_a_state_error(tmp_path: Path) -> None:
    result = run_cli("status", cwd=tmp_path, env={"DSPROGRESS_STATE_DIR": str(tmp_path / "s")})
    assert result.returncode == 10
    assert "no snapshot yet" in result.stderr and "Traceback" not in result.stderr


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "--verbose", "status", cwd=tmp_path, env={"DSPROGRESS_STATE_DIR": str(tmp_path / "s")}
    )
    assert result.returncode == 10 and "Traceback" in result.stderr


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("frobnicate", cwd=tmp_path)
    assert result.returncode == 2 and "No such command" in result.stderr
