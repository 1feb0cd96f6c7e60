"""The Free workspace's block limit for internal connections (developers.notion.com,
workspace-block-limits): a write refused for it says so and names the way out."""

from __future__ import annotations

import pytest

from sync.errors import NotionRequestError
from tests.engine.conftest import World

BLOCK_LIMIT_MESSAGE = "This workspace has reached its block limit."


def test_a_create_refused_for_the_block_limit_names_a_personal_access_token(world: World) -> None:
    world.control.add_fault(
        "error",
        method="POST",
        route="/v1/pages",
        status=403,
        code="restricted_resource",
        message=BLOCK_LIMIT_MESSAGE,
        times=None,
    )
    with pytest.raises(NotionRequestError) as caught:
        world.sync("push")
    error = caught.value
    assert error.exit_code == 7
    assert "block limit for internal connections" in error.message
    assert BLOCK_LIMIT_MESSAGE in error.message
    assert "personal access token" in (error.hint or "")
    assert "https://www.notion.so/developers/tokens" in (error.hint or "")
    world.control.clear_faults()
    assert world.sync("push").counts()["create"] == 5  # nothing was lost: the next run creates


def test_other_refusals_do_not_mention_the_block_limit(world: World) -> None:
    world.control.add_fault("error", method="POST", route="/v1/pages", status=409, times=None)
    with pytest.raises(Exception) as caught:
        world.sync("push")
    assert "block limit" not in str(caught.value)
