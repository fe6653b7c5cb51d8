"""The web endpoint the benchmarks' analyses ask, and the AnalysisTemplate whose one web metric reads it.

The endpoint is a child process (a threading HTTP server on a free loopback port) so that its answers cost the
benchmark's own interpreter nothing: ``/good`` answers a passing success rate (0.99), any other path a failing one
(0.6).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from bench.common import NAMESPACE
from kube.json_data import JsonObject
from kube.resources import ANALYSIS_TEMPLATES
from sandbox.recorder import Resource

ANALYSIS_TEMPLATE: Final = Resource(ANALYSIS_TEMPLATES.group, ANALYSIS_TEMPLATES.version, ANALYSIS_TEMPLATES.plural)
VERDICT_SERVER: Final = r"""
import http.server, json
class Verdict(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = json.dumps({"successRate": 0.99 if self.path.endswith("/good") else 0.6}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Verdict)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def verdict_endpoint() -> Iterator[int]:
    """The endpoint's port while it runs; it is stopped on leaving."""
    server = subprocess.Popen([sys.executable, "-c", VERDICT_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(10)


def web_analysis_template(name: str, port: int, *, path: str = "verdict",
                          success_condition: str = "result >= 0.95") -> JsonObject:
    """An AnalysisTemplate in the benchmarks' namespace whose one metric, ``success-rate``, reads the endpoint's
    ``path`` and succeeds when ``success_condition`` holds."""
    return {
        "apiVersion": ANALYSIS_TEMPLATES.api_version,
        "kind": ANALYSIS_TEMPLATES.kind,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"metrics": [{
            "name": "success-rate",
            "successCondition": success_condition,
            "provider": {"web": {"url": f"http://127.0.0.1:{port}/{path}", "jsonPath": "{$.successRate}",
                                 "timeoutSeconds": 10}},
        }]},
    }
