"""The HTTP layer of the scoring endpoint: the threaded server and the request handler.

The handler only speaks HTTP (routes, limits on the body, status codes); what a request means
is :class:`~automl_nb.inference._server.ScoringServer`'s business (``server.app``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING
from typing import Any

from automl_nb.inference._scoring import ScoringRequestError

if TYPE_CHECKING:
    from automl_nb.inference._server import ScoringServer

logger = logging.getLogger("automl_nb.serve")


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: ScoringServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or stops sending is logged in one line, not a traceback."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            logger.info("%s: connection dropped (%s)", client_address[0], type(error).__name__)
            return
        super().handle_error(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "automl-nb"
    # A client that stops sending must not hold a thread for ever (see setup()).
    timeout = 120

    def setup(self) -> None:
        """Bound every socket read by the request time limit (at most 30 s idle)."""
        # The base class reads self.timeout; set on the instance (mypy sees a class variable).
        setattr(self, "timeout", min(30.0, float(self.server.app.limits.request_timeout_s)))  # noqa: B010
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.info("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_error(self, error: ScoringRequestError, headers: dict[str, str] | None = None):
        self._send_json(error.status, error.to_dict(), headers)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _drain(self, limit: int) -> None:
        # Read an unwanted small body so that the client sees the answer, not a reset.
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and 0 < int(length) <= limit:
            self.rfile.read(int(length))

    def do_GET(self) -> None:  # noqa: N802
        app = self.server.app
        if self._path() == "/ready":
            self._send_json(200, {"status": "ready", "explanations_running": app.explaining})
            return
        if self._path() not in ("/", "/health"):
            self._send_error(ScoringRequestError(f"no route {self._path()}", status=404))
            return
        body: dict[str, Any] = {"status": "healthy"}
        if app.authorized(self.headers.get("Authorization")) and app.auth_mode == "key":
            body["model"] = app.model_info()
        self._send_json(200, body)

    def do_POST(self) -> None:  # noqa: N802
        app = self.server.app
        if self._path() != "/score":
            self._drain(1 << 20)
            self._send_error(ScoringRequestError(f"no route {self._path()}", status=404))
            return
        if not app.authorized(self.headers.get("Authorization")):
            self._drain(1 << 20)
            error = ScoringRequestError(
                "missing or wrong key: send 'Authorization: Bearer <key>'", status=401
            )
            self._send_error(error, {"WWW-Authenticate": "Bearer"})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._send_error(ScoringRequestError("Content-Length is required", status=411))
            return
        if int(length) > app.max_body_bytes:
            self.close_connection = True
            message = f"the body has {int(length)} bytes; the limit is {app.max_body_bytes}"
            self._send_error(ScoringRequestError(message, status=413))
            return
        body = self._read_body(int(length))
        if body is None:
            return
        # The slot is taken once the body is in: a slow upload holds a thread, not a slot.
        if not app.request_slots.acquire(blocking=False):
            self.close_connection = True
            message = f"busy: {app.limits.max_concurrent_requests} requests are being scored"
            self._send_error(ScoringRequestError(message, status=503), {"Retry-After": "1"})
            return
        try:
            result = app.score_with_time_limit(body)
        except ScoringRequestError as error:
            self._send_error(error)
            return
        except Exception:
            logger.exception("scoring failed")
            self._send_error(
                ScoringRequestError("internal error while scoring; see the server log", status=500)
            )
            return
        finally:
            app.request_slots.release()
        self._send_json(200, result)

    def _read_body(self, length: int) -> bytes | None:
        """The request body, or None after answering 408 to a client that stopped sending."""
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = b""
        if len(body) < length:
            self.close_connection = True
            message = f"the body ended after {len(body)} of {length} bytes (Content-Length)"
            self._send_error(ScoringRequestError(message, status=408))
            return None
        return body

    def do_PUT(self) -> None:  # noqa: N802
        self._not_allowed()

    def do_DELETE(self) -> None:  # noqa: N802
        self._not_allowed()

    def _not_allowed(self) -> None:
        self._drain(1 << 20)
        error = ScoringRequestError(f"method {self.command} is not allowed", status=405)
        self._send_error(error, {"Allow": "GET, POST"})
