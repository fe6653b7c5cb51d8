"""The controller process: a client from the kubeconfig, a check that the cluster answers and serves Rollouts,
then kopf with the controllers' handlers until SIGINT/SIGTERM (kopf handles both: clean-up handlers run, the
workers stop, the metrics server closes).

Two controllers share the process, one kopf operator (its start-up, clean-up and signals), one set of watch
streams (``kube.informer.Informers``: one list+watch per resource type, shared by every controller) and one
metrics registry served on one port, as in Argo Rollouts: the Rollout controller and the analysis controller
(``analysis.controller``), which measures AnalysisRuns and writes their verdicts.

With leader election (``rollouts.controller.leadership``) several such processes run side by side and only the
one holding the Lease acts; losing it ends ``run`` with ``LeadershipLost``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack

import kopf
from kubernetes.client import ApiClient

from analysis.controller.controller import AnalysisController, AnalysisOptions
from analysis.controller.handlers import register_handlers as register_analysis_handlers
from gitops.controller.application_sets import AppSetController, AppSetControllerOptions
from gitops.controller.controller import AppController, AppControllerOptions
from gitops.controller.handlers import register_appset_handlers
from gitops.controller.handlers import register_handlers as register_application_handlers
from gitops.controller.metrics import AppMetrics
from kube.client import AsyncKubeClient, KubeClient, load_api_client
from kube.controller_runner import ControllerRunner, NamespacedKey
from kube.errors import ApiError, KubeError, NotFound
from kube.http_connection import async_http_client
from kube.informer import Informers
from kube.kopf_operator import (
    REQUEST_TIMEOUT,
    WATCH_CONNECT_TIMEOUT,
    configure_settings,
    connection_info,
    register_lifecycle,
)
from kube.leader_election import KubeLeaseStore, LeaderElectionConfig, LeaderElector, LeaderMetric
from kube.resources import ROLLOUTS
from kube.shard_election import ShardElection, ShardMetric, ShardOwnership
from kube.side_loop import SideLoop
from notifications.controller import NotificationController, NotificationOptions, notification_controllers
from notifications.handlers import hand_over_events
from notifications.handlers import register_handlers as register_notification_handlers
from rollouts.controller.controller import (
    ControllerOptions,
    RolloutController,
)
from rollouts.controller.handlers import register_handlers
from rollouts.controller.leadership import Leadership, WorkerPool, process_probes
from rollouts.controller.reconciler import Decide
from rollouts.controller.shards import ShardedQueue, ShardLeadership, owner_shard, rollout_shard
from rollouts.experiments.controller import ExperimentController, ExperimentOptions
from rollouts.experiments.handlers import register_handlers as register_experiment_handlers

K = TypeVar("K", bound=NamespacedKey)

logger = logging.getLogger(__name__)

# The start-up check should fail in seconds, not after the client's usual 30 s, when the server is a black hole.
PROBE_TIMEOUT = 10.0


class StartupError(KubeError):
    """The cluster answers but cannot run the controller (no Rollout CRD, no permission to list Rollouts)."""


@dataclass
class RolloutOperator:
    """The controllers ready to run under kopf: their registry of handlers and the namespaces they watch."""

    controller: RolloutController
    registry: kopf.OperatorRegistry
    client: AsyncKubeClient
    namespaces: tuple[str, ...] = field(default=())
    analysis: AnalysisController | None = None
    experiments: ExperimentController | None = None
    leadership: Leadership | ShardLeadership | None = None
    applications: AppController | None = None
    application_sets: AppSetController | None = None
    notifications: list[NotificationController] = field(default_factory=list)
    informers: Informers | None = None

    async def run(self, *, stop_flag: Any = None, ready_flag: Any = None) -> None:
        """Run kopf until ``stop_flag`` is set (any flag kopf accepts) or a signal arrives (main thread only);
        with leader election, raise ``LeadershipLost`` once this process has lost the Lease."""
        controllers: list[WorkerPool] = [
            self.controller,
            *([self.analysis] if self.analysis is not None else []),
            *([self.experiments] if self.experiments is not None else []),
            *([self.applications] if self.applications is not None else []),
            *([self.application_sets] if self.application_sets is not None else []),
            *self.notifications,
        ]
        try:
            # Bound before kopf starts, so that a taken port fails the command instead of kopf's start-up retries.
            self.controller.serve_metrics(
                self.leadership.probes() if self.leadership is not None else process_probes(controllers)
            )
            settings = kopf.OperatorSettings()
            configure_settings(settings)
            # With named namespaces there is nothing to discover; scanning would list Namespaces, which a namespaced
            # install's Role cannot do, and kopf would then hold every watch back through its start-up retries.
            settings.scanning.disabled = bool(self.namespaces)
            operator = kopf.operator(
                registry=self.registry,
                settings=settings,
                standalone=True,
                clusterwide=not self.namespaces,
                namespaces=list(self.namespaces),
                stop_flag=stop_flag,
                ready_flag=ready_flag,
            )
            if self.leadership is None:
                await operator
            else:
                await self.leadership.run(operator, stop=self._stop_controllers)
        finally:
            server, self.controller.metrics_server = self.controller.metrics_server, None
            if server is not None:  # kopf ended before its clean-up handler ran
                server.close()
            if self.informers is not None:
                # Also when kopf was cancelled (leadership lost) before its clean-up handlers ran.
                await self.informers.stop()
                await self.informers.http.aclose()
            self.client.close()
            if self.leadership is not None:
                self.leadership.close()

    async def _stop_controllers(self) -> None:
        await self.controller.stop()
        if self.analysis is not None:
            await self.analysis.stop()
        if self.experiments is not None:
            await self.experiments.stop()
        if self.applications is not None:
            await self.applications.stop()
        if self.application_sets is not None:
            await self.application_sets.stop()
        for notifier in self.notifications:
            await notifier.stop()


def build_operator(
    kubeconfig: str | None,
    context: str | None,
    options: ControllerOptions,
    *,
    decide: Decide | None = None,
    leader_election: LeaderElectionConfig | None = None,
    applications: AppControllerOptions | None = None,
    application_sets: AppSetControllerOptions | None = None,
    notifications: NotificationOptions | None = None,
    shards: int = 1,
) -> RolloutOperator:
    """Load the kubeconfig, check the cluster, and assemble the controller; raises KubeError subclasses.

    With ``leader_election`` the controllers' workers wait until this process holds the Lease, and every write
    request of theirs is fenced by it. With ``applications`` the Application controller (``gitops.controller``)
    runs beside them, in the same metrics registry and under the same Lease; with ``application_sets`` too, the
    ApplicationSet controller runs beside it, reading Git through the Application controller's repository cache
    and refreshed by its push webhook (it is left out without ``applications``). With ``notifications`` the
    notification controllers of Rollouts (and of Applications, with ``applications``) run too.

    With ``shards`` above 1 (and ``leader_election``, whose Lease name, namespace, identity and timing the shards'
    Leases take), the Rollouts are divided into that many shards (``rollouts.controller.shards``): this process
    acts only on those of the shards whose Lease it holds. The Application and notification controllers do not
    shard; they are refused beside ``shards`` above 1 (run them in a process of their own).
    """
    if shards < 1:
        raise ValueError(f"the number of shards must be at least 1, got {shards}")
    if shards > 1 and (leader_election is None or applications is not None or notifications is not None):
        raise ValueError("sharding (shards > 1) needs leader election and runs without the Application and "
                         "notification controllers")
    api_client = _checked_api_client(kubeconfig, context, options.namespaces)
    election = _Election.of(api_client, leader_election, shards) if leader_election is not None else None
    if election is not None:
        options = dataclasses.replace(options, leader_election=True)
    client = KubeClient(api_client, write_guard=election.write_guard if election is not None else None)
    async_client = AsyncKubeClient(client)
    controller = RolloutController(async_client, _rollout_decide(decide, options), options)
    registry = kopf.OperatorRegistry()
    # The controllers observe through plain list+watch streams (one per kind, on the writes' credentials) rather
    # than kopf's per-event machinery; kopf remains the operator's shell: start-up, clean-up, signals.
    informers = Informers(
        async_http_client(api_client.configuration, timeout=REQUEST_TIMEOUT, connect_timeout=WATCH_CONNECT_TIMEOUT),
        options.namespaces,
    )
    # Registered first: kopf runs start-up handlers in order, and each controller's waits for the streams' first
    # lists of its kinds (its cache fills from them).
    register_lifecycle(registry, informers, "informers")
    register_handlers(registry, controller, credentials=lambda: connection_info(api_client.configuration),
                      informers=informers)
    analysis, experiments = _analysis_and_experiments(async_client, controller, registry, informers)
    app_controller, appset_controller = _gitops_controllers(
        client, options, controller, informers, applications, application_sets
    )
    notifiers = _notifiers(async_client, controller, app_controller, registry, informers, notifications)
    # The Application controllers' caches are the streams' first lists: they start once the streams are open.
    if app_controller is not None:
        register_application_handlers(registry, app_controller)
    if appset_controller is not None:
        register_appset_handlers(registry, appset_controller)
    leadership: Leadership | ShardLeadership | None = None
    if election is not None:
        pools: list[WorkerPool] = [controller, *([experiments] if experiments is not None else []),
                                   *([analysis] if analysis is not None else []),
                                   *([app_controller] if app_controller is not None else []),
                                   *([appset_controller] if appset_controller is not None else []),
                                   *notifiers]
        leadership = election.leadership(controller, analysis, experiments, pools)
    return RolloutOperator(controller, registry, async_client, options.namespaces, analysis, experiments,
                           leadership, app_controller, appset_controller, notifiers, informers)


def _checked_api_client(kubeconfig: str | None, context: str | None, namespaces: Sequence[str]) -> ApiClient:
    """The API client of the kubeconfig, once the cluster it names answers and can serve the controller."""
    api_client = load_api_client(kubeconfig, context)  # any unusable kubeconfig is a ConfigError naming it
    probe = KubeClient(api_client, timeout=PROBE_TIMEOUT)
    try:
        check_cluster(probe, namespaces)
    except BaseException:
        probe.close()
        raise
    return api_client


@dataclass(frozen=True)
class _Election:
    """How this process is elected: for one Lease (a ``LeaderElector``) or for a Lease per shard."""

    lease_client: AsyncKubeClient
    """A client of its own, so that renewals never queue behind the workers' requests on their thread pool."""
    elector: LeaderElector | ShardElection

    @classmethod
    def of(cls, api_client: ApiClient, config: LeaderElectionConfig, shards: int) -> _Election:
        """The election ``config`` asks for, for ``shards`` shards (1: the process as a whole)."""
        # The timeout leaves a retry period for one more try after a hung request: long enough that an API server
        # slowed by a burst of lists (a thousand-object start-up) still answers in time.
        lease_client = AsyncKubeClient(
            KubeClient(api_client, timeout=config.renew_deadline - config.retry_period), workers=2
        )
        store = KubeLeaseStore(lease_client)
        if shards > 1:
            return cls(lease_client, ShardElection(shards, store, config))
        return cls(lease_client, LeaderElector(store, config))

    @property
    def write_guard(self) -> Callable[[], None]:
        """What every write request of the controllers is fenced by: the Lease held, or the write's shard held."""
        if isinstance(self.elector, ShardElection):
            return self.elector.check_writes
        return self.elector.check_leading

    def leadership(
        self,
        controller: RolloutController,
        analysis: AnalysisController | None,
        experiments: ExperimentController | None,
        pools: list[WorkerPool],
    ) -> Leadership | ShardLeadership:
        """The workers of ``pools`` run while this process leads (or, sharded, the held shards' work does); the
        election's state is a metric of the Rollout controller's registry."""
        if isinstance(self.elector, ShardElection):
            controller.metrics.registry.register(ShardMetric(self.elector))
            return _shard_leadership(self.elector, self.lease_client, controller, analysis, experiments)
        controller.metrics.registry.register(LeaderMetric(self.elector))
        # The election on a loop of its own, so that no amount of reconciling can delay a renewal.
        return Leadership(self.elector, pools, self.lease_client, election_loop=SideLoop("leader-election"),
                          on_synced=freeze_startup_objects)


