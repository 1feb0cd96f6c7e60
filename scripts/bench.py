"""Benchmarks: requests, wall seconds against the rate-limit floor, CPU seconds and peak memory.

Every command runs as its own process (`python -m sync ...`, exactly what `dsprogress` runs) against
the sandbox in another process (`python -m sync sandbox`), on a fresh sandbox and state folder per
run. CPU seconds and peak RSS come from the command's own rusage (`os.wait4`): nothing instruments
the process while it is timed. Each figure is the median of `--runs` runs. The naive way (one
lookup and one update per item) runs once per size, in this process, paced like the tool.
It asserts nothing: read the numbers (the goals and their ratios are printed at the end).

    ./scripts/bench                  # 37 items at 3 req/s, 1,000 and 5,000 at --fast-rate
    ./scripts/bench --quick          # the smoke run CI uses: 37 and 150 items, one run each
    ./scripts/bench --sizes 37,1000 --runs 5 --rate 3 --fast-rate 50
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.notion.adapter import NotionAdapter
from sync.notion.mapping import resolve_columns
from sync.notion.pacing import Pacer
from sync.notion.rows import build_key_filter
from sync.sandbox.control import SandboxControl
from sync.store import open_store

ROOT = Path(__file__).resolve().parent.parent
PACER_BURST = Pacer(0).burst  # the client's burst: the floor lets that many go at once
SANDBOX_BURST = 10  # Notion's limiter allows short bursts; the client never uses more than its own
TICKED = 3
BETWEEN_RUNS = 15 * 60  # seconds: DSPROGRESS_SYNC_INTERVAL's default


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    requests: int = 0
    limited: int = 0
    views: int = 0
    rows_read: int = 0


@dataclass
class SizeResult:
    size: int
    rate: float
    push: list[Sample] = field(default_factory=list)
    settle: list[Sample] = field(default_factory=list)  # the first sync after the push
    noop: list[Sample] = field(default_factory=list)
    full: list[Sample] = field(default_factory=list)
    ticked: list[Sample] = field(default_factory=list)
    naive: Sample | None = None


def median(samples: list[Sample], name: str) -> float:
    return float(statistics.median(getattr(s, name) for s in samples))


def floor_seconds(requests: int, rate: float) -> float:
    """The least time `requests` paced at `rate` can take: the first burst goes at once."""
    return max(0, requests - PACER_BURST) / rate if rate else 0.0


# -- processes ---------------------------------------------------------------------------------
def run_process(argv: list[str], env: dict[str, str], cwd: Path) -> Sample:
    """Run a command to its end; its wall, CPU (user + system) and peak RSS from its rusage."""
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=output, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(argv[1:])} exited {proc.returncode}:\n{tail}")
        output.seek(0)
        text = output.read().decode(errors="replace")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    rss_mb = usage.ru_maxrss * scale / 2**20
    sample = Sample(wall, usage.ru_utime + usage.ru_stime, rss_mb)
    if text.startswith("{"):  # a run's --json report
        sample.rows_read = int(json.loads(text).get("rows_read", 0))
    return sample


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSPROGRESS_", "NOTION_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


@contextmanager
def sandbox_process(rate: float) -> Iterator[dict[str, Any]]:
    argv = [sys.executable, "-m", "sync", "sandbox", "--port", "0", "--json"]
    argv += ["--rate-limit", str(rate), "--burst", str(SANDBOX_BURST)]
    proc = subprocess.Popen(argv, env=clean_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        details: dict[str, Any] = json.loads(proc.stdout.readline())
        yield details
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def cli_env(details: dict[str, Any], state: Path, rate: float, checklist: Path) -> dict[str, str]:
    return clean_env() | {
        "NOTION_TOKEN": details["token"],
        "NOTION_PARENT_PAGE_ID": details["root_page_id"],
        "NOTION_BASE_URL": details["base_url"],
        "DSPROGRESS_STATE_DIR": str(state),
        "DSPROGRESS_RATE_LIMIT": str(rate),
        "DSPROGRESS_TIMEZONE": "UTC",
        "DSPROGRESS_CHECKLIST": str(checklist),
    }


def run_cli(args: list[str], env: dict[str, str], cwd: Path, control: SandboxControl) -> Sample:
    control.reset_requests()
    sample = run_process([sys.executable, "-m", "sync", *args, "--json"], env, cwd)
    entries = control.requests()["entries"]
    sample.requests = len(entries)
    sample.limited = sum(1 for e in entries if e["status"] == 429)
    sample.views = sum(1 for e in entries if e["route"] == "/v1/views" and e["method"] == "POST")
    return sample


# -- scenarios ---------------------------------------------------------------------------------
def write_checklist(size: int, folder: Path) -> Path:
    if size == 37:
        return ROOT / "templates" / "checklist.yaml"
    levels = ["Entry", "Intermediate", "Advanced"]
    items = "".join(
        f"  - {{key: bench.items.i{n:05d}, title: Item {n}, level: {levels[n % 3]},"
        f" category: General, order: {n + 1}, description: Benchmark item {n}}}\n"
        for n in range(size)
    )
    levels_yaml = "".join(f"  - {{name: {name}, categories: [General]}}\n" for name in levels)
    path = folder / f"bench-{size}.yaml"
    path.write_text(f"title: Bench\nversion: 1\nlevels:\n{levels_yaml}items:\n{items}")
    return path


def measure_size(size: int, rate: float, runs: int, naive: bool) -> SizeResult:
    result = SizeResult(size, rate)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checklist = write_checklist(size, folder)
        for run in range(runs):
            state = folder / f"state-{run}"
            with sandbox_process(rate) as details, SandboxControl(details["base_url"]) as control:
                env = cli_env(details, state, rate, checklist)
                result.push.append(run_cli(["push"], env, folder, control))
                # Scheduled syncs come minutes apart: the sandbox's clock moves on between runs,
                # so a run's own writes fall before the next one's window.
                control.advance_clock(BETWEEN_RUNS)
                result.settle.append(run_cli(["sync"], env, folder, control))
                control.advance_clock(BETWEEN_RUNS)
                result.noop.append(run_cli(["sync"], env, folder, control))
                control.advance_clock(BETWEEN_RUNS)
                result.full.append(run_cli(["sync", "--full"], env, folder, control))
                control.advance_clock(BETWEEN_RUNS)
                ticked = tick_rows(control, state, TICKED)
                result.ticked.append(run_cli(["sync"], env, folder, control))
                if naive and run == runs - 1:
                    result.naive = run_naive(details, ticked, rate, control)
    return result


def data_source_id(state: Path) -> str:
    with open_store(state) as store:
        return store.get_meta("data_source_id") or ""


def tick_rows(control: SandboxControl, state: Path, count: int) -> str:
    """Tick `count` rows as the learner would in Notion; returns the data source id."""
    ds_id = data_source_id(state)
    for page in control.pages(ds_id)[:count]:
        control.tick(page["id"])
    return ds_id


def run_naive(details: dict[str, Any], ds_id: str, rate: float, control: SandboxControl) -> Sample:
    """The naive sync: for every row, look its key up, then update it (two requests an item)."""
    keys = [page["properties"]["Key"] for page in control.pages(ds_id)]
    keys = ["".join(part["plain_text"] for part in key["rich_text"]) for key in keys]
    with NotionAdapter(details["token"], details["base_url"], rate_limit=0) as notion:
        columns = resolve_columns(notion.fetch_data_source(ds_id)["properties"], {})
    control.reset_requests()
    started, cpu = time.perf_counter(), time.process_time()
    with NotionAdapter(details["token"], details["base_url"], rate_limit=rate) as notion:
        for key in keys:
            (page,) = notion.query_rows(ds_id, build_key_filter("Key", key), columns=columns)
            notion.update_row(page["id"], {"Key": {"rich_text": [{"text": {"content": key}}]}})
    sample = Sample(time.perf_counter() - started, time.process_time() - cpu, 0.0)
    entries = control.requests()["entries"]
    sample.requests = len(entries)
    sample.limited = sum(1 for e in entries if e["status"] == 429)
    return sample


def measure_startup(runs: int) -> dict[str, float]:
    """CPU of a bare interpreter and of `--help`; the import time `python -X importtime` reports."""
    env, cwd = clean_env(), Path(tempfile.gettempdir())
    bare = [run_process([sys.executable, "-c", "pass"], env, cwd) for _ in range(runs)]
    helps = [run_process([sys.executable, "-m", "sync", "--help"], env, cwd) for _ in range(runs)]
    return {
        "python": median(bare, "cpu"),
        "help": median(helps, "cpu"),
        "help_wall": median(helps, "wall"),
        "imports": import_seconds(["-m", "sync", "--help"]) - import_seconds(["-c", "pass"]),
    }


def import_seconds(args: list[str]) -> float:
    """Cumulative import time of the top-level imports `python -X importtime` reports."""
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    top = re.finditer(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", traced.stderr, re.M)
    return sum(int(m.group(1)) for m in top) / 1e6


# -- report ------------------------------------------------------------------------------------
def ratio(figure: float, goal: float) -> str:
    return f"{figure / goal:.2f}x" if goal else "-"


def goal_rows(results: list[SizeResult], startup: dict[str, float]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []

    def add(goal: str, figure: float, target: float, unit: str, fmt: str = ".2f") -> None:
        met = "yes" if figure <= target + 1e-9 else "NO"
        rows.append(
            (goal, f"{figure:{fmt}}{unit}", f"{target:{fmt}}{unit}", ratio(figure, target), met)
        )

    add("`--help` client CPU", startup["help"], 0.2, " s")
    add("`--help` CPU / bare `python -c pass` CPU", startup["help"] / startup["python"], 2.0, "x")
    for r in results:
        n = r.size
        pages = math.ceil(n / 100)
        add(f"no-op sync requests, {n:,} items", median(r.noop, "requests"), 3, "", ".0f")
        label = f"full read requests (ceil(N/100) + schema + database check), {n:,}"
        add(label, median(r.full, "requests"), pages + 2, "", ".0f")
        # A table of one page is read whole by every pull (one request, as a delta costs);
        # a bigger one reads only the rows edited since the last run.
        add(
            f"sync after {TICKED} ticks: rows read, {n:,}",
            median(r.ticked, "rows_read"),
            n if n <= 100 else TICKED,
            "",
            ".0f",
        )
        add(
            f"sync after {TICKED} ticks: requests (3 + one write a tick), {n:,}",
            median(r.ticked, "requests"),
            3 + TICKED,
            "",
            ".0f",
        )
        views = r.push[0].views
        add(
            f"first push requests (database + {views} views + items), {n:,}",
            median(r.push, "requests"),
            n + 1 + views,
            "",
            ".0f",
        )
        walls = [s.wall / floor_seconds(s.requests, r.rate) for s in r.push]
        add(
            f"first push wall / floor at {r.rate:g} req/s, {n:,}",
            statistics.median(walls),
            1.05,
            "x",
        )
        add(f"first push 429s, {n:,} items", max(s.limited for s in r.push), 0, "", ".0f")
        if r.naive is not None:
            add(
                f"no-op sync requests / naive ({r.naive.requests:,}), {n:,}",
                median(r.noop, "requests") / r.naive.requests,
                1,
                "x",
            )
            add(
                f"no-op sync wall / naive ({r.naive.wall:.1f} s), {n:,}",
                median(r.noop, "wall") / r.naive.wall,
                1,
                "x",
            )
    by_size = {r.size: r for r in results}
    if 37 in by_size:
        add("no-op sync client CPU, 37 items", median(by_size[37].noop, "cpu"), 0.3, " s")
    if 5000 in by_size:
        big = by_size[5000]
        add("first push client CPU, 5,000 items", median(big.push, "cpu"), 3.0, " s")
        add("no-op sync client CPU, 5,000 items", median(big.noop, "cpu"), 1.0, " s")
        peak = max(
            median(big.push, "rss_mb"), median(big.noop, "rss_mb"), median(big.full, "rss_mb")
        )
        add("peak RSS, 5,000 items", peak, 100, " MB", ".0f")
    sizes = sorted(by_size)
    if len(sizes) >= 2 and sizes[0] < sizes[-1]:
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        growth = (median(large.push, "cpu") / large.size) / (median(small.push, "cpu") / small.size)
        add(f"push CPU per item, {large.size:,} vs {small.size:,} (linear: <= 1)", growth, 1.0, "x")
    return rows


def size_rows(results: list[SizeResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results:
        push_floor = floor_seconds(int(median(r.push, "requests")), r.rate)
        naive = f"{r.naive.requests:,} req, {r.naive.wall:.1f} s" if r.naive else "-"
        rows.append(
            (
                f"{r.size:,}",
                f"{r.rate:g}",
                f"{median(r.push, 'requests'):.0f}",
                f"{median(r.push, 'wall'):.1f} s / {push_floor:.1f} s",
                f"{median(r.push, 'cpu'):.2f} s",
                f"{median(r.settle, 'requests'):.0f} / {median(r.noop, 'requests'):.0f}"
                f" / {median(r.full, 'requests'):.0f} / {median(r.ticked, 'requests'):.0f}",
                f"{median(r.noop, 'wall'):.2f} s",
                f"{median(r.noop, 'cpu'):.2f} s / {median(r.full, 'cpu'):.2f} s",
                f"{max(median(r.push, 'rss_mb'), median(r.full, 'rss_mb')):.0f} MB",
                naive,
            )
        )
    return rows


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI's smoke run: 37 and 150 items, once"
    )
    parser.add_argument("--sizes", default="37,1000,5000", help="comma-separated item counts")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (medians are printed)")
    parser.add_argument("--rate", type=float, default=3.0, help="req/s for sizes under 1,000")
    parser.add_argument(
        "--fast-rate", type=float, default=50.0, help="req/s for 1,000 items and more (max 100)"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive way")
    args = parser.parse_args()
    sizes = [37, 150] if args.quick else [int(s) for s in args.sizes.split(",")]
    runs = 1 if args.quick else args.runs
    rate_for = {n: (args.rate if n < 1000 else args.fast_rate) for n in sizes}
    if args.quick:
        rate_for = {37: 30.0, 150: 100.0}
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"runs per size: {runs}; pacer burst {PACER_BURST}; sandbox burst {SANDBOX_BURST}\n")
    startup = measure_startup(3 if args.quick else 7)
    results = [measure_size(n, rate_for[n], runs, naive=not args.no_naive) for n in sizes]
    print(
        f"start-up: `python -c pass` {startup['python']:.3f} s CPU; `dsprogress --help` "
        f"{startup['help']:.3f} s CPU ({startup['help_wall']:.3f} s wall), of which imports "
        f"{startup['imports']:.3f} s (python -X importtime)\n"
    )
    print_table(
        (
            "items",
            "req/s",
            "first push requests",
            "push wall / floor",
            "push CPU",
            "sync requests: first after push / no-op / --full / 3 ticks",
            "no-op wall",
            "no-op / full CPU",
            "peak RSS",
            "naive sync",
        ),
        size_rows(results),
    )
    print_table(("goal", "figure", "target", "ratio", "met"), goal_rows(results, startup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
