"""A sharded controller process (``rollouts controller --shards M``): which shard each work-queue key belongs to,
and the process's part in the per-shard election.

A Rollout belongs to shard ``shard_of(namespace, name, M)`` (``kube.sharding``). Its children follow it, so that
one replica acts on a Rollout and everything it drives: an AnalysisRun or an Experiment belongs to the shard of the
Rollout that controls it (its controller ownerReference), an AnalysisRun of an Experiment to the Experiment's;
an object no Rollout controls is its own shard's.

Every replica watches everything and keeps every object in its caches: a Rollout's shard is a function of its
name, and user objects carry no label the API server could filter on (labelling them would be a write to objects
of every shard, and a diff in the GitOps tool that applied them). The filter is in-process, at the work queue:
a replica queues, passes over and writes only the keys of the shards it holds (``kube.controller_runner``'s
``ownership``), and its client's write guard refuses any other write (``kube.shard_election``). A replica taking
a shard over therefore starts from a synced cache, as a standby does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar, Unpack

from kube.client import AsyncKubeClient
from kube.controller_runner import ControllerRunner, NamespacedKey, Urgency
from kube.json_data import JsonObject
from kube.metrics_export import Probe
from kube.object_meta import ObjectKey, controller_reference
from kube.shard_election import ShardElection, ShardOwnership
from kube.sharding import shard_of
from rollouts.controller.leadership import ElectionPart, ElectionPartOptions, WorkerPool, process_probes

K = TypeVar("K", bound=NamespacedKey)

logger = logging.getLogger(__name__)


def rollout_shard(shards: int) -> Callable[[NamespacedKey], int]:
    """The shard of a Rollout key."""
    return lambda key: shard_of(key.namespace, key.name, shards)


def owner_shard(
    shards: int, lookup: Callable[[ObjectKey], JsonObject | None], experiments: Mapping[ObjectKey, JsonObject]
) -> Callable[[ObjectKey], int]:
    """The shard of an AnalysisRun's or Experiment's key: its controlling Rollout's, through an Experiment when an
    Experiment controls it; its own when no Rollout does (or the object is not cached: it is gone)."""

    def root(key: ObjectKey, obj: JsonObject | None) -> ObjectKey:
        if obj is None:
            return key
        rollout = controller_reference(obj, "Rollout")
        if rollout is not None:
            return ObjectKey(key.namespace, str(rollout.get("name") or ""))
        experiment = controller_reference(obj, "Experiment")
        if experiment is not None:
            experiment_key = ObjectKey(key.namespace, str(experiment.get("name") or ""))
            return root(experiment_key, experiments.get(experiment_key))
        return key

    def shard(key: ObjectKey) -> int:
        owner = root(key, lookup(key))
        return shard_of(owner.namespace, owner.name, shards)

    return shard


@dataclass(frozen=True)
class ShardedQueue(Generic[K]):
    """One controller's work queue under the shards' ownership."""

    runner: ControllerRunner[K]
    ownership: ShardOwnership[K]

    def shard_gained(self, shard: int) -> None:
        """Queue every key of ``shard``: the cluster is the only record of what its last owner did."""
        self.runner.resync(self.ownership.in_shard(shard), Urgency.ROUTINE)

    def shard_lost(self, shard: int) -> None:
        """Forget the timers and series of ``shard``'s keys: its new holder looks after them now."""
        self.runner.let_go(self.ownership.in_shard(shard))


class ShardLeadership(ElectionPart):
    """The shard election and the controllers whose work it divides; the sharded counterpart of ``Leadership``.

    Workers start as soon as every cache is synced and act on the keys of the shards held at the moment. Losing a
    shard does not end the process (the others are still held): its keys are dropped at their next turn in the
    queue, their timers and metric series are dropped, and the fence already refuses their writes.
    """

    election_name = "shard election"

    def __init__(
        self,
        election: ShardElection,
        controllers: Sequence[WorkerPool],
        queues: Sequence[ShardedQueue[Any]],
        lease_client: AsyncKubeClient,
        **options: Unpack[ElectionPartOptions],
    ) -> None:
        super().__init__(controllers, lease_client, **options)
        self.election = election
        self._queues = tuple(queues)

    async def _take_part(self) -> NoReturn:
        await self._caches_synced()
        self._start_workers()
        loop = asyncio.get_running_loop()

        def gained(shard: int) -> None:
            loop.call_soon_threadsafe(self._gained, shard)

        def lost(shard: int) -> None:
            loop.call_soon_threadsafe(self._lost, shard)

        await self._elect(self.election.run(gained, lost))

    async def _release(self) -> None:
        await self.election.release_all()

    def _gained(self, shard: int) -> None:
        for queue in self._queues:
            queue.shard_gained(shard)

    def _lost(self, shard: int) -> None:
        logger.info("shards: shard %d lost; its Rollouts are left to its new holder", shard)
        for queue in self._queues:
            queue.shard_lost(shard)

    def probes(self) -> Mapping[str, Probe]:
        def role() -> str:
            held = self.election.held()
            return f"shards {','.join(map(str, held))}" if held else "no shard"

        return process_probes(self._controllers, role)
