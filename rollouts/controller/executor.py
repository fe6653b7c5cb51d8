"""Carrying out a Plan, in the parts the reconciler calls in this order: its writes (``write``), the Rollout's
status (``write_status``), its Events (``announce``).

The first write that fails ends the pass — later writes may depend on it (a Service must select the new pods
before traffic moves), and the next pass decides again from what did happen. Each successful write is also
recorded in the cache, so that pass does not decide from the object as it was before the write.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from kube.client import AsyncKubeClient
from kube.errors import Conflict, KubeError, NotFound
from kube.events import EventRecorder
from kube.json_data import JsonObject
from kube.merge_patch import merge_patch_changes
from kube.resources import ROLLOUTS
from rollouts.controller.cache import ObjectCache
from rollouts.controller.pass_trace import trace, tracing
from rollouts.plan import Create, Delete, Event, Patch, Plan, Write

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How far a Plan got. ``error`` is None when everything was written."""

    writes: int = 0
    error: Exception | None = None
    failed_write: str = ""
    resource_version: str | None = None
    """The Rollout's resourceVersion after the writes (its own patches move it)."""

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def transient(self) -> bool:
        """The failure is the normal cost of optimistic concurrency (a stale version, an object created or
        deleted meanwhile): the watch brings the news, and a pass soon after sees it."""
        return isinstance(self.error, Conflict | NotFound)


