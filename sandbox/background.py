"""What runs in the background of a sandbox between `start()` and `stop()`: the simulators, Prometheus, the sandbox."""

from __future__ import annotations

import abc
from typing import Self, TypeVar

T = TypeVar("T")


def started_part(part: T | None, missing: str) -> T:
    """A part that exists only while something runs; `missing` says why there is none (as a RuntimeError)."""
    if part is None:
        raise RuntimeError(missing)
    return part


class Background(abc.ABC):
    """Started and stopped explicitly, or as `async with`; both idempotent."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Return once running."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop whatever runs; calling it again does nothing."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class BlockingBackground(abc.ABC):
    """`Background` for blocking callers: started and stopped explicitly, or as `with`."""

    @abc.abstractmethod
    def start(self) -> None:
        """Return once running."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop whatever runs."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

