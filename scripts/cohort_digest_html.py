"""Write the HTML cohort digest of a sandbox cohort (for `scripts/screenshots`).

A sandbox in this process holds a cohort of 8 learners (the control call `POST /__sandbox/cohort`,
with the bundled checklist); `dsprogress cohort sync` reads them, read-only; the digest of the last
complete week is written as the email's HTML to the path given.

    python scripts/cohort_digest_html.py OUT.html
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sync.checklist_files import load_checklist
from sync.cohort.digest import CohortDigest, render_cohort_digest
from sync.cohort.run import load_cohort_grid, run_cohort_sync
from sync.config import load_settings
from sync.sandbox import SandboxServer
from sync.weeks import build_week_window, last_complete_week


def main(out: Path) -> int:
    checklist = load_checklist()
    items = [
        {"key": i.key, "title": i.title, "level": i.level, "category": i.category, "order": i.order}
        for i in checklist.ordered_items()
    ]
    with SandboxServer(rate_limit=None) as sandbox, tempfile.TemporaryDirectory() as work:
        made = sandbox.control.make_cohort(
            8, items, seed=4, levels=checklist.level_names(), categories=checklist.category_names()
        )
        settings = load_settings(
            None,
            NOTION_TOKEN=sandbox.token,
            NOTION_BASE_URL=sandbox.base_url,
            DSPROGRESS_COHORT_PAGE=made["cohort_page_id"],
            DSPROGRESS_STATE_DIR=work,
            DSPROGRESS_RATE_LIMIT="0",
            DSPROGRESS_TIMEZONE="UTC",
        )
        clock = sandbox.control._call("GET", "/clock")["now"]
        now = datetime.fromisoformat(str(clock).replace("Z", "+00:00")).astimezone(timezone.utc)
        run_cohort_sync(settings, now=now)
        window = build_week_window(last_complete_week(now, settings.zone), settings.zone)
        grid = load_cohort_grid(settings, now=now, window=window)
        digest = CohortDigest(grid, window, now, settings.cohort_stalled_days, False)
        out.write_text(render_cohort_digest(digest, "html"), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
