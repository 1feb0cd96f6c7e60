"""SIGTERM (systemd, cron timeouts, `kill`) on `sync` and `run --once`: like Ctrl-C.

A real process gets a real signal in the middle of a first push (each create slowed a little by
the sandbox): it stops at the next action boundary, prints one line, exits 143, and the next sync
finishes the work with one row per item.
"""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.checklist import Checklist
from sync.checklist_files import load_checklist
from sync.cli.stop import EXIT_CODE, MESSAGE, StopRequest, Terminated, stop_on_sigterm
from sync.sandbox import SandboxServer
from tests.engine.conftest import key_of
from tests.test_init_flow import cli_env, run_cli


def rows(sandbox: SandboxServer, data_source_id: str) -> list[dict[str, object]]:
    return sandbox.control.pages(data_source_id)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["sync"], ["run", "--once"]])
def test_sigterm_stops_at_an_action_boundary_with_one_line_and_exit_143(
    sandbox: SandboxServer, tmp_path: Path, command: list[str]
) -> None:
    bundled: Checklist = load_checklist()
    sandbox.control.add_fault(
        "latency", method="POST", route="/v1/pages", latency_ms=150, probability=1.0
    )
    env = cli_env(
        sandbox,
        tmp_path,
        NOTION_TOKEN=sandbox.token,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "sync", *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while sandbox.control.request_count("POST /v1/pages") < 5:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the push never got going"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_CODE, err
    assert err.strip().splitlines() == [MESSAGE], err  # one line, no traceback
    posted = sandbox.control.request_count("POST /v1/pages")
    assert posted < len(bundled.items)  # it stopped, it did not finish the push first
    sandbox.control.clear_faults()
    # The next sync finishes the work: one row per item, nothing left to do after it.
    finished = run_cli("sync", cwd=tmp_path, env=env)
    assert finished.returncode == 0, finished.stderr
    from sync.store import open_store

    with open_store(tmp_path / "state") as store:
        data_source_id = store.get_meta("data_source_id")
    assert data_source_id is not None
    keys = collections.Counter(key_of(page) for page in rows(sandbox, data_source_id))
    assert keys == collections.Counter({item.key: 1 for item in bundled.items})
    again = run_cli("sync", "--json", cwd=tmp_path, env=env)
    assert '"actions": []' in again.stdout, again.stdout


def test_a_stop_request_is_raised_at_the_next_boundary_and_on_leaving() -> None:
    calls: list[tuple[object, ...]] = []
    request = StopRequest()
    hooks = request.guard_hooks({"progress": lambda *a: calls.append(a)})
    hooks["progress"](1, 2, "create")
    hooks["on_wait"](1.5)  # no hook given: only the check
    assert calls == [(1, 2, "create")]
    request.requested = True
    with pytest.raises(Terminated):
        hooks["progress"](2, 2, "create")
    assert calls == [(1, 2, "create")]  # stopped before the hook, at the boundary
    assert not issubclass(Terminated, Exception)  # nothing on the way swallows it


def test_sigterm_inside_the_block_is_raised_when_the_run_ends_by_itself() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), stop_on_sigterm() as request:
        signal.raise_signal(signal.SIGTERM)
        assert request.requested  # the first one only asks
    assert signal.getsignal(signal.SIGTERM) == before
    with pytest.raises(Terminated), stop_on_sigterm():
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)  # the second one stops at once
        pytest.fail("not reached")
