"""A webhook receiver on the loopback interface: the destination the demo's and the tests' notifications go to.

It records every request it answered (method, path, body) and can be told to hold requests (they wait unanswered
until ``release``) or to refuse them (an error status), so that tests can see what a slow or failing destination
does to the controller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    body: str
    headers: dict[str, str]


class WebhookReceiver:
    """``start()`` listens on 127.0.0.1 (an ephemeral port unless given); ``url`` is where to send."""

    def __init__(self, port: int = 0) -> None:
        self._changed = threading.Condition()
        self._received: list[ReceivedRequest] = []
        self._open = threading.Event()
        self._open.set()
        self.status = 200
        self.held = 0
        """Requests waiting, unanswered, for ``release``."""
        self.refused = 0
        self._refused: list[ReceivedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (requests held are released first) and close the socket; also when never started."""
        self._open.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        """Leave every request from now on unanswered until ``release``."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def received(self) -> list[ReceivedRequest]:
        """The requests answered with a success status, in order."""
        with self._changed:
            return list(self._received)

    def refused_requests(self) -> list[ReceivedRequest]:
        """The requests answered with an error status (``status``), in order."""
        with self._changed:
            return list(self._refused)

    def wait_for(self, test: Callable[[WebhookReceiver], bool], timeout: float) -> bool:
        """Block until ``test(self)`` holds (checked whenever a request comes or goes); False after ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: test(self), timeout)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode(errors="replace") if length else ""
                if not receiver._open.is_set():
                    with receiver._changed:
                        receiver.held += 1
                        receiver._changed.notify_all()
                    receiver._open.wait()
                    with receiver._changed:
                        receiver.held -= 1
                status = receiver.status
                # Recorded before the answer: once the sender has its answer, the receiver shows the request.
                request = ReceivedRequest(self.command, self.path, body, {k: v for k, v in self.headers.items()})
                with receiver._changed:
                    if 200 <= status <= 299:
                        receiver._received.append(request)
                    else:
                        receiver.refused += 1
                        receiver._refused.append(request)
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
