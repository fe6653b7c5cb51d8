"""A web metric's endpoint for the tests: ``GET /rate`` answers ``{"rate": v}`` on a thread of its own."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Sequence
from typing import Any


class RateEndpoint:
    """Answers with the next of ``values``, the last one repeated (by default always 0.99, a passing rate); ``close``
    (or leaving ``with``) stops it."""

    def __init__(self, values: Sequence[float] = (0.99,)) -> None:
        remaining = list(values)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                value = remaining.pop(0) if len(remaining) > 1 else remaining[0]
                body = json.dumps({"rate": value}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/rate"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> RateEndpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
