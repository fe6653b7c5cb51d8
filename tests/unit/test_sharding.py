"""Shard assignment (32-bit FNV-1a of ``namespace/name``, modulo the number of shards) and how replicas share the
shards' Leases (``plan_shards``).

The hash values are the FNV reference's published vectors ("a", "foobar") and, for the object keys, values
computed by an independent implementation (a Perl one-liner of the FNV-1a definition, run once by hand):

    perl -e 'sub f{my $h=0x811c9dc5; for (unpack "C*", shift) {$h^=$_; $h=($h*0x01000193)%4294967296} $h}
             printf "%08x\\n", f("shop/reviews")'
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

import pytest

from kube.sharding import ShardPlan, ShardView, fnv1a_32, plan_shards, shard_lease_name, shard_of

LEASE_DURATION = 8.0


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"foobar", 0xBF9CF968)],
)
def test_fnv1a_matches_the_published_test_vectors(data: bytes, expected: int) -> None:
    assert fnv1a_32(data) == expected


# key, its FNV-1a (Perl), and its shard for 2, 3, 5 and 8 shards
KNOWN_ASSIGNMENTS = [
    ("shop", "reviews", 0xBB1E493B, (1, 1, 4, 3)),
    ("shop", "ratings", 0xCA1D4418, (0, 2, 3, 0)),
    ("default", "canary-demo", 0xA04EBC25, (1, 1, 3, 5)),
    ("team-a", "checkout", 0xFE835647, (1, 2, 2, 7)),
    ("bench", "r-0007", 0x870AC77E, (0, 2, 0, 6)),
]


@pytest.mark.parametrize(("namespace", "name", "digest", "shards"), KNOWN_ASSIGNMENTS)
def test_a_rollout_belongs_to_the_shard_an_independent_fnv1a_gives(
    namespace: str, name: str, digest: int, shards: tuple[int, ...]
) -> None:
    assert fnv1a_32(f"{namespace}/{name}".encode()) == digest
    assert tuple(shard_of(namespace, name, m) for m in (2, 3, 5, 8)) == shards


def test_one_shard_holds_every_rollout() -> None:
    assert {shard_of(ns, name, 1) for ns, name, _, _ in KNOWN_ASSIGNMENTS} == {0}


def test_the_assignment_is_the_same_in_a_process_with_another_hash_seed() -> None:
    # Python's own str hash differs between these two processes; the shards must not.
    script = "from kube.sharding import shard_of; print([shard_of('ns', f'r-{i}', 7) for i in range(200)])"
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert outputs.pop().strip() == str([shard_of("ns", f"r-{i}", 7) for i in range(200)])


@pytest.mark.parametrize("shards", range(1, 9))
def test_every_rollout_is_in_exactly_one_shard_and_every_shard_gets_a_share(shards: int) -> None:
    keys = [(f"team-{i % 13}", f"rollout-{i}") for i in range(2000)]
    partition: dict[int, set[tuple[str, str]]] = {shard: set() for shard in range(shards)}
    for namespace, name in keys:
        partition[shard_of(namespace, name, shards)].add((namespace, name))
    assert set().union(*partition.values()) == set(keys)
    assert sum(len(members) for members in partition.values()) == len(keys)  # disjoint
    # An even hash: no shard is empty or more than a third above the mean at 2000 keys.
    sizes = [len(members) for members in partition.values()]
    assert min(sizes) > 0
    assert max(sizes) <= len(keys) / shards * 4 / 3


def test_zero_shards_is_refused_with_the_count() -> None:
    with pytest.raises(ValueError, match="at least 1, got 0"):
        shard_of("shop", "reviews", 0)


def test_the_shard_lease_is_named_after_the_controller_lease() -> None:
    assert shard_lease_name("rollouts-controller", 3) == "rollouts-controller-shard-3"


# -- sharing the Leases ------------------------------------------------------------------------------------------


def views(*holders: str, preferred: dict[int, str] | None = None, unchanged_for: float = 0.0) -> list[ShardView]:
    preferred = preferred or {}
    return [ShardView(shard, holder, preferred.get(shard, ""), unchanged_for) for shard, holder in enumerate(holders)]


PLANS = [
    pytest.param(views("", "", ""), ShardPlan(take=(0, 1, 2)), id="alone: takes every free shard"),
    pytest.param(views("b", ""), ShardPlan(take=(1,)), id="takes a free shard up to its fair share"),
    pytest.param(views("b", "", "", ""), ShardPlan(take=(1, 2)), id="fair share of 4 between 2 is 2"),
    pytest.param(views("me", "", "b", ""), ShardPlan(take=(1,)), id="holds 1 of a fair 2: takes one more"),
    pytest.param(views("b", "b"), ShardPlan(request=1, request_from="b"),
                 id="asks the holder of two for its highest shard"),
    pytest.param(views("b", "b", "me"), ShardPlan(), id="one apart is balanced: no request"),
    pytest.param(views("b", "b", "c", "c", "c"), ShardPlan(request=4, request_from="c"),
                 id="asks the most loaded holder"),
    pytest.param(views("c", "c", "b", "b"), ShardPlan(request=3, request_from="b"),
                 id="equal loads: the smallest identity is asked"),
    pytest.param(views("b", "b", "b", "b", ""), ShardPlan(take=(4,)), id="a free shard before a request"),
    pytest.param(views("me", "b", preferred={0: "b"}), ShardPlan(hand_over=(0,)),
                 id="hands over a shard another replica asked for"),
    pytest.param(views("b", "b", "b", preferred={2: "me"}), ShardPlan(), id="a request pending: no second one"),
    pytest.param(views("b", "", preferred={1: "c"}), ShardPlan(), id="a shard released for c is left to c"),
    pytest.param(views("b", "", preferred={1: "c"}, unchanged_for=LEASE_DURATION), ShardPlan(take=(1,)),
                 id="unless c has not taken it within a lease duration"),
    pytest.param(views("b", "", preferred={1: "me"}), ShardPlan(take=(1,)), id="takes a shard released for it"),
]


@pytest.mark.parametrize(("observed", "expected"), PLANS)
def test_plan_shards(observed: list[ShardView], expected: ShardPlan) -> None:
    assert plan_shards(observed, "me", LEASE_DURATION) == expected


@dataclass
class Leases:
    """The shards' Leases as a simulation of the API server sees them: holder and preferred holder per shard."""

    holders: list[str]
    preferred: list[str] = field(default_factory=list)
    unchanged: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.preferred = self.preferred or [""] * len(self.holders)
        self.unchanged = self.unchanged or [0.0] * len(self.holders)

    def round(self, replica: str) -> bool:
        """One round of ``replica``'s plan carried out; whether any Lease changed."""
        observed = [ShardView(i, h, p, u) for i, (h, p, u) in enumerate(zip(self.holders, self.preferred,
                                                                               self.unchanged, strict=True))]
        plan = plan_shards(observed, replica, LEASE_DURATION)
        for shard in plan.hand_over:
            self.holders[shard] = ""
        for shard in plan.take:
            if not self.holders[shard]:
                self.holders[shard], self.preferred[shard] = replica, ""
        if plan.request is not None:
            self.preferred[plan.request] = replica
        return bool(plan.take or plan.hand_over or plan.request is not None)


