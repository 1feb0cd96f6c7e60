"""The cohort bench: a mentor's pass over 30 and 300 learners, requests and wall time against
the pacing floor (`scripts/bench --cohort`).

The sandbox runs in its own process with Notion's rate limit; the cohort is made by the control
call (`POST /__sandbox/cohort`: each learner's page and database with random ticks, dates, skips
and own items, the bundled checklist's 37 items). `dsprogress cohort sync --json` runs as its own
process: first the pass that discovers and reads everyone, then a pass where nothing changed (the
one that runs all day), then one after a tick at a tenth of the learners. The floor is what the
requests cost at the client's pace; a pass where nothing changed should cost 3 requests a learner.
Asserts nothing: read the numbers.

    ./scripts/bench --cohort                       # 30 learners at 3 req/s, 300 at --fast-rate
    ./scripts/bench --cohort --sizes 30 --rate 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import clean_env, floor_seconds, print_table, run_cli, sandbox_process

from sync.checklist_files import load_checklist
from sync.sandbox.control import SandboxControl


def count_writes(control: SandboxControl) -> int:
    """Writes the last run sent (a query is a POST that reads: not one)."""
    return sum(
        1
        for e in control.requests()["entries"]
        if e["method"] in ("POST", "PATCH", "DELETE", "PUT") and not e["route"].endswith("/query")
    )


def measure(learners: int, rate: float) -> tuple[str, ...]:
    checklist = load_checklist()
    items = [
        {"key": i.key, "title": i.title, "level": i.level, "category": i.category, "order": i.order}
        for i in checklist.ordered_items()
    ]
    with (
        sandbox_process(rate) as details,
        SandboxControl(details["base_url"]) as control,
        tempfile.TemporaryDirectory() as work,
    ):
        made = control.make_cohort(
            learners,
            items,
            seed=learners,
            levels=checklist.level_names(),
            categories=checklist.category_names(),
            in_columns=5,
        )
        env = clean_env() | {
            "NOTION_TOKEN": details["token"],
            "NOTION_BASE_URL": details["base_url"],
            "DSPROGRESS_COHORT_PAGE": made["cohort_page_id"],
            "DSPROGRESS_STATE_DIR": str(Path(work) / "mentor"),
            "DSPROGRESS_RATE_LIMIT": str(rate),
            "DSPROGRESS_TIMEZONE": "UTC",
        }
        first = run_cli(["cohort", "sync"], env, Path(work), control)
        writes = count_writes(control)
        noop = run_cli(["cohort", "sync"], env, Path(work), control)
        writes += count_writes(control)
        for learner in made["learners"][::10]:
            rows = control.pages(learner["data_source_id"])
            open_rows = [p for p in rows if not p["properties"]["Done"]["checkbox"]]
            if open_rows:
                control.tick(open_rows[0]["id"])
        ticked = run_cli(["cohort", "sync"], env, Path(work), control)
        writes += count_writes(control)
    floor = floor_seconds(noop.requests, rate)
    return (
        str(learners),
        f"{rate:g}",
        f"{first.requests} / {first.wall:.1f} s (floor {floor_seconds(first.requests, rate):.1f})",
        f"{noop.requests} ({noop.requests / learners:.2f} a learner)",
        f"{noop.wall:.1f} s / {floor:.1f} s = {noop.wall / floor:.2f}x" if floor else "-",
        f"{floor_seconds(noop.requests, 3.0):.0f} s",
        f"{ticked.requests} / {ticked.wall:.1f} s",
        f"{noop.cpu:.2f} s",
        f"{noop.rss_mb:.0f} MB",
        str(writes),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,300", help="comma-separated learner counts")
    parser.add_argument("--rate", type=float, default=3.0, help="req/s under 100 learners")
    parser.add_argument("--fast-rate", type=float, default=30.0, help="req/s from 100 learners")
    args = parser.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(measure(size, args.rate if size < 100 else args.fast_rate))
    print_table(
        (
            "learners",
            "req/s",
            "first pass (discovery + full reads): requests / wall",
            "no-op pass requests",
            "no-op wall / floor",
            "no-op floor at 3 req/s",
            "after ticks at a tenth: requests / wall",
            "no-op CPU",
            "peak RSS",
            "writes",
        ),
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