class PlanExecutor:
    """Writes through the API client, remembers what it wrote in the cache, posts Events in the background."""

    def __init__(self, client: AsyncKubeClient, cache: ObjectCache, events: EventRecorder) -> None:
        self._client = client
        self._cache = cache
        self._events = events

    async def write(self, rollout: JsonObject, plan: Plan, resource_version: str | None = None) -> Outcome:
        """The Plan's writes in order (not its status, nor its Events); the first that fails ends them.

        ``Outcome.resource_version`` is the Rollout's version after them (a write may patch the Rollout itself),
        ``resource_version`` (default: ``rollout``'s) if none did."""
        namespace, name = _where(rollout)
        if resource_version is None:
            resource_version = (rollout.get("metadata") or {}).get("resourceVersion")
        done = 0
        for write in plan.writes:
            if isinstance(write, Patch) and self._unchanged(write):
                continue
            try:
                written = await self._write(write)
            except Exception as error:  # any failure ends the pass; the reconciler reports it
                return Outcome(done, error, describe(write), resource_version)
            done += 1
            if tracing():
                trace("write", rollout=f"{namespace}/{name}", request=describe(write).split(" ")[0],
                      kind=write.kind.kind, subresource=getattr(write, "subresource", None))
            if _is_rollout(write, namespace, name) and written is not None:
                resource_version = (written.get("metadata") or {}).get("resourceVersion", resource_version)
        return Outcome(done, resource_version=resource_version)

    async def write_status(
        self, rollout: JsonObject, status_patch: JsonObject, resource_version: str | None = None
    ) -> Outcome:
        """One merge patch of the Rollout's status, unless it would change nothing stored; conditional on
        ``resource_version`` (default: ``rollout``'s), the version it was decided from."""
        namespace, name = _where(rollout)
        if resource_version is None:
            resource_version = (rollout.get("metadata") or {}).get("resourceVersion")
        if not self._status_changes(namespace, name, rollout, status_patch):
            return Outcome(resource_version=resource_version)
        body: JsonObject = {"status": status_patch}
        if resource_version:
            # Decided from this version of the Rollout: if a user changed it meanwhile (promote, abort),
            # a Conflict beats overwriting their change with a status computed without it.
            body["metadata"] = {"resourceVersion": resource_version}
        self._cache.expect_echo(ROLLOUTS, namespace, name, {"status": status_patch})
        try:
            updated = await self._client.patch(ROLLOUTS, namespace, name, body, subresource="status")
        except Exception as error:  # as above
            self._cache.forget_echo(ROLLOUTS, namespace, name)
            return Outcome(0, error, f"patch Rollout {namespace}/{name} status", resource_version)
        except BaseException:  # cancelled (the controller stops): no echo is to be expected either
            self._cache.forget_echo(ROLLOUTS, namespace, name)
            raise
        self._cache.record_write(ROLLOUTS, updated)
        if tracing():
            trace("write", rollout=f"{namespace}/{name}", request="patch", kind="Rollout", subresource="status",
                  fields=list(status_patch))
        return Outcome(1, resource_version=(updated.get("metadata") or {}).get("resourceVersion", resource_version))

    def announce(self, rollout: JsonObject, events: Iterable[Event]) -> None:
        """Post the Events of what was written (in the background)."""
        # One transition announces each Event once, even when two steps of a pass say the same thing.
        announced = tuple(dict.fromkeys(events))
        for event in announced:
            self._events.emit(rollout, event)
        if announced and tracing():
            namespace, name = _where(rollout)
            trace("events", rollout=f"{namespace}/{name}", reasons=[event.reason for event in announced])

    def _unchanged(self, write: Patch) -> bool:
        """The patch would leave the cached object as it is: sending it would only cost a request (and a watch
        event back). The cache holds what this controller last wrote or observed, so a stale cache errs towards
        writing, and a newer version on the server arrives by the watch with another pass."""
        stored = self._cache.get(write.kind, write.namespace if write.kind.namespaced else "", write.name)
        if stored is None:
            return False
        target = stored.get(write.subresource) if write.subresource else stored
        patch = write.patch.get(write.subresource) if write.subresource else write.patch
        if write.subresource and set(write.patch) - {write.subresource, "metadata"}:
            return False  # not a plain subresource patch: let the API server judge it
        return not merge_patch_changes(target, patch)

    def _status_changes(self, namespace: str, name: str, decided_from: JsonObject, status_patch: JsonObject) -> bool:
        """The status patch changes the status last stored (after this pass's writes, what the cache holds)."""
        stored = self._cache.get(ROLLOUTS, namespace, name) or decided_from
        return merge_patch_changes(stored.get("status") or {}, status_patch)

    async def _write(self, write: Write) -> JsonObject | None:
        namespace = write.namespace if write.kind.namespaced else None
        if isinstance(write, Create):
            created = await self._client.create(write.kind, namespace, write.body)
            self._cache.record_write(write.kind, created)
            return created
        if isinstance(write, Patch):
            self._cache.expect_echo(write.kind, write.namespace, write.name, write.patch)
            try:
                patched = await self._client.patch(
                    write.kind, namespace, write.name, write.patch, subresource=write.subresource
                )
            except BaseException:
                self._cache.forget_echo(write.kind, write.namespace, write.name)
                raise
            self._cache.record_write(write.kind, patched)
            return patched
        with contextlib.suppress(NotFound):  # already gone is what was wanted
            await self._client.delete(write.kind, namespace, write.name)
        self._cache.record_delete(write.kind, write.namespace, write.name)
        return None


def describe(write: Write) -> str:
    """``create ReplicaSet ns/reviews-6b7f`` — for logs and error messages."""
    if isinstance(write, Create):
        name = (write.body.get("metadata") or {}).get("name", "?")
        return f"create {write.kind.kind} {write.namespace}/{name}"
    if isinstance(write, Patch):
        where = f" {write.subresource}" if write.subresource else ""
        return f"patch {write.kind.kind} {write.namespace}/{write.name}{where}"
    if isinstance(write, Delete):
        return f"delete {write.kind.kind} {write.namespace}/{write.name}"
    raise TypeError(f"not a write: {write!r}")


def describe_error(error: Exception) -> str:
    if isinstance(error, KubeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _where(rollout: JsonObject) -> tuple[str, str]:
    metadata = rollout.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _is_rollout(write: Write, namespace: str, name: str) -> bool:
    return (
        write.kind == ROLLOUTS
        and write.namespace == namespace
        and (write.name if isinstance(write, Patch | Delete) else "") == name
    )
