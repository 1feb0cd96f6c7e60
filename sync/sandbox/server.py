"""The HTTP layer (stdlib `ThreadingHTTPServer`) and `SandboxServer`, the in-process handle.

with SandboxServer(rate_limit=None) as sandbox:
    notion = Client(auth=sandbox.token, base_url=sandbox.base_url)
    sandbox.control.add_fault("drop", method="POST", route="/v1/pages")
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sync.sandbox.app import Outcome, SandboxApp, error_outcome
from sync.sandbox.control_api import handle_control
from sync.sandbox.faults import DEFAULT_BURST
from sync.sandbox.store import DEFAULT_INTEGRATION_NAME, Workspace
from sync.sandbox.validate import invalid_content_length

if TYPE_CHECKING:
    from sync.sandbox.control import SandboxControl

log = logging.getLogger("dsprogress.sandbox")

DEFAULT_TOKEN = "ntn_sandbox_demo_token_0000"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_RATE_LIMIT = 3.0
CONTROL_PREFIX = "/__sandbox"
MAX_BODY_BYTES = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dsprogress-sandbox"
    timeout = 120
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stalls
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header on the workspace's clock (tests may move it forward), as Notion's."""
        return super().date_time_string(
            self.server.app.ws.now() if timestamp is None else timestamp
        )

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox http: " + format, *args)

    def _handle(self) -> None:
        length_text = (self.headers.get("Content-Length") or "0").strip()
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            # Without a length we cannot find the request's end: answer, then close.
            self.close_connection = True
            self._send(error_outcome(invalid_content_length(length_text)))
            return
        length = int(length_text)
        raw_body = self.rfile.read(length) if length > 0 else b""
        app = self.server.app
        path = self.path.split("?", 1)[0]
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            outcome = handle_control(app, self.command, self.path, raw_body, self.client_address[0])
        else:
            headers = {key.lower(): value for key, value in self.headers.items()}
            outcome = app.handle_api(self.command, self.path, headers, raw_body)
        self._send(outcome)

    def _send(self, outcome: Outcome) -> None:
        if outcome.status is None:
            # Close without a response: the client sees the connection drop.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(outcome.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **outcome.headers}
        headers["Content-Length"] = str(len(outcome.data))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(outcome.data)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = False
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, _Handler)

    def serve_until_stopped(self) -> None:
        """Accept connections until `stop_serving`; sleeps in select while idle (no polling)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopping:
                        self.handle_request()  # readable: accepts at once
                self.service_actions()

    def stop_serving(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End keep-alive connections so that no handler thread outlives the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal here (faults, timeouts): log, don't print."""
        log.debug("sandbox http: error serving %s", client_address, exc_info=True)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """A Notion-compatible server on loopback, run in a background thread."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = DEFAULT_HOST,
        port: int = 0,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
        burst: int | None = DEFAULT_BURST,
        data_path: str | Path | None = None,
        seed: int | None = None,
        integration_name: str = DEFAULT_INTEGRATION_NAME,
        faults: Iterable[dict[str, Any]] = (),
    ) -> None:
        self.app = SandboxApp(
            token=token,
            integration_name=integration_name,
            data_path=Path(data_path) if data_path is not None else None,
            rate_limit=rate_limit,
            burst=burst,
            seed=seed,
        )
        for rule in faults:
            self.app.faults.add(rule)
        self.host = host
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._control: SandboxControl | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = server_class((self.host, self._requested_port), self.app)
        self._thread = threading.Thread(
            target=self._httpd.serve_until_stopped,
            name="dsprogress-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._httpd is None:
            return
        self._httpd.stop_serving()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd.close_connections()
        self._httpd.server_close()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what callers need ----------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The sandbox is not started.")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def token(self) -> str:
        return self.app.token

    @property
    def workspace(self) -> Workspace:
        return self.app.ws

    @property
    def root_page_id(self) -> str:
        return self.app.ws.root_page_id

    @property
    def unshared_page_id(self) -> str:
        return self.app.ws.unshared_page_id

    @property
    def control(self) -> SandboxControl:
        """A `SandboxControl` for this server (created on first use, closed by `stop`)."""
        if self._control is None:
            from sync.sandbox.control import SandboxControl

            self._control = SandboxControl(self.base_url)
        return self._control
