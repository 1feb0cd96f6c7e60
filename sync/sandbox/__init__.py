"""A local Notion-compatible HTTP server (Notion-Versions 2025-09-03, 2026-03-11, 2026-12-01)
for tests, demo and benchmarks.

Stateful, with Notion's shapes, checks, error bodies, minute-rounded timestamps and sharing rules;
answers per Notion-Version; a per-token rate limiter and window budgets per token and per
workspace; fault injection; and a control endpoint under `/__sandbox/` to act as the learner in
the Notion app. It shares no code with the project's Notion client on purpose.
See docs/sandbox.md.
"""

from __future__ import annotations

from sync.sandbox.control import SandboxControl, SandboxControlError
from sync.sandbox.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TOKEN,
    SandboxServer,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TOKEN",
    "SandboxControl",
    "SandboxControlError",
    "SandboxServer",
]
