"""Real listeners on loopback: an SMTP mailbox (aiosmtpd) and the one HTTP listener (webhooks, stub sites)."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass(frozen=True)
class Request:
    """One request a Listener received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        """The body as JSON ({} when empty); a body that is not JSON comes back as {"raw": text}."""
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {"raw": self.body.decode("utf-8", "replace")}


# status, body, content type
Answer = tuple[int, bytes | str, str]


class Listener:
    """The tests' one HTTP server: real sockets on a loopback port, one thread per request.

    A subclass (or the `respond` callable) answers each GET or POST; every request is
    kept in `received`. Not started until `start()` (or `with`), so a test can set it up first.
    """

    def __init__(self, respond: Callable[[Request], Answer] | None = None, host: str = "127.0.0.1"):
        self.received: list[Request] = []
        self.lock = threading.Lock()
        self._respond = respond
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                listener._handle(self)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def respond(self, request: Request) -> Answer:
        return self._respond(request) if self._respond else (200, b"", "text/plain")

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        request = Request(handler.command, handler.path, dict(handler.headers), body, time.time())
        with self.lock:
            self.received.append(request)
        status, content, kind = self.respond(request)
        data = content.encode() if isinstance(content, str) else content
        try:  # the client may have given up (a timed-out send): nothing to answer then
            handler.send_response(status)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass


class Webhook(Listener):
    """An alert webhook: answers each POST with the next queued status (then 200), after `delay`."""

    def __init__(self, statuses=(), delay=0.0):
        super().__init__()
        self.statuses = list(statuses)
        self.delay = delay
        self.requests: list[dict] = []

    def respond(self, request: Request) -> Answer:
        time.sleep(self.delay)
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.requests.append(
                {"path": request.path, "headers": request.headers, "status": status, "json": request.json()}
            )
        return status, b"", "text/plain"

    def delivered(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200]
