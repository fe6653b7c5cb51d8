"""An event loop on a daemon thread of its own, for the little work the main loop's load must never delay.

The controller's main loop runs every watch and every reconcile pass; at ten thousand Rollouts a start-up or a
resync keeps it busy for seconds at a time. The leader-election Lease must be renewed within its renew deadline
whatever that load, so its renewals run here: a separate loop, which the main loop's callbacks cannot hold up
(the threads share the interpreter lock, but CPython hands it over every few milliseconds).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Final, TypeVar

T = TypeVar("T")

STOP_TIMEOUT: Final = 5.0


def cancel_remaining_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still on a loop that has stopped, and run it until they have finished (their clean-up
    included), so that closing it leaves none pending."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


class SideLoop:
    """``start`` the thread, ``run`` coroutines on its loop from another loop, ``close`` to end it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"the {self.name} loop is not running: call start() first")
        return self._loop

    def start(self) -> None:
        """Start the thread and its loop (idempotent)."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(loop,), name=self.name, daemon=True)
        self._loop = loop
        self._thread.start()

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            cancel_remaining_tasks(loop)
            loop.close()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on this loop and return (or raise) what it does; cancelling the caller cancels it."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Cancel what still runs on the loop, stop it and wait for the thread (a few seconds at most)."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT)
