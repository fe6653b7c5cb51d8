"""Running the emulator: on the caller's event loop, or in a thread with its own loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.request
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar, TypeVarTuple, Unpack

from sandbox.emulator.kmock_adapter import ApiServer
from sandbox.emulator.server import ApiEmulator

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


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


class EmulatorThread:
    """The emulator on its own thread and event loop.

    Blocking clients (the ``kubernetes`` package) and operators with loops of their own (kopf) can then
    talk to it from other threads without ever stalling it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, emulator: ApiEmulator | None = None,
                 startup_timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.emulator = emulator if emulator is not None else ApiEmulator()
        self.startup_timeout = startup_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._url: str | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulator thread is not running")
        return self._url

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the emulator thread is not running")
        return self._loop

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the emulator thread can be started only once")
        self._thread = threading.Thread(target=self._run, name="api-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.startup_timeout):
            raise TimeoutError(f"the emulator did not start within {self.startup_timeout} s")
        if self._error is not None:
            raise RuntimeError("the emulator failed to start") from self._error
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP(S)_PROXY
        with direct.open(f"{self.url}/readyz", timeout=self.startup_timeout) as response:
            if response.status != 200:
                raise RuntimeError(f"the emulator is not ready: HTTP {response.status}")

    def stop(self, timeout: float = 10.0) -> None:
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may have ended on its own already
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the emulator thread did not stop within {timeout} s")

    def call(self, coro_fn: Callable[[Unpack[Ts]], Coroutine[Any, Any, T]], *args: *Ts) -> T:
        """Run ``coro_fn(*args)`` on the emulator's loop and wait for its result from this thread."""
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop).result()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread itself has no one to raise to
            self._error = exc
        finally:
            self._ready.set()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with running_emulator(self.host, self.port, emulator=self.emulator) as handle:
            self._url = handle.url
            self._ready.set()
            await self._stopping.wait()