def _rollout_decide(decide: Decide | None, options: ControllerOptions) -> Decide:
    """The decision the Rollout controller makes: ``decide``, or the decision core's, as ``options`` adjust it."""
    if decide is None:
        # Imported here so that the CLI's other commands never load the decision core.
        from rollouts.reconcile import decide as default_decide

        decide = default_decide
    if options.promote_on_background_analysis_errors:
        from rollouts.gating.background import promoting_on_background_errors

        decide = promoting_on_background_errors(decide)
    return decide


def _analysis_and_experiments(
    client: AsyncKubeClient, controller: RolloutController, registry: kopf.OperatorRegistry, informers: Informers
) -> tuple[AnalysisController | None, ExperimentController | None]:
    """The AnalysisRun and Experiment controllers of the Rollout controller's process (none with 0 workers), in
    its metrics registry (one port serves them all, as Argo's does), their workers waiting for its Lease."""
    options = controller.options
    analysis = None
    if options.analysis_workers > 0:
        analysis_options = AnalysisOptions.beside(options, workers=options.analysis_workers)
        analysis = AnalysisController(client, analysis_options, registry=controller.metrics.registry)
        register_analysis_handlers(registry, analysis, informers=informers)
    experiments = None
    if options.experiment_workers > 0:
        experiment_options = ExperimentOptions.beside(options, workers=options.experiment_workers)
        experiments = ExperimentController(client, experiment_options, registry=controller.metrics.registry)
        register_experiment_handlers(registry, experiments, informers=informers)
    return analysis, experiments


