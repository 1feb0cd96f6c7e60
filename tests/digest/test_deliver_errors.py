"""The Notion digest channel's errors: reported on its own line, never raised past the others."""

from __future__ import annotations

from pathlib import Path

from sync.config import Settings
from sync.digest.deliver import run_weekly_digest
from sync.notion.adapter import NotionAdapter
from sync.notion.pacing import RetryPolicy
from sync.sandbox import SandboxServer

from .scenarios import Learner, make_settings, normal_week


def test_notion_digest_pages_without_a_parent_page_fail_that_channel_only(tmp_path: Path) -> None:
    me, _, _ = normal_week(tmp_path)
    settings = make_settings(tmp_path, DSPROGRESS_DIGEST_NOTION="true")
    report = run_weekly_digest(settings, me.store, me.checklist, me.at("2026-11-30 08:00"))
    outcomes = {r.channel: (r.outcome, r.detail) for r in report.results}
    assert outcomes["file"][0] == "sent"
    assert outcomes["notion"] == ("failed", "Notion digest pages need NOTION_PARENT_PAGE_ID")


def test_a_digest_page_create_that_may_have_landed_is_reported_and_retried_later(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    me: Learner = normal_week(tmp_path)[0]
    settings = make_settings(
        tmp_path,
        DSPROGRESS_DIGEST_NOTION="true",
        NOTION_TOKEN=sandbox.token,
        NOTION_BASE_URL=sandbox.base_url,
        NOTION_PARENT_PAGE_ID=sandbox.root_page_id,
    )
    sandbox.control.add_fault("drop", method="POST", route="/v1/pages")

    def factory(settings: Settings) -> NotionAdapter:
        return NotionAdapter(
            sandbox.token, sandbox.base_url, rate_limit=0, policy=RetryPolicy(max_attempts=2)
        )

    now = me.at("2026-11-30 08:00")
    report = run_weekly_digest(settings, me.store, me.checklist, now, notion=factory)
    [failed] = [r for r in report.results if r.channel == "notion"]
    assert failed.outcome == "failed"
    assert failed.detail.startswith("Notion: creating page")
    assert "may or may not have happened" in failed.detail
    retry = run_weekly_digest(settings, me.store, me.checklist, now, notion=factory)
    assert [r.outcome for r in retry.results if r.channel == "notion"] == ["sent"]
