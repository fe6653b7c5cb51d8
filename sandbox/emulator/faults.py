"""API fault injection: the failures a real API server's clients must survive, on demand and reproducibly.

A :class:`FaultPolicy` says how often requests fail (``rate``), which ones (``verbs``, ``resources``) and how:

- ``error`` — 500 ``InternalError``, as an etcd timeout or an apiserver panic answers;
- ``conflict`` — 409 ``Conflict`` on writes to a named object, as a concurrent writer causes;
- ``throttle`` — 429 ``TooManyRequests`` with ``Retry-After``, as API Priority and Fairness answers;
- ``slow`` — the request is served, ``slow_seconds`` late;
- ``drop-watch`` — a watch stream is ended after at most ``watch_lifetime`` seconds, as a load balancer cutting
  idle connections does; clients must re-watch from their last resourceVersion.

A :class:`FaultInjector` holds the policy, its random generator (``seed`` makes a run reproducible) and an outage
window: during ``outage(seconds)`` every request is refused with 503 ``ServiceUnavailable`` and open watches are
ended, as while the apiserver restarts. The choice itself is the pure :func:`choose_fault`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from sandbox.emulator.status import ApiError

FaultKind = Literal["error", "conflict", "throttle", "slow", "drop-watch"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = ("error", "conflict", "throttle", "slow", "drop-watch")
RESOURCE_VERBS: Final = frozenset(
    {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"})
_CONFLICT_VERBS: Final = frozenset({"update", "patch", "delete"})


class FaultPolicyError(ValueError):
    """A fault policy that cannot be used; the message names the setting and what is wrong."""


@dataclass(frozen=True, slots=True)
class FaultPolicy:
    """Which requests fail and how. Empty ``verbs``/``resources`` mean all of them.

    ``resources`` holds plural names, optionally qualified by group (``rollouts`` or ``rollouts.argoproj.io``).
    """

    rate: float = 0.0
    verbs: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    kinds: tuple[FaultKind, ...] = FAULT_KINDS
    retry_after: int = 1
    slow_seconds: float = 1.0
    watch_lifetime: float = 2.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise FaultPolicyError(f"fault rate: {self.rate} is not between 0 and 1")
        unknown_verbs = sorted(self.verbs - RESOURCE_VERBS)
        if unknown_verbs:
            raise FaultPolicyError(
                f"fault verbs: {', '.join(unknown_verbs)} not among {', '.join(sorted(RESOURCE_VERBS))}")
        unknown_kinds = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown_kinds or not self.kinds:
            raise FaultPolicyError(
                f"fault kinds: {', '.join(unknown_kinds) or 'none given'}; choose from {', '.join(FAULT_KINDS)}")
        if self.retry_after < 1:
            raise FaultPolicyError(f"fault retry-after: {self.retry_after} s is less than 1 s")
        if self.slow_seconds < 0 or self.watch_lifetime <= 0:
            raise FaultPolicyError("fault slow-seconds must be >= 0 and watch-lifetime > 0")

    def applies_to(self, verb: str, group: str, resource: str) -> bool:
        """Whether a request of ``verb`` on ``resource`` (in ``group``) may be failed under this policy."""
        if verb not in RESOURCE_VERBS or not resource:
            return False  # discovery, /version, /healthz: failing them only tests client start-up
        if self.verbs and verb not in self.verbs:
            return False
        qualified = f"{resource}.{group}" if group else resource
        return not self.resources or resource in self.resources or qualified in self.resources


def parse_names(values: Iterable[str]) -> frozenset[str]:
    """Names from repeated or comma-separated command-line values: ``["get,list", "patch"]``."""
    return frozenset(name.strip().lower() for value in values for name in value.split(",") if name.strip())


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: what to do to the request."""

    kind: FaultKind | Literal["outage"]
    delay: float = 0.0  # slow: seconds to wait before serving; drop-watch: how long the stream lives

    def error(self, *, resource: str, group: str, name: str | None, retry_after: int) -> ApiError | None:
        """The refusal to answer with, or None when the request is still served (slow, drop-watch)."""
        if self.kind == "outage":
            return ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        if self.kind == "error":
            return ApiError(500, "InternalError",
                            "Internal error occurred: injected by the sandbox's fault injection")
        if self.kind == "throttle":
            error = ApiError(429, "TooManyRequests", "Too many requests, please try again later.")
            error.details["retryAfterSeconds"] = retry_after
            return error
        if self.kind == "conflict":
            qualified = f"{resource}.{group}" if group else resource
            return ApiError(
                409, "Conflict",
                f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                name=name, group=group, kind=resource)
        return None


def choose_fault(policy: FaultPolicy, *, verb: str, group: str, resource: str, name: str | None,
                 roll: float, pick: float, spread: float) -> Fault | None:
    """The fault for one request, from three uniform numbers in [0, 1): ``roll`` decides whether it fails
    (``roll < rate``), ``pick`` which of the kinds that fit the request, ``spread`` how long a delay is."""
    if roll >= policy.rate or not policy.applies_to(verb, group, resource):
        return None
    fitting = [kind for kind in policy.kinds if _fits(kind, verb, name)]
    if not fitting:
        return None
    kind = fitting[min(int(pick * len(fitting)), len(fitting) - 1)]
    if kind == "slow":
        return Fault("slow", policy.slow_seconds)
    if kind == "drop-watch":
        return Fault("drop-watch", max(policy.watch_lifetime * spread, 0.01))  # 0 would mean "no timeout"
    return Fault(kind)


def _fits(kind: FaultKind, verb: str, name: str | None) -> bool:
    if kind == "drop-watch":
        return verb == "watch"
    if kind == "conflict":
        return verb in _CONFLICT_VERBS and name is not None
    if verb == "watch":
        # A watch that fails at once is what "error" and "throttle" already test on list; slowing one is moot.
        return kind in ("error", "throttle")
    return True


@dataclass
class FaultInjector:
    """A policy in force on an emulator: draws the faults, keeps the outage window, counts what it injected.

    Safe to call from any thread (the emulator serves on its own loop; tests steer from theirs).
    """

    policy: FaultPolicy = field(default_factory=FaultPolicy)
    clock: Callable[[], float] = time.monotonic
    injected: Counter[str] = field(default_factory=Counter, init=False)
    _rng: random.Random = field(init=False)
    _outage_until: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.policy.seed)

    def outage(self, seconds: float) -> None:
        """Refuse every request, resource or not, for ``seconds`` from now (503 ServiceUnavailable)."""
        if seconds < 0:
            raise FaultPolicyError(f"outage: {seconds} s is negative")
        with self._lock:
            self._outage_until = max(self._outage_until, self.clock() + seconds)

    def in_outage(self) -> bool:
        """Whether an outage window is open now."""
        with self._lock:
            return self.clock() < self._outage_until

    def decide(self, *, verb: str, group: str, resource: str, name: str | None) -> Fault | None:
        """The fault for this request (and counts it), or None to serve it normally."""
        with self._lock:
            if self.clock() < self._outage_until:
                fault: Fault | None = Fault("outage")
            else:
                # Always three draws, so that one request's fate never shifts the next one's: a seeded run
                # injects the same faults into the same sequence of requests.
                roll, pick, spread = self._rng.random(), self._rng.random(), self._rng.random()
                fault = choose_fault(self.policy, verb=verb, group=group, resource=resource, name=name,
                                     roll=roll, pick=pick, spread=spread)
            if fault is not None:
                self.injected[fault.kind] += 1
            return fault
