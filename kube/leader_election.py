"""Leader election through a coordination.k8s.io/v1 Lease, with the semantics of client-go's ``leaderelection``.

Every replica is a candidate. The Lease names its holder (``holderIdentity``), when the holder last renewed it
(``renewTime``) and for how long a renewal counts (``leaseDurationSeconds``):

- a candidate takes the Lease when it does not exist, when its holder is empty (released), or when its record has
  not changed for ``leaseDurationSeconds`` *as measured on the candidate's own clock* since it first saw that
  record. client-go measures the same way, so that clocks that disagree between machines cannot make a live
  leader's Lease look expired; only the rate at which clocks tick matters.
- every write carries the resourceVersion it was decided from, so of two candidates racing for an expired Lease
  one gets a Conflict and stays a candidate (optimistic concurrency: the API server picks the winner).
- the leader renews every ``retry_period``; when renewals have failed for ``renew_deadline`` it stops leading.
  The renew deadline counts from the moment the last successful renewal was *sent*, and a candidate's wait counts
  from the moment it *received* the record that renewal wrote, so the leader stops at least
  ``lease_duration - renew_deadline`` before any candidate may start. ``check_leading`` is the fence built on that
  margin: called right before each write request goes out, it refuses once the deadline has passed.
- ``leaseTransitions`` is incremented each time the Lease changes hands; ``release`` (clean shutdown) clears the
  holder, so that a standby takes over at its next try instead of waiting for the Lease to expire.

Defaults (8 s lease, 6 s renew deadline, 2 s retry period): a standby notices a renewal at most one retry period
after it was written, and tries again the moment the Lease expires, so it takes over at most ``lease_duration +
retry_period`` = 10 s after the leader was killed, leaving 5 s of a 15 s budget to finish what the leader left
half done. The leader renews (one PUT) every 2 s and each standby reads the Lease (one GET) every 2 s.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NoReturn, Protocol

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kube.errors import Conflict, KubeError
from kube.json_data import JsonObject
from kube.resources import LEASES

if TYPE_CHECKING:  # the kubernetes package is slow to import; the CLI checks its flags with this module first
    from kube.client import AsyncKubeClient

logger = logging.getLogger(__name__)


DEFAULT_LEASE_NAME: Final = "rollouts-controller"
DEFAULT_LEASE_DURATION: Final = 8.0
DEFAULT_RENEW_DEADLINE: Final = 6.0
DEFAULT_RETRY_PERIOD: Final = 2.0


class NotLeader(KubeError):
    """A write refused because this process does not hold the leader-election Lease (any more)."""


class LeadershipLost(KubeError):
    """This process was the leader and could not renew its Lease in time, or found another holder."""


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Where the Lease is, who this candidate is, and the timing (seconds) of client-go's LeaderElectionConfig."""

    namespace: str
    identity: str
    """This candidate's name in the Lease's ``holderIdentity`` while it leads; unique among the candidates
    (``default_identity``)."""
    name: str = DEFAULT_LEASE_NAME
    lease_duration: float = DEFAULT_LEASE_DURATION
    """How long a standby waits after the last renewal it observed before taking the Lease over (client-go's
    LeaseDuration, written as the Lease's ``leaseDurationSeconds``)."""
    renew_deadline: float = DEFAULT_RENEW_DEADLINE
    """How long the leader keeps trying to renew before it stops leading (client-go's RenewDeadline)."""
    retry_period: float = DEFAULT_RETRY_PERIOD
    """How long a candidate waits between two tries to acquire or renew (client-go's RetryPeriod)."""

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError("the leader-election identity must not be empty")
        if not self.namespace or not self.name:
            raise ValueError("the leader-election Lease needs a namespace and a name")
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            # The gap between renew deadline and lease duration is the time a leader that lost the Lease has to
            # stop before a standby may start; renewing less often than the deadline could never succeed in time.
            raise ValueError(
                "leader election needs 0 < retry period < renew deadline < lease duration, got "
                f"retry period {self.retry_period:g}s, renew deadline {self.renew_deadline:g}s, "
                f"lease duration {self.lease_duration:g}s"
            )


def default_identity() -> str:
    """``$POD_NAME`` in a pod (unique among live pods), else ``<hostname>_<pid>`` (unique on this machine)."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{os.getpid()}"


def default_namespace() -> str:
    """The pod's own namespace (``$POD_NAMESPACE``, from the downward API), else ``default``."""
    return os.environ.get("POD_NAMESPACE") or "default"