def _notifiers(
    client: AsyncKubeClient,
    controller: RolloutController,
    app_controller: AppController | None,
    registry: kopf.OperatorRegistry,
    informers: Informers,
    notifications: NotificationOptions | None,
) -> list[NotificationController]:
    """The notification controllers (with ``notifications``) of Rollouts, and of Applications beside the Application
    controller; those whose triggers read Events are handed each Event the Rollout controller stores."""
    if notifications is None:
        return []
    options = controller.options
    notifiers = notification_controllers(
        client,
        dataclasses.replace(notifications, leader_election=options.leader_election,
                            watched_namespaces=options.namespaces),
        app_controller.options.namespace if app_controller is not None else None,
        controller.metrics.registry,
    )
    for notifier in notifiers:
        register_notification_handlers(registry, notifier, informers=informers)
        if notifier.kind.event_keyed:
            hand_over_events(controller.events, notifier)
    return notifiers


def _gitops_controllers(
    client: KubeClient,
    options: ControllerOptions,
    controller: RolloutController,
    informers: Informers,
    applications: AppControllerOptions | None,
    application_sets: AppSetControllerOptions | None,
) -> tuple[AppController | None, AppSetController | None]:
    """The Application controller (with ``applications``) and the ApplicationSet controller beside it (with
    ``application_sets`` too), under the Rollout controller's Lease and in its metrics registry."""
    if applications is None:
        return None, None
    app_options = dataclasses.replace(applications, leader_election=options.leader_election)
    app_controller = AppController(client, app_options, metrics=AppMetrics(controller.metrics.registry),
                                   informers=informers)
    if application_sets is None:
        return app_controller, None
    appset_options = dataclasses.replace(application_sets, leader_election=options.leader_election)
    # One RepoServer: a repository an ApplicationSet's git generator reads is cloned and cached once for both.
    appsets = AppSetController(client, app_controller.repo_server, appset_options, informers=informers)
    app_controller.push_listeners.append(lambda push: appsets.refresh_repositories(push.repo_urls))
    return app_controller, appsets


