"""Running the emulator: on the caller's event loop, or in a thread with its own loop."""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sandbox.emulator.kmock_adapter import ApiServer
from sandbox.emulator.server import ApiEmulator
from sandbox.loop_thread import LoopThread


@dataclass(frozen=True)
class EmulatorHandle:
    url: str  # e.g. "http://127.0.0.1:41234", without a trailing slash
    emulator: ApiEmulator
    server: ApiServer


@contextlib.asynccontextmanager
async def running_emulator(
    host: str = "127.0.0.1", port: int = 0, *, emulator: ApiEmulator | None = None
) -> AsyncIterator[EmulatorHandle]:
    """Serve an emulator (a fresh one unless given) over HTTP on the running loop."""
    emulator = emulator if emulator is not None else ApiEmulator()
    async with emulator, ApiServer(emulator, host=host, port=port or None) as server:
        try:
            yield EmulatorHandle(url=f"http://{server.host}:{server.port}", emulator=emulator, server=server)
        finally:
            # Open watches would otherwise hold the server's shutdown until their clients go away.
            emulator.close_watches()


class EmulatorThread(LoopThread[EmulatorHandle]):
    """The emulator on its own thread and event loop.

    Blocking clients (the ``kubernetes`` package) and operators with loops of their own (kopf) can then
    talk to it from other threads without ever stalling it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, emulator: ApiEmulator | None = None,
                 startup_timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.emulator = emulator if emulator is not None else ApiEmulator()
        super().__init__(
            "emulator", lambda: running_emulator(self.host, self.port, emulator=self.emulator),
            startup_timeout=startup_timeout,
        )

    @property
    def url(self) -> str:
        return self.entered.url

    def start(self) -> None:
        super().start()
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP(S)_PROXY
        with direct.open(f"{self.url}/readyz", timeout=self.startup_timeout) as response:
            if response.status != 200:
                raise RuntimeError(f"the emulator is not ready: HTTP {response.status}")