def settle(leases: Leases, replicas: list[str]) -> int:
    """Rounds of every replica in turn until a whole round changes nothing; how many rounds it took."""
    for rounds in range(1, 100):
        if not any([leases.round(replica) for replica in replicas]):
            return rounds
    raise AssertionError(f"the shards never settled: {leases}")


@pytest.mark.parametrize("shards", range(1, 9))
@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_replicas_started_one_after_another_end_one_shard_apart_with_every_shard_held(
    shards: int, replicas: int
) -> None:
    names = [f"replica-{i}" for i in range(replicas)]
    leases = Leases([""] * shards)
    for started in range(1, replicas + 1):  # the first takes everything; each newcomer asks for its share
        settle(leases, names[:started])
    counts = Counter(leases.holders)
    assert "" not in counts
    held = [counts[name] for name in names]
    assert max(held) - min(held) <= 1, leases.holders
    assert sum(held) == shards


def test_the_shards_of_a_dead_replica_go_to_the_live_ones() -> None:
    leases = Leases(["a", "b", "c", "a", "b", "c"])
    # c died: its Leases expire, and the observers see them free (unchanged for a lease duration).
    leases.holders = [holder if holder != "c" else "" for holder in leases.holders]
    leases.unchanged = [LEASE_DURATION] * 6
    settle(leases, ["a", "b"])
    assert Counter(leases.holders) == {"a": 3, "b": 3}
