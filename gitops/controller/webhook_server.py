"""``POST /api/webhook`` over HTTP, on a thread of its own: the body is read (bounded), the forge's secret checked,
the push parsed (``webhook``), and the pushed event handed to ``on_push`` — which only marks and queues
Applications, so the forge gets its answer at once."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gitops.controller.webhook import (
    MAX_PAYLOAD_BYTES,
    SECRET_KEYS,
    PushEvent,
    WebhookError,
    detect_forge,
    parse_push,
    verify_secret,
)

logger = logging.getLogger(__name__)

PATH = "/api/webhook"


@dataclass
class WebhookServer:
    """A running webhook endpoint."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_webhook(
    port: int, address: str, *, secrets: Callable[[], Mapping[str, str]], on_push: Callable[[PushEvent], int]
) -> WebhookServer:
    """Serve the webhook on ``port`` (0 picks one). ``secrets`` gives the ``argocd-secret`` keys
    (``webhook.github.secret`` …); ``on_push`` returns how many Applications the push refreshes."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != PATH:
                self._answer(404, {"error": f"not found: {self.path}; the webhook is served at {PATH}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_PAYLOAD_BYTES:
                self._answer(413, {"error": f"payload larger than {MAX_PAYLOAD_BYTES} bytes"})
                return
            body = self.rfile.read(length)
            headers = {key: value for key, value in self.headers.items()}
            try:
                forge = detect_forge(headers)
                verify_secret(forge, headers, body, str(secrets().get(SECRET_KEYS[forge]) or ""))
                push = parse_push(forge, headers, body)
            except WebhookError as error:
                logger.warning("webhook refused: %s", error)
                self._answer(error.status, {"error": str(error)})
                return
            if push is None:
                self._answer(200, {"message": "event ignored: not a push"})
                return
            refreshed = on_push(push)
            logger.info("%s push to %s (%s): %d application(s) refreshed", forge, push.repo_urls[0], push.revision,
                        refreshed)
            self._answer(200, {"message": f"{refreshed} application(s) refreshed"})

        def _answer(self, status: int, body: Any) -> None:
            data = (json.dumps(body) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Each push is logged once, by do_POST, with what it did."""

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="webhook-server", daemon=True)
    thread.start()
    return WebhookServer(server, thread)