def _shard_leadership(
    election: ShardElection,
    lease_client: AsyncKubeClient,
    controller: RolloutController,
    analysis: AnalysisController | None,
    experiments: ExperimentController | None,
) -> ShardLeadership:
    """Every controller's work queue under the shards' ownership; the election on a loop of its own."""
    shards = election.shards
    experiment_cache = experiments.experiments if experiments is not None else {}
    queues: list[ShardedQueue[Any]] = [
        _sharded(controller.runner, ShardOwnership(election, rollout_shard(shards)))
    ]
    pools: list[WorkerPool] = [controller]
    if experiments is not None:
        queues.append(_sharded(experiments.runner, ShardOwnership(
            election, owner_shard(shards, experiment_cache.get, experiment_cache))))
        pools.append(experiments)
    if analysis is not None:
        queues.append(_sharded(analysis.runner, ShardOwnership(
            election, owner_shard(shards, analysis.cache.get, experiment_cache))))
        pools.append(analysis)
    return ShardLeadership(election, pools, queues, lease_client, election_loop=SideLoop("shard-election"),
                           on_synced=freeze_startup_objects)


def _sharded(runner: ControllerRunner[K], ownership: ShardOwnership[K]) -> ShardedQueue[K]:
    runner.ownership = ownership
    return ShardedQueue(runner, ownership)


