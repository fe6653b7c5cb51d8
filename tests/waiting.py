"""Waiting for an observable event in tests: poll a condition until it holds.

The timeout only fails a test whose event never comes, so it is generous; it is never a bound on how fast the code
must be.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], what: str, *, timeout: float, poll: float = 0.01) -> None:
    """Return once ``condition()`` holds; AssertionError naming ``what`` when it has not after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(poll)


async def until(condition: Callable[[], bool], what: str, *, timeout: float, poll: float = 0.01) -> None:
    """``wait_until`` on the running event loop, which keeps running while it waits."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(poll)
