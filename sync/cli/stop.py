"""SIGTERM for the one-shot commands (`sync`, `push`, `pull`, `run --once`): stop like Ctrl-C.

systemd, cron timeouts and `kill` send SIGTERM. The first one asks the run to stop at the next
action boundary: after the Notion write in flight, before the next one (or before a retry or a
wait for a lock), so no write is cut in half; a run that has no more writes finishes its commit.
Then `Terminated` reaches `main()`, which prints one line and exits 143 (128 + SIGTERM). A second
SIGTERM stops at once. systemd kills after its stop timeout anyway; nothing is lost either way:
the next sync finishes the work.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from sync.errors import Terminated

__all__ = ["EXIT_CODE", "MESSAGE", "StopRequest", "Terminated", "stop_on_sigterm"]

EXIT_CODE = 143
MESSAGE = "Stopped (SIGTERM): the next `dsprogress sync` finishes the work."


class StopRequest:
    """Set by SIGTERM; `check()` raises `Terminated` once it is set."""

    def __init__(self) -> None:
        self.requested = False

    def check(self, *_: Any) -> None:
        if self.requested:
            raise Terminated

    def guard(self, hook: Callable[..., None] | None) -> Callable[..., None]:
        """`hook`, checking for a stop request first (a boundary: nothing is in flight)."""

        def guarded(*args: Any) -> None:
            self.check()
            if hook is not None:
                hook(*args)

        return guarded

    def guard_hooks(self, hooks: dict[str, Any]) -> dict[str, Any]:
        """`run_sync`'s hooks (progress, on_wait, on_retry), each a stop boundary."""
        names = ("progress", "on_wait", "on_retry")
        return {**hooks, **{name: self.guard(hooks.get(name)) for name in names}}


@contextmanager
def stop_on_sigterm() -> Iterator[StopRequest]:
    """Within the block, SIGTERM requests a stop; on leaving it, a requested stop is raised."""
    request = StopRequest()

    def handle(signum: int, frame: FrameType | None) -> None:
        if request.requested:  # the second SIGTERM: stop now
            raise Terminated
        request.requested = True

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield request
        request.check()  # the run ended by itself: still say that it was asked to stop
    finally:
        signal.signal(signal.SIGTERM, previous)
