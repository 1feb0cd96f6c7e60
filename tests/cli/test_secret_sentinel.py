"""Secrets never leak: every command runs with sentinel values for every secret (the token, the
SMTP password, both webhook URLs), in success and failure, with and without --verbose, and
nothing it prints or writes (output, the state database, the snapshot, digests, logs) holds a
secret, raw or URL-encoded. Servers echo what they get, as a careless proxy or webhook would."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from sync.sandbox import SandboxServer

from ..digest.smtp import SmtpServer, run_smtp_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ntn_SentinelToken4f7a2c9e1b8d6a3f5c7e9b1d"
SMTP_PASSWORD = "Sentinel smtp/pass+word%42&"
SLACK_SECRET = "SentinelSlackSecret9q8w7e6r5t4y"
DISCORD_SECRET = "SentinelDiscordSecret1a2s3d4f5g6h"


class _EchoingWebhook(BaseHTTPRequestHandler):
    """Answers 404 with the path it was called on: a webhook server that echoes its secret."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = f"no such webhook: {self.path}".encode()
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingWebhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with run_smtp_server() as server:
        yield server


def secret_forms() -> list[str]:
    forms = []
    for secret in (TOKEN, SMTP_PASSWORD, SLACK_SECRET, DISCORD_SECRET):
        forms += [secret, quote(secret, safe=""), quote_plus(secret, safe="")]
    return sorted(set(forms))


class Runner:
    def __init__(self, sandbox: SandboxServer, cwd: Path, webhook: str, smtp: SmtpServer) -> None:
        self.cwd = cwd
        self.state_dir = cwd / "state"
        self.outputs: list[str] = []
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DSPROGRESS_", "NOTION_", "SMTP_"))
            },
            "PYTHONPATH": str(ROOT),
            "NOTION_TOKEN": TOKEN,
            "NOTION_BASE_URL": sandbox.base_url,
            "NOTION_PARENT_PAGE_ID": sandbox.root_page_id,
            "DSPROGRESS_STATE_DIR": str(self.state_dir),
            "DSPROGRESS_RATE_LIMIT": "0",
            "DSPROGRESS_TIMEZONE": "UTC",
            "DSPROGRESS_DIGEST_NOTION": "true",
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "SMTP_USERNAME": "me",
            "SMTP_PASSWORD": SMTP_PASSWORD,  # refused: the login fails
            "SMTP_FROM": "dsprogress@example.org",
            "SMTP_TO": "me@example.org",
            "DSPROGRESS_SLACK_WEBHOOK_URL": f"{webhook}/services/T0001/B0001/{SLACK_SECRET}",
            "DSPROGRESS_DISCORD_WEBHOOK_URL": f"{webhook}/api/webhooks/1234/{DISCORD_SECRET}",
        }

    def run(self, *args: str, plain_too: bool = False, **extra: str) -> int:
        """Run with --verbose (which prints the most), and also without when `plain_too`."""
        for verbose in ((), ("--verbose",)) if plain_too else (("--verbose",),):
            result = subprocess.run(
                [sys.executable, "-m", "sync", *verbose, *args],
                cwd=self.cwd,
                env={**self.env, **extra},
                capture_output=True,
                text=True,
                timeout=120,
            )
            # the first line names the command (its arguments may hold a secret on purpose)
            self.outputs.append(f"$ {' '.join(verbose)} {args[0]}\n{result.stdout}{result.stderr}")
        return result.returncode

    def written(self) -> dict[str, str]:
        """Every file the tool wrote (the state folder), read as text whatever its bytes."""
        return {
            str(path): path.read_bytes().decode("latin-1")
            for path in sorted(self.state_dir.rglob("*"))
            if path.is_file()
        }


@pytest.mark.slow
def test_no_command_prints_or_writes_a_secret(
    sandbox: SandboxServer, tmp_path: Path, webhook: str, smtp: SmtpServer
) -> None:
    sandbox.app.token = TOKEN
    run = Runner(sandbox, tmp_path, webhook, smtp)
    week = datetime.now(timezone.utc).strftime("%G-W%V")

    assert run.run("checklist", "validate") == 0
    assert run.run("sync") == 0
    assert run.run("pull") == 0
    assert run.run("push") == 0
    assert run.run("status") == 0
    assert run.run("status", "--json") == 0
    assert run.run("history", "--json") == 0
    assert run.run("open", "--print") == 0
    assert run.run("checklist", "export", str(tmp_path / "copy.yaml")) == 0
    assert run.run("digest", "--week", week) == 0
    assert run.run("digest", "--week", week, "--json") == 0
    assert run.run("digest", "--send", "--week", week, plain_too=True) == 11  # all but file fail
    assert run.run("doctor", "--send-test", plain_too=True) == 12
    assert run.run("doctor", "--send-test", "--json") == 12
    run.run("run", "--once", plain_too=True)
    # failures: Notion down, a rejected token, a pasted token, bad settings, no network
    sandbox.control.add_fault("error", status=503, times=100)
    assert run.run("push", plain_too=True) == 7
    sandbox.control.clear_faults()
    assert run.run("pull", NOTION_TOKEN=TOKEN + "x", plain_too=True) == 5
    assert run.run("pull", NOTION_TOKEN=f" {TOKEN}\n") == 0
    assert run.run("pull", NOTION_TOKEN=f"{TOKEN}\u00e9", plain_too=True) == 3
    assert run.run("sync", DSPROGRESS_TIMEZONE="Nowhere/Land") == 3
    env_file = ["--env-file", str(tmp_path / "init.env")]
    assert run.run("init", "--non-interactive", "--no-sync", "--token", TOKEN, *env_file) == 3
    parent = ["--parent", sandbox.root_page_id, "--base-url", sandbox.base_url]
    init = [
        "init",
        "--non-interactive",
        "--no-sync",
        "--force",
        "--token",
        TOKEN,
        *parent,
        *env_file,
    ]
    assert run.run(*init, plain_too=True) == 0  # .env holds the token, as it must; no output does

    leaks = []
    for form in secret_forms():
        for output in run.outputs:
            if form in output:
                leaks.append(f"{form!r} printed by {output.splitlines()[0]}")
        for path, content in run.written().items():
            if form in content:
                leaks.append(f"{form!r} written to {path}")
    assert not leaks, "\n".join(leaks)
    # the runs did reach the places a secret could leak to
    everything = "\n".join(run.outputs)
    assert "Traceback" in everything and "[REDACTED]" in everything
    assert any(p.endswith("state.sqlite3") for p in run.written())
    assert any("digests" in p for p in run.written())
