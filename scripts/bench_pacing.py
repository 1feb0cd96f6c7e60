"""Pacing under Notion's newer limits: requests, 429s and wall time against the floor (prints;
asserts nothing).

The sandbox runs as its own process with a window budget per token and one shared by the
workspace (`/__sandbox/limits`); pushes run through the real engine and adapter, in threads of
this process so that each machine's counts (requests, 429s, slow-downs) can be read:

- one first push alone under the per-token budget;
- two machines (two tokens, one workspace) pushing at once, with the adaptive pacer (Retry-After
  plus jitter, slower only for the workspace's limit) and, for comparison, a fixed one (exact
  Retry-After, never slower): the way the tool paced before.

The floor of a run is the least time its requests can take: a machine's requests at its pace
(its first burst at once), and past the first window's budget at the budget's rate (per token;
for two machines together, the workspace's).

    ./scripts/bench --pacing                 # 200 items a machine, windows of 10 s
    ./scripts/bench --pacing --items 300 --window 60
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import PACER_BURST, print_table, sandbox_process, write_checklist

from sync.checklist_files import load_checklist
from sync.config import load_settings
from sync.engine import run_sync
from sync.notion.adapter import NotionAdapter
from sync.notion.pacing import Pacer, RetryPolicy
from sync.sandbox.control import SandboxControl

SECOND_TOKEN = "ntn_bench_second_machine_token"


@dataclass
class Machine:
    name: str
    requests: int = 0
    limited: int = 0
    slowdowns: int = 0
    wall: float = 0.0
    error: str = ""


def push(
    details: dict[str, Any],
    token: str,
    parent: str,
    state: Path,
    checklist: Path,
    rate: float,
    adaptive: bool,
    machine: Machine,
) -> None:
    settings = load_settings(
        None,
        NOTION_TOKEN=token,
        NOTION_PARENT_PAGE_ID=parent,
        NOTION_BASE_URL=details["base_url"],
        DSPROGRESS_STATE_DIR=str(state),
        DSPROGRESS_RATE_LIMIT=str(rate),
        DSPROGRESS_TIMEZONE="UTC",
        DSPROGRESS_LOCK_TIMEOUT="600",
    )
    adapter = NotionAdapter(token, details["base_url"], rate_limit=rate)
    if not adaptive:  # the tool before: exact Retry-After, a steady rate that never changes
        adapter.pacer = Pacer(rate, min_share=1.0)
        adapter.policy = RetryPolicy(jitter=0)
    started = time.perf_counter()
    try:
        with adapter:
            run_sync(settings, load_checklist(checklist), mode="push", adapter=adapter)
    except Exception as exc:  # a run that gave up: reported, not raised
        machine.error = f"{type(exc).__name__}: {exc}"[:120]
    machine.wall = time.perf_counter() - started
    machine.requests = adapter.requests
    machine.limited = adapter.rate_limited
    machine.slowdowns = adapter.pacer.slowdowns


def parent_page(details: dict[str, Any], name: str) -> str:
    with NotionAdapter(details["token"], details["base_url"], rate_limit=0) as notion:
        return str(notion.create_child_page(details["root_page_id"], name)["id"])


def run_scenario(
    args: argparse.Namespace, machines: int, adaptive: bool, folder: Path
) -> tuple[list[Machine], dict[str, int], float]:
    checklist = write_checklist(args.items, folder)
    with sandbox_process(0) as details, SandboxControl(details["base_url"]) as control:
        control.add_token(SECOND_TOKEN)
        tokens = [details["token"], SECOND_TOKEN][:machines]
        parents = [parent_page(details, f"machine {n}") for n in range(machines)]
        control.set_limits(
            requests_per_window=args.token_budget,
            workspace_requests_per_window=args.workspace_budget,
            window_seconds=args.window,
        )
        results = [Machine(f"machine {n + 1}") for n in range(machines)]
        threads = [
            threading.Thread(
                target=push,
                args=(
                    details,
                    tokens[n],
                    parents[n],
                    folder / f"state-{adaptive}-{machines}-{n}",
                    checklist,
                    args.rate,
                    adaptive,
                    results[n],
                ),
            )
            for n in range(machines)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        refused = dict(control.limits()["refused"])
    return results, refused, wall


def floor_seconds(requests: int, rate: float, budget: int, window: float) -> float:
    paced = max(0, requests - PACER_BURST) / rate
    return max(paced, max(0, requests - budget) / (budget / window))


def rows_for(
    label: str, results: list[Machine], refused: dict[str, int], wall: float, args: Any
) -> list[tuple[str, ...]]:
    workspace_rate = args.workspace_budget / args.window
    rows = []
    for machine in results:
        floor = floor_seconds(machine.requests, args.rate, args.token_budget, args.window)
        rows.append(
            (
                label,
                machine.name,
                str(machine.requests),
                str(machine.limited),
                str(machine.slowdowns),
                f"{machine.wall:.1f} s / {floor:.1f} s = {machine.wall / floor:.2f}",
                machine.error or "finished",
            )
        )
    total = sum(m.requests for m in results)
    slowest = max(
        floor_seconds(m.requests, args.rate, args.token_budget, args.window) for m in results
    )
    shared = max(0, total - args.workspace_budget) / workspace_rate
    floor = max(slowest, shared)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(refused.items())) or "none"
    rows.append(
        (
            label,
            "together",
            str(total),
            f"{sum(refused.values())} ({reasons})",
            str(sum(m.slowdowns for m in results)),
            f"{wall:.1f} s / {floor:.1f} s = {wall / floor:.2f}",
            f"{total / wall:.1f} req/s against a workspace budget of {workspace_rate:.1f}",
        )
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pacing", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--items", type=int, default=200, help="items each machine pushes")
    parser.add_argument("--rate", type=float, default=8.0, help="DSPROGRESS_RATE_LIMIT (req/s)")
    parser.add_argument("--window", type=float, default=10.0, help="window length (s)")
    parser.add_argument("--token-budget", type=int, default=60, help="requests a token a window")
    parser.add_argument(
        "--workspace-budget", type=int, default=80, help="requests the workspace a window"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"{args.items} items a machine at {args.rate} req/s; windows of {args.window:.0f} s: "
        f"{args.token_budget} requests a token, {args.workspace_budget} the workspace\n"
    )
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, machines, adaptive in (
            ("one machine, adaptive", 1, True),
            ("two machines, adaptive", 2, True),
            ("two machines, fixed (before)", 2, False),
        ):
            results, refused, wall = run_scenario(args, machines, adaptive, Path(tmp))
            rows += rows_for(label, results, refused, wall, args)
    print_table(("pacer", "who", "requests", "429s", "slow-downs", "wall / floor", "outcome"), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