def freeze_startup_objects() -> None:
    """Keep what start-up built (the caches' tens of thousands of objects, kopf's state) out of the garbage
    collector's full collections.

    A full collection holds the interpreter lock — every thread stops, the Lease's own loop too — for as long as it
    takes to scan every tracked object: about a second at two thousand Rollouts on a loaded machine, a large part
    of a renew deadline. Frozen objects are still freed by reference counting when the cache replaces them (plain
    JSON data has no cycles); a cycle among them would outlive the process, and start-up builds none that matter.
    """
    gc.freeze()


def check_cluster(client: KubeClient, namespaces: Sequence[str]) -> None:
    """Raise Unreachable when the API does not answer, StartupError when it cannot serve the controller."""
    scopes: list[str | None] = list(namespaces) or [None]
    for namespace in scopes:
        try:
            client.list_page(ROLLOUTS, namespace)
        except NotFound as error:
            raise StartupError(
                f"the cluster at {client.server} does not serve {ROLLOUTS.plural}.{ROLLOUTS.group}: install the CRDs "
                "first (kubectl apply -k crds/)"
            ) from error
        except ApiError as error:
            where = f"namespace {namespace}" if namespace else "all namespaces"
            raise StartupError(f"cannot list Rollouts in {where} at {client.server}: {error}") from error


class OperatorParts(TypedDict, total=False):
    """What ``build_operator`` assembles beside the Rollout controller, and how (its keyword options, which
    ``run_controller`` passes on)."""

    decide: Decide | None
    leader_election: LeaderElectionConfig | None
    applications: AppControllerOptions | None
    application_sets: AppSetControllerOptions | None
    notifications: NotificationOptions | None
    shards: int


def run_controller(
    kubeconfig: str | None, context: str | None, options: ControllerOptions, **parts: Unpack[OperatorParts]
) -> None:
    """Run the operator ``build_operator`` assembles until interrupted (see ``rollouts controller --help``); raises
    ``LeadershipLost`` once it has lost its Lease."""
    operator = build_operator(kubeconfig, context, options, **parts)
    asyncio.run(with_quiet_watch_closing(operator.run()))


async def with_quiet_watch_closing(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` with kopf's unclean closing of a cancelled watch stream reported as one warning line.

    When leadership is lost, kopf is cancelled mid-watch (its graceful clean-up would act for a leader we no longer
    are); at the loop's shutdown kopf's ``infinite_watch`` generator then fails to close ("generator didn't stop
    after athrow()"), which asyncio logs with a traceback although nothing is left to clean: the process is exiting.
    Every other loop error keeps asyncio's default report.
    """
    loop = asyncio.get_running_loop()

    def report(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        generator = context.get("asyncgen")
        if getattr(generator, "__qualname__", "") == "infinite_watch" and "closing of asynchronous generator" in str(
            context.get("message", "")
        ):
            logger.warning("kopf's cancelled watch stream did not close cleanly at shutdown (%s); nothing is left "
                           "to clean up", context.get("exception"))
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(report)
    await main
