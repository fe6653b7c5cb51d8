"""What the informer tests share: an observer that records what it was given, a wait for a condition, ConfigMaps
written straight into the emulator, and informers started and stopped around a block."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from kube.informer import Informer, Informers
from kube.json_data import JsonObject
from sandbox.emulator import EmulatorThread
from tests import waiting

# Generous: only a change that never arrives fails a test; the usual wait is milliseconds.
WAIT_SECONDS = 20.0


class Seen:
    """What the observer was given, in order: (event type, name, the data's value); ``then`` runs after each."""

    def __init__(self, then: Callable[[str | None, str], None] = lambda _, __: None) -> None:
        self.events: list[tuple[str | None, str, str]] = []
        self.then = then

    def __call__(self, event_type: str | None, obj: JsonObject) -> None:
        name = obj["metadata"]["name"]
        self.events.append((event_type, name, str((obj.get("data") or {}).get("v"))))
        self.then(event_type, name)

    def names(self, event_type: str | None) -> list[str]:
        return [name for kind, name, _ in self.events if kind == event_type]


async def until(condition: Callable[[], bool], what: str) -> None:
    await waiting.until(condition, what, timeout=WAIT_SECONDS)


def put(emulator: EmulatorThread, name: str, value: str, namespace: str = "default") -> None:
    """Create the ConfigMap ``name`` with ``data.v = value``, or set its value."""
    body: dict[str, Any] = {"metadata": {"name": name, "namespace": namespace}, "data": {"v": value}}
    if emulator.emulator.get_object("", "v1", "configmaps", namespace, name) is None:
        emulator.emulator.create_object("", "v1", "configmaps", body, namespace)
    else:
        emulator.emulator.patch_object("", "v1", "configmaps", namespace, name, {"data": {"v": value}})


@asynccontextmanager
async def running(informer: Informer) -> AsyncIterator[Informer]:
    """The informer started; stopped on leaving."""
    informer.start()
    try:
        yield informer
    finally:
        await informer.stop()


@asynccontextmanager
async def synced(informer: Informer) -> AsyncIterator[Informer]:
    """The informer started and synced (its initial list delivered); stopped on leaving."""
    async with running(informer):
        await asyncio.wait_for(informer.synced.wait(), WAIT_SECONDS)
        yield informer


@asynccontextmanager
async def started(informers: Informers) -> AsyncIterator[Informers]:
    """The informers started; stopped on leaving."""
    await informers.start()
    try:
        yield informers
    finally:
        await informers.stop()
