"""Routes: method + path template -> handler, and the templated names the request log uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sync.sandbox.ids import JSON
from sync.sandbox.store import Workspace
from sync.sandbox.validate import page_size


@dataclass
class Request:
    """One parsed API call as a handler sees it."""

    ws: Workspace
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: JSON
    actor: str
    version: str = "2025-09-03"  # the Notion-Version header (see sync.sandbox.versions)
    max_results: int = 10_000  # rows one data-source query returns at most (control setting)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def query_page_size(self) -> int:
        raw = self.query_value("page_size")
        return page_size(raw, "query.page_size")


Handler = Callable[[Request], JSON]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    write: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_template(self.template))

    @property
    def log_route(self) -> str:
        """`/v1/pages/{page_id}` -> `/v1/pages/{id}`: the form the request log counts."""
        return template_name(self.template)


def compile_template(template: str) -> re.Pattern[str]:
    """`/v1/pages/{page_id}` -> a regex with a named group per `{param}` (one path segment)."""
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{regex}/?$")


def template_name(template: str) -> str:
    return re.sub(r"\{\w+\}", "{id}", template)


def match_route(
    routes: Sequence[Route], method: str, path: str
) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, dict(found.groupdict())
    return None


def log_route_for(routes: Sequence[Route], path: str) -> str:
    """The templated route of a path whatever the method; the raw path when nothing matches."""
    for route in routes:
        if route.pattern.match(path):
            return route.log_route
    return path
