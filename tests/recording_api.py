"""A stand-in API server for the client tests: it answers every request with an empty object and records it."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names lower-cased."""

    method: str
    path: str
    headers: dict[str, str]


@contextlib.contextmanager
def recording_api() -> Iterator[tuple[str, list[RecordedRequest]]]:
    """Serve on a free local port until the block ends; yields the server's URL and the requests it got, in order."""
    seen: list[RecordedRequest] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            seen.append(RecordedRequest(self.command, self.path, headers))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"metadata": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