def format_micro_time(moment: datetime) -> str:
    """A metav1.MicroTime, as Lease times are written: ``2024-05-01T10:00:00.123456Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LeaseObservation:
    """A Lease as a candidate last saw it: the live holder ("" when none), who it should yield to ("" when
    nobody asked), and for how long (seconds) the record has not changed."""

    holder: str
    preferred: str
    unchanged_for: float


class LeaseStore(Protocol):
    """Reads and writes of the one Lease object; writes raise ``Conflict`` when the object changed (or exists)."""

    async def get(self, namespace: str, name: str) -> JsonObject | None: ...

    async def create(self, namespace: str, body: JsonObject) -> JsonObject: ...

    async def replace(self, namespace: str, name: str, body: JsonObject) -> JsonObject: ...


class KubeLeaseStore:
    """Leases through the API (``get``, ``create``, ``update`` — what the leader-election Role grants)."""

    def __init__(self, client: AsyncKubeClient) -> None:
        self._client = client

    async def get(self, namespace: str, name: str) -> JsonObject | None:
        return await self._client.get_or_none(LEASES, namespace, name)

    async def create(self, namespace: str, body: JsonObject) -> JsonObject:
        return await self._client.create(LEASES, namespace, body)

    async def replace(self, namespace: str, name: str, body: JsonObject) -> JsonObject:
        return await self._client.replace(LEASES, namespace, name, body)


class LeaderElector:
    """One candidate: ``acquire`` until it leads, ``hold`` while it leads, ``release`` on a clean shutdown.

    ``clock`` is monotonic seconds (deadlines and expiry are measured on it, and ``check_leading`` may be called
    from other threads); ``wall_clock`` only dates the Lease's record for people and other tools.
    """

    # A released Lease says so for one second (client-go's choice); its empty holder already lets anyone take it.
    RELEASED_LEASE_SECONDS: Final = 1
    # A release whose write met our own renewal landing first is written once more over the Lease read again.
    RELEASE_ATTEMPTS: Final = 2
    # A standby wakes this long after the Lease's expiry, not exactly at it, so that it does not find it still valid.
    EXPIRY_MARGIN: Final = 0.01

    def __init__(
        self,
        store: LeaseStore,
        config: LeaderElectionConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._store = store
        self._clock = clock
        self._wall_clock = wall_clock
        self._observed: JsonObject | None = None  # the Lease as last read or written
        self._observed_spec: JsonObject | None = None
        self._observed_at = 0.0  # when its record last changed, on this candidate's clock
        self._leading = False
        self._valid_until = 0.0  # leading ends here unless renewed: last renewal sent + renew deadline

    # -- state -------------------------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """This process leads now (it holds the Lease and its renew deadline has not passed)."""
        return self._leading and self._clock() < self._valid_until

    def check_leading(self) -> None:
        """Raise ``NotLeader`` unless this process leads now: the fence every write goes through."""
        if not self.is_leader:
            raise NotLeader(
                f"not the leader (Lease {self.config.namespace}/{self.config.name} is not held by "
                f"{self.config.identity}): refusing to write"
            )

    @property
    def holder(self) -> str:
        """The holder of the Lease as last observed ("" when none)."""
        return str((self._observed_spec or {}).get("holderIdentity") or "")

    # -- the election ------------------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Return once this process holds the Lease, trying every retry period (and the moment it expires)."""
        announced = ""
        while True:
            if await self._attempt(timeout=self.config.renew_deadline):
                logger.info(
                    "leader election: %s leads (Lease %s/%s, %d transitions)", self.config.identity,
                    self.config.namespace, self.config.name, self._transitions(),
                )
                return
            if self.holder and self.holder != announced:
                announced = self.holder
                logger.info("leader election: %s stands by; %s leads (Lease %s)", self.config.identity,
                            self.holder, self._where())
            await asyncio.sleep(self._until_next_try())

    async def hold(self) -> NoReturn:
        """Renew the Lease every retry period while leading; raise ``LeadershipLost`` once that has failed for the
        renew deadline, or at once when another candidate holds the Lease."""
        if not self._leading:
            raise LeadershipLost(f"{self.config.identity} does not hold Lease {self._where()}")
        while True:
            await asyncio.sleep(self.config.retry_period)
            while True:
                remaining = self._valid_until - self._clock()
                if remaining <= 0:
                    # Not even one more try: a renewal sent after the deadline could make a leader of a process
                    # whose fence has been refusing writes — and that may have been paused all along.
                    self._lose()
                    raise LeadershipLost(
                        f"lost the leader election: could not renew Lease {self._where()} within the "
                        f"{self.config.renew_deadline:g}s renew deadline; stopped leading"
                    )
                if await self._attempt(timeout=remaining):
                    break
                if self.holder and self.holder != self.config.identity:
                    self._lose()
                    raise LeadershipLost(
                        f"lost the leader election: Lease {self._where()} is held by {self.holder}; stopped leading"
                    )
                await asyncio.sleep(min(self.config.retry_period, max(0.0, self._valid_until - self._clock())))

    async def release(self) -> bool:
        """Give the Lease up (holder cleared) so that a standby takes over at its next try; whether it was.

        Leading ends first: nothing is written as leader once the release has begun.
        """
        observed = self._observed
        if not self._leading or observed is None:
            return False
        self._lose()
        for _ in range(self.RELEASE_ATTEMPTS):
            now = format_micro_time(self._wall_clock())
            spec = {
                **(observed.get("spec") or {}),
                "holderIdentity": "",
                "leaseDurationSeconds": self.RELEASED_LEASE_SECONDS,
                "acquireTime": now,
                "renewTime": now,
            }
            if await self._replace_spec(observed, spec, action="release", level=logging.WARNING):
                logger.info("leader election: %s released Lease %s", self.config.identity, self._where())
                return True
            # A renewal of ours that was on its way when leading ended lands after the copy we wrote over
            # (a Conflict): read the Lease again and release it if it is still ours. Someone else's, or no answer:
            # it expires on its own.
            current = await self._read_lease()
            if current is None or _holder(current) != self.config.identity or _version(current) == _version(observed):
                return False
            observed = current
        return False

    async def _read_lease(self) -> JsonObject | None:
        """The Lease as stored, or None when the API does not answer within a retry period."""
        try:
            async with asyncio.timeout(self.config.retry_period):
                return await self._store.get(self.config.namespace, self.config.name)
        except (KubeError, TimeoutError):
            return None

    # -- one round at a time (a sharded controller's replicas drive their shards' electors this way) -------

    async def attempt(self) -> bool:
        """One try at taking (or renewing) the Lease, bounded by the renew deadline; whether this process holds
        it now. Errors are logged, not raised: a try that fails is a try that did not win."""
        return await self._attempt(timeout=self.config.renew_deadline)

    async def refresh(self) -> None:
        """Read the Lease (within a retry period) and note what it says; a failed read leaves the last record."""
        try:
            async with asyncio.timeout(self.config.retry_period):
                lease = await self._store.get(self.config.namespace, self.config.name)
        except (KubeError, TimeoutError) as error:
            logger.warning("leader election: Lease %s: %s", self._where(), error or "no answer")
            return
        if lease is not None:
            self._observe(lease, self._clock())
        else:
            self._observed, self._observed_spec, self._observed_at = None, None, self._clock()

    def observation(self) -> LeaseObservation:
        """The Lease as last observed: its live holder ("" when free or expired), ``spec.preferredHolder``, and
        how long the record has been unchanged on this candidate's clock."""
        spec = self._observed_spec or {}
        now = self._clock()
        holder = self.holder
        if holder and holder != self.config.identity and now >= self._expires_at():
            holder = ""
        if holder == self.config.identity and not self.is_leader:
            holder = ""
        return LeaseObservation(holder, str(spec.get("preferredHolder") or ""), now - self._observed_at)

    def next_try_in(self) -> float:
        """Seconds until this candidate should try again: a retry period, or less when the Lease another holds
        expires sooner (to take it over without delay)."""
        return self._until_next_try()

    async def prefer(self, identity: str) -> bool:
        """Ask the holder to yield: write ``identity`` as the Lease's ``spec.preferredHolder`` (on the record
        last read, so that a Lease changed meanwhile is a Conflict and nothing is written); whether it was."""
        observed = self._observed
        if observed is None:
            return False
        spec = {**(observed.get("spec") or {}), "preferredHolder": identity}
        return await self._replace_spec(observed, spec, action="ask for", level=logging.INFO)

    async def _replace_spec(self, observed: JsonObject, spec: JsonObject, *, action: str, level: int) -> bool:
        """Write ``spec`` over the Lease as ``observed`` (a Lease changed since is a Conflict: nothing is written)
        within a retry period and note the result; whether it was written. A failure is logged at ``level`` as
        "could not <action> Lease", not raised."""
        try:
            async with asyncio.timeout(self.config.retry_period):
                written = await self._store.replace(self.config.namespace, self.config.name, _with_spec(observed, spec))
        except (KubeError, TimeoutError) as error:
            logger.log(level, "leader election: could not %s Lease %s: %s", action, self._where(), error or "no answer")
            return False
        self._observe(written, self._clock())
        return True

    # -- one try -----------------------------------------------------------------------------------------

    async def _attempt(self, *, timeout: float) -> bool:
        """One tryAcquireOrRenew, bounded in time; whether this process holds the Lease after it."""
        try:
            async with asyncio.timeout(timeout):
                return await self._try_acquire_or_renew()
        except TimeoutError:
            logger.warning("leader election: Lease %s: no answer within %gs", self._where(), timeout)
        except KubeError as error:
            logger.warning("leader election: Lease %s: %s", self._where(), error)
        return False

    async def _try_acquire_or_renew(self) -> bool:
        # Taken before the request is sent: a renewal is known to have been written no earlier than this.
        sent = self._clock()
        namespace, name, me = self.config.namespace, self.config.name, self.config.identity
        if self._leading and self._observed is not None:
            # The fast path (client-go's too): renew from what was last written, without reading it first.
            try:
                renewed = await self._store.replace(namespace, name, self._claim(self._observed))
            except Conflict:
                pass  # changed by someone else: read it and decide below
            else:
                self._won(renewed, sent)
                return True
        lease = await self._store.get(namespace, name)
        if lease is None:
            try:
                created = await self._store.create(namespace, self._claim(None))
            except Conflict:
                return False  # another candidate created it first
            self._won(created, sent)
            return True
        # Received now: an expiry is measured from here, never from before the record could have been written.
        self._observe(lease, self._clock())
        holder = self.holder
        if holder and holder != me and self._clock() < self._expires_at():
            return False
        try:
            claimed = await self._store.replace(namespace, name, self._claim(lease))
        except Conflict:
            return False  # another candidate took it between our read and our write
        self._won(claimed, sent)
        return True

    def _claim(self, lease: JsonObject | None) -> JsonObject:
        """The Lease as this candidate writes it to take or keep it."""
        now = format_micro_time(self._wall_clock())
        spec: JsonObject = dict((lease or {}).get("spec") or {})
        if lease is None or spec.get("holderIdentity") != self.config.identity:
            spec["acquireTime"] = now
            # A request to yield was addressed to the previous holder (or answered by this take-over).
            spec.pop("preferredHolder", None)
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if lease is not None else 0)
        spec.update(
            holderIdentity=self.config.identity,
            leaseDurationSeconds=math.ceil(self.config.lease_duration),
            renewTime=now,
        )
        spec.setdefault("leaseTransitions", 0)
        if lease is None:
            return {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                "spec": spec,
            }
        return _with_spec(lease, spec)

    # -- bookkeeping -------------------------------------------------------------------------------------

    def _won(self, lease: JsonObject, sent: float) -> None:
        self._observe(lease, self._clock())
        self._valid_until = sent + self.config.renew_deadline
        self._leading = True

    def _lose(self) -> None:
        self._leading = False
        self._valid_until = 0.0

    def _observe(self, lease: JsonObject, now: float) -> None:
        spec = lease.get("spec") or {}
        if spec != self._observed_spec:
            self._observed_spec = copy.deepcopy(spec)
            self._observed_at = now
        self._observed = lease

    def _expires_at(self) -> float:
        """When the observed record expires, on this candidate's clock (its holder's duration, as client-go)."""
        seconds = (self._observed_spec or {}).get("leaseDurationSeconds")
        duration = float(seconds) if isinstance(seconds, int | float) else self.config.lease_duration
        return self._observed_at + duration

    def _until_next_try(self) -> float:
        """A retry period, or less when the Lease another holds expires sooner (take it over without delay)."""
        delay = self.config.retry_period
        if self.holder and self.holder != self.config.identity:
            delay = min(delay, max(0.0, self._expires_at() - self._clock()) + self.EXPIRY_MARGIN)
        return delay

    def _transitions(self) -> int:
        return int((self._observed_spec or {}).get("leaseTransitions") or 0)

    def _where(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"


def _with_spec(lease: JsonObject, spec: JsonObject) -> JsonObject:
    """The Lease with a new spec, its metadata (and resourceVersion: the precondition of the write) kept."""
    return {
        "apiVersion": LEASES.api_version,
        "kind": LEASES.kind,
        "metadata": copy.deepcopy(lease.get("metadata") or {}),
        "spec": spec,
    }


class LeaderMetric(Collector):
    """``controller_leader{identity}``: 1 while this process leads, else 0 — read at each scrape, so it turns 0 the
    moment the renew deadline passes."""

    def __init__(self, elector: LeaderElector) -> None:
        self._elector = elector

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "controller_leader", "1 when this controller process is the elected leader, 0 when it is a standby",
            labels=["identity"],
        )
        family.add_metric([self._elector.config.identity], 1.0 if self._elector.is_leader else 0.0)
        return [family]

    def describe(self) -> Iterable[Metric]:
        return self.collect()


def _holder(lease: JsonObject) -> str:
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def _version(lease: JsonObject) -> str:
    return str((lease.get("metadata") or {}).get("resourceVersion") or "")
