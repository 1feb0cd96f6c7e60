from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .smtp import SmtpServer, run_smtp_server


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DSPROGRESS_/NOTION_/SMTP_ variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith(("DSPROGRESS_", "NOTION_", "SMTP_")):
            monkeypatch.delenv(name)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with run_smtp_server() as server:
        yield server
