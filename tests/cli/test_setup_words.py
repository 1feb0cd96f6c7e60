"""init's introduction wraps to the terminal, never inside a word; the hint after a wrong token
tells the learner to paste again (init is already asking), not to run init."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from sync.cli.setup_words import TOKEN_HELP, print_intro, retry_hint
from sync.errors import ConfigError, NotionAuthError


def words_of(text: str) -> list[str]:
    return re.sub(r"\[/?(bold)?\]", "", text).split()


@pytest.mark.parametrize("width", [50, 80, 100, 140])
def test_the_intro_wraps_at_the_terminal_width_and_never_breaks_a_word(width: int) -> None:
    out = io.StringIO()
    print_intro(Path("/home/me/checklist/.env"), Console(file=out, width=width, color_system=None))
    lines = out.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), lines
    expected = [
        w for _, m in TOKEN_HELP for w in words_of(m.replace("{env}", "/home/me/checklist/.env"))
    ]
    assert out.getvalue().split() == expected  # every word whole, in order
    indented = [line for line in lines if "personal access token" in line]
    assert indented and indented[0].startswith("  1. ")


def test_a_wrong_token_hint_says_paste_it_again_while_init_asks() -> None:
    hint = retry_hint(NotionAuthError("Notion rejected the token"), 2)
    assert hint.endswith("and paste it below (2 tries left).")
    assert "dsprogress init" not in hint
    assert retry_hint(ConfigError("the token is empty", hint="Copy it again."), 1) == (
        "Copy it again. Paste it below (1 try left)."
    )


def test_the_readme_shows_the_intro_as_init_prints_it_at_80_columns() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index("<!-- init-output") :]
    start = after.index("```text\n") + len("```text\n")
    block = [
        line.removeprefix("   ") for line in after[start : after.index("```", start)].split("\n")
    ]
    out = io.StringIO()
    print_intro(Path(".env"), Console(file=out, width=80, color_system=None))
    intro = out.getvalue().rstrip("\n").split("\n")
    assert block[: len(intro)] == intro
