"""Benchmarks: requests per sync, seconds against the rate-limit floor, memory.

Runs the real engine and the unmodified notion-client against the local sandbox and prints what
it measured. It asserts nothing: these machines are shared and noisy; read the numbers.

    ./scripts/bench            # all measurements (the paced first push takes ~15 s)
    ./scripts/bench --quick    # skip the paced run
    ./scripts/bench --items 2000
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sync.checklist import Checklist, parse_checklist
from sync.checklist_files import load_checklist
from sync.config import load_settings
from sync.engine import run_sync
from sync.sandbox import SandboxServer
from sync.store import open_store


def synthetic_checklist(count: int) -> Checklist:
    levels = ["Entry", "Intermediate", "Advanced"]
    items = "".join(
        f"  - {{key: bench.items.i{n:05d}, title: Item {n}, level: {levels[n % 3]},"
        f" category: General, order: {n + 1}, description: Benchmark item {n}}}\n"
        for n in range(count)
    )
    levels_yaml = "".join(f"  - {{name: {name}, categories: [General]}}\n" for name in levels)
    text = f"title: Bench\nversion: 1\nlevels:\n{levels_yaml}items:\n{items}migrations: []\n"
    return parse_checklist(text, "bench")


def settings_for(server: SandboxServer, state: Path, rate: float) -> object:
    return load_settings(
        None,
        NOTION_TOKEN=server.token,
        NOTION_PARENT_PAGE_ID=server.root_page_id,
        NOTION_BASE_URL=server.base_url,
        DSPROGRESS_STATE_DIR=str(state),
        DSPROGRESS_RATE_LIMIT=str(rate),
        DSPROGRESS_TIMEZONE="UTC",
    )


def measure(
    label: str,
    server: SandboxServer,
    state: Path,
    checklist: Checklist,
    rate: float,
    rows: list[tuple[str, str]],
) -> None:
    server.control.reset_requests()
    started = time.perf_counter()
    report = run_sync(settings_for(server, state, rate), checklist, mode="sync")  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    log = server.control.requests()
    limited = sum(1 for e in log["entries"] if e["status"] == 429)
    floor = f"{log['total'] / rate:.1f}" if rate else "-"
    rows.append(
        (
            label,
            f"{log['total']:>5} requests  {seconds:6.2f} s  (floor {floor} s, "
            f"429s {limited}, retries {report.retries})",
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the paced first push")
    parser.add_argument("--items", type=int, default=500, help="size of the synthetic checklist")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith(("DSPROGRESS_", "NOTION_"))]:
        del os.environ[name]
    rows: list[tuple[str, str]] = []
    bundled = load_checklist()

    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp, SandboxServer(rate_limit=3.0, burst=10) as srv:
            measure(
                f"first push, {len(bundled.items)} items, 3 req/s (Notion's average)",
                srv,
                Path(tmp),
                bundled,
                3.0,
                rows,
            )

    with tempfile.TemporaryDirectory() as tmp, SandboxServer(rate_limit=None) as server:
        state = Path(tmp)
        measure(f"first push, {len(bundled.items)} items, unpaced", server, state, bundled, 0, rows)
        measure("no-op sync (nothing changed)", server, state, bundled, 0, rows)
        with open_store(state) as store:
            ds_id = store.get_meta("data_source_id") or ""
        for page in server.control.pages(ds_id)[:3]:
            server.control.tick(page["id"])
        measure("sync after 3 ticks in Notion", server, state, bundled, 0, rows)

    big = synthetic_checklist(args.items)
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(rate_limit=None) as server:
        state = Path(tmp)
        tracemalloc.start()
        measure(f"first push, {args.items} items, unpaced", server, state, big, 0, rows)
        _, push_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        measure(
            f"no-op sync, {args.items} items (query pages: {math.ceil(args.items / 100)})",
            server,
            state,
            big,
            0,
            rows,
        )
        _, noop_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            (
                f"peak Python memory, push of {args.items}",
                f"{push_peak / 2**20:.1f} MB (no-op sync {noop_peak / 2**20:.1f} MB)",
            )
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("max resident memory (process)", f"{rss:.0f} MB"))

    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
