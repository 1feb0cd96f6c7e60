"""`dsprogress sandbox`: run the local Notion-compatible server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from sync.errors import ConfigError, StateError
from sync.sandbox.control_api import is_loopback
from sync.sandbox.faults import DEFAULT_BURST, KINDS, FaultRuleError, parse_rule
from sync.sandbox.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TOKEN,
    SandboxServer,
)
from sync.sandbox.store import DEFAULT_INTEGRATION_NAME, DataFileError
from sync.sandbox.validate import SERVER_ERRORS

FAIL_STATUSES = [str(status) for status in SERVER_ERRORS]


def build_fault_rules(
    *,
    latency_ms: int,
    fail_rate: float,
    fail_status: int,
    drop_rate: float,
    faults: tuple[str, ...],
) -> list[dict[str, Any]]:
    """The fault rules the options ask for, checked; `--fault` values are JSON rules."""
    rules: list[dict[str, Any]] = []
    if latency_ms:
        rules.append({"kind": "latency", "latency_ms": latency_ms, "probability": 1.0})
    if fail_rate:
        rules.append({"kind": "error", "status": fail_status, "probability": fail_rate})
    if drop_rate:
        rules.append({"kind": "drop", "probability": drop_rate})
    for text in faults:
        try:
            rule = json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--fault") from exc
        rules.append(rule)
    for index, rule in enumerate(rules):
        try:
            parse_rule(rule, rule_id=f"check-{index}", default_seed=0)
        except FaultRuleError as exc:
            raise click.BadParameter(str(exc), param_hint="--fault") from exc
    return rules


def _describe_rate(rate_limit: float, burst: int) -> str:
    if not rate_limit:
        return "off"
    return f"{rate_limit:g} requests/s per token, bursts of {burst}"


@click.command("sandbox")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Loopback address to listen on (127.0.0.1 or ::1); the sandbox never leaves this machine.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="TCP port; 0 picks a free port (printed at start).",
)
@click.option(
    "--token",
    default=DEFAULT_TOKEN,
    show_default=True,
    help="The only API token the sandbox accepts (any other gets 401 unauthorized).",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON file holding the whole workspace: loaded at start, rewritten atomically after "
    "each write. Default: in memory only.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    default=DEFAULT_RATE_LIMIT,
    show_default=True,
    help="Average requests per second per token before 429 rate_limited with Retry-After; 0 = off.",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    default=DEFAULT_BURST,
    show_default=True,
    help="Requests a token may send at once before the average applies (token bucket size).",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Delay added to every API request, in milliseconds.",
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of API requests answered with --fail-status instead of being handled.",
)
@click.option(
    "--fail-status",
    type=click.Choice(FAIL_STATUSES),
    default="503",
    show_default=True,
    help="Status (with Notion's error body) used by --fail-rate.",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of API requests whose connection is closed without any response.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="JSON",
    help='A fault rule as JSON, repeatable, e.g. \'{"kind": "apply_then_fail", "method": "POST", '
    f'"route": "/v1/pages", "status": 504, "times": 1}}\'. Kinds: {", ".join(KINDS)} '
    "(see docs/sandbox.md).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the random fault rules (--fail-rate, --drop-rate, probability rules).",
)
@click.option(
    "--integration-name",
    default=DEFAULT_INTEGRATION_NAME,
    show_default=True,
    help='The integration\'s name, as in 404 messages ("shared with your integration ...").',
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the connection details as one JSON line."
)
def sandbox(
    host: str,
    port: int,
    token: str,
    data_path: Path | None,
    rate_limit: float,
    burst: int,
    latency_ms: int,
    fail_rate: float,
    fail_status: str,
    drop_rate: float,
    faults: tuple[str, ...],
    seed: int | None,
    integration_name: str,
    as_json: bool,
) -> None:
    """Run a local Notion-compatible API server (Notion-Version 2025-09-03 to 2026-12-01).

    It keeps a workspace with a root page shared with the integration and a page that is not,
    answers with Notion's shapes and errors, rate-limits like Notion and can inject faults.
    The control endpoint under /__sandbox/ lets you act as the learner in the Notion app.
    Runs until Ctrl-C or SIGTERM.
    """
    if not is_loopback(host):
        raise click.BadParameter("the sandbox listens on loopback only", param_hint="--host")
    rules = build_fault_rules(
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        fail_status=int(fail_status),
        drop_rate=drop_rate,
        faults=faults,
    )
    try:
        server = SandboxServer(
            token=token,
            host=host,
            port=port,
            rate_limit=rate_limit or None,
            burst=burst,
            data_path=data_path,
            seed=seed,
            integration_name=integration_name,
            faults=rules,
        )
        server.start()
    except DataFileError as exc:
        raise StateError(
            f"the sandbox's data file: {exc}",
            hint="Pass --data a file in a folder you can write to (a new file is created), or "
            "leave --data out to keep the workspace in memory.",
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"the sandbox cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="Pick another --port, or --port 0 for a free one.",
        ) from exc
    _print_details(server, rate_limit, burst, data_path, len(rules), as_json)
    _serve_until_stopped(server)


def _print_details(
    server: SandboxServer,
    rate_limit: float,
    burst: int,
    data_path: Path | None,
    fault_count: int,
    as_json: bool,
) -> None:
    details = {
        "base_url": server.base_url,
        "token": server.token,
        "root_page_id": server.root_page_id,
        "unshared_page_id": server.unshared_page_id,
        "control_url": f"{server.base_url}/__sandbox/",
        "rate_limit": rate_limit or None,
        "burst": burst,
        "data": str(data_path) if data_path else None,
    }
    if as_json:
        click.echo(json.dumps(details), nl=True)
        return
    click.echo(
        "dsprogress sandbox: a local Notion-compatible API "
        "(Notion-Versions 2025-09-03, 2026-03-11, 2026-12-01)"
    )
    click.echo(f"  base URL          {server.base_url}")
    click.echo(f"  token             {server.token}")
    click.echo(f"  root page         {server.root_page_id}  (shared: use as NOTION_PARENT_PAGE_ID)")
    click.echo(f"  unshared page     {server.unshared_page_id}  (exists, not shared: answers 404)")
    click.echo(f"  control endpoint  {details['control_url']}")
    click.echo(f"  rate limit        {_describe_rate(rate_limit, burst)}")
    click.echo(f"  fault rules       {fault_count}")
    click.echo(f"  data file         {data_path if data_path else 'none (in memory)'}")
    click.echo("")
    click.echo("Point dsprogress at it:")
    click.echo(f"  NOTION_BASE_URL={server.base_url}")
    click.echo(f"  NOTION_TOKEN={server.token}")
    click.echo(f"  NOTION_PARENT_PAGE_ID={server.root_page_id}")
    click.echo("")
    click.echo("Press Ctrl-C to stop.")


def _serve_until_stopped(server: SandboxServer) -> None:
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        stop.wait()  # no timeout: the process sleeps until a signal arrives
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    click.echo("Sandbox stopped.")
