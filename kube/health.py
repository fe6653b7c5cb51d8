"""Health checks of a controller process, for the kubelet's probes (served by ``kube.metrics_export``).

Liveness asks whether the process still works: the HTTP server answers from a thread of its own, so an answer
proves little unless the event loop — where every watch, worker and renewal of the leader-election Lease runs —
is shown to answer too. A loop blocked for good (a deadlock, a blocking call gone wrong) fails the probe, and the
kubelet restarts the container.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Final

from kube.metrics_export import Probe

# Well inside the probes' 5 s timeoutSeconds in deploy/, so a slow loop is reported rather than timed out.
LOOP_PROBE_TIMEOUT: Final = 3.0


def event_loop_probe(loop: asyncio.AbstractEventLoop, timeout: float = LOOP_PROBE_TIMEOUT) -> Probe:
    """A check that passes when ``loop`` runs a callback handed to it within ``timeout`` seconds."""

    def check() -> tuple[bool, str]:
        answered = threading.Event()
        try:
            loop.call_soon_threadsafe(answered.set)
        except RuntimeError:  # the loop is closed: the process is shutting down
            return False, "the event loop is closed"
        if not answered.wait(timeout):
            return False, f"the event loop did not answer within {timeout:g}s"
        return True, "ok"

    return check


def readiness_probe(synced: Callable[[], bool], role: Callable[[], str]) -> Probe:
    """A check that passes once the caches are synced, whatever the role (a standby is ready to take over)."""

    def check() -> tuple[bool, str]:
        if not synced():
            return False, "caches not synced yet"
        return True, f"ok ({role()})"

    return check
