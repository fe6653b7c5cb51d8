"""An async context (the emulator, the whole sandbox) held open on a thread with an event loop of its own.

Blocking callers — the `kubernetes` client, kopf's KopfRunner — would otherwise stall the loop that serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar, TypeVarTuple, Unpack

from kube.side_loop import cancel_remaining_tasks
from sandbox.background import BlockingBackground

T = TypeVar("T")
R = TypeVar("R")
Ts = TypeVarTuple("Ts")


class LoopThread(BlockingBackground, Generic[T]):
    """Enter `context()` on a new thread's loop, keep it entered until `stop()`, and exit it there.

    `what` names the thing served, for the thread's name and the errors (`"the sandbox did not start …"`).
    """

    def __init__(self, what: str, context: Callable[[], contextlib.AbstractAsyncContextManager[T]], *,
                 startup_timeout: float) -> None:
        self.what = what
        self.startup_timeout = startup_timeout
        self._context = context
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._entered: T | None = None
        self._error: BaseException | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"the {self.what} thread is not running")
        return self._loop

    @property
    def entered(self) -> T:
        """What entering the context gave, once `start()` has returned."""
        if self._entered is None:
            raise RuntimeError(f"the {self.what} thread is not running")
        return self._entered

    def start(self) -> None:
        """Return once the context is entered; an error entering it is raised here, on the caller's thread."""
        if self._thread is not None:
            raise RuntimeError(f"the {self.what} thread can be started only once")
        self._thread = threading.Thread(target=self._run, name=self.what.replace(" ", "-"), daemon=True)
        self._thread.start()
        if not self._ready.wait(self.startup_timeout):
            self.stop()
            raise TimeoutError(f"the {self.what} did not start within {self.startup_timeout:g}s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def stop(self, timeout: float = 10.0) -> None:
        """Exit the context and end the thread. Idempotent."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may have ended on its own already
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the {self.what} thread did not stop within {timeout:g}s")

    def call(self, coro_fn: Callable[[Unpack[Ts]], Coroutine[Any, Any, R]], *args: *Ts) -> R:
        """Run `coro_fn(*args)` on the thread's loop and return its result to the calling thread."""
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self.loop).result()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # handed to start(); nobody else could catch it on this thread
            self._error = error
        finally:
            self._ready.set()
            cancel_remaining_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with self._context() as entered:
            self._entered = entered
            self._ready.set()
            await self._stopping.wait()
