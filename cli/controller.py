"""`rollouts controller`: run the Rollout controller and the analysis controller against a cluster until
interrupted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn, get_type_hints

import typer

from cli.main import app
from cli.option_groups import OptionGroup, with_option_groups

if TYPE_CHECKING:
    from gitops.controller.application_sets import AppSetControllerOptions
    from gitops.controller.controller import AppControllerOptions
    from kube.leader_election import LeaderElectionConfig
    from notifications.controller import NotificationOptions

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Where a ``_flag`` field keeps its typer option (in the dataclass field's metadata).
_TYPER_OPTION: Final = "typer_option"

# -- the options, by the part of the process they configure: the command's own, then its option groups --------

KubeconfigPathOption = Annotated[
    Path | None,
    typer.Option("--kubeconfig", dir_okay=False, help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, "
                 "then the in-cluster service account)."),
]
ContextOption = Annotated[str | None, typer.Option("--context", help="Kubeconfig context to use.")]
WatchedNamespacesOption = Annotated[
    list[str] | None,
    typer.Option("--namespace", "-n", help="Watch only this namespace (repeatable; default: all namespaces)."),
]
AllNamespacesOption = Annotated[
    bool, typer.Option("--all-namespaces", "-A", help="Watch every namespace (the default).")
]
MetricsPortOption = Annotated[
    int, typer.Option("--metrics-port", min=0, max=65535, help="Serve Prometheus /metrics here; 0 disables.")
]
MetricsAddressOption = Annotated[
    str, typer.Option("--metrics-address", help="Address the /metrics, /healthz and /readyz server listens on "
                      "(every interface by default, as a pod's probes and scrapes need; 127.0.0.1 for this machine "
                      "only).")
]
ShardsOption = Annotated[
    int,
    typer.Option("--shards", min=1, max=64, help="Divide the Rollouts into this many shards, each with a Lease "
                 "(<lease name>-shard-<i>): every replica acts only on the Rollouts (and their AnalysisRuns and "
                 "Experiments) of the shards it holds, and takes over those of a replica that dies. Run as many "
                 "replicas as shards. Needs leader election, --no-applications and --no-notifications."),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log every watch event and decision.")]
PromoteOnBackgroundErrorsOption = Annotated[
    bool, typer.Option("--promote-on-background-analysis-errors", help="Argo Rollouts' behaviour: fully promote "
                       "a canary whose background analysis' latest measurements are Errors (by default it waits, "
                       "and aborts at the error limit).")
]


def _flag(default: Any, *declarations: str, **settings: Any) -> Any:
    """A field of a ``_FlagGroup``: its default, and its typer option (``typer.Option(*declarations, **settings)``),
    whose type is the field's."""
    return field(default=default, metadata={_TYPER_OPTION: typer.Option(*declarations, **settings)})


class _FlagGroup(OptionGroup):
    """An option group whose fields carry their own typer options (``_flag``), so that each option's name, type,
    default and help stand in one place."""

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        types = get_type_hints(cls)
        return {item.name: Annotated[types[item.name], item.metadata[_TYPER_OPTION]]
                for item in fields(cls)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReconcileFlags(_FlagGroup):
    """How many objects the Rollout, analysis and Experiment controllers reconcile at once, and how often they look
    at every one again (the fields of their ``ControllerOptions``)."""

    workers: int = _flag(10, "--workers", min=1, help="Rollouts reconciled concurrently.")
    analysis_workers: int = _flag(30, "--analysis-workers", min=0, help="AnalysisRuns measured concurrently; 0 runs "
                                  "no analysis controller.")
    experiment_workers: int = _flag(10, "--experiment-workers", min=0, help="Experiments reconciled concurrently; 0 "
                                    "runs no Experiment controller.")
    resync_seconds: float = _flag(900.0, "--resync-seconds", min=0.0, help="Reconcile every Rollout and AnalysisRun "
                                  "this often even without changes; 0 disables.")


@dataclass(frozen=True)
class LeaderElectionFlags(_FlagGroup):
    """Whether and how replicas elect a leader through a Lease."""

    elect: bool = _flag(True, "--leader-elect/--no-leader-elect", help="Elect a leader through a Lease so that "
                        "replicas can run side by side: only the leader acts, a standby takes over when it goes.")
    namespace: str | None = _flag(None, "--leader-election-namespace", help="Namespace of the Lease (default: "
                                  "$POD_NAMESPACE, else default).")
    lease_duration: str = _flag("8s", "--leader-election-lease-duration", help="How long a standby waits after "
                                "the leader's last renewal before taking over.")
    renew_deadline: str = _flag("6s", "--leader-election-renew-deadline", help="How long the leader keeps acting "
                                "when it cannot renew the Lease; then it exits. Shorter than the lease duration.")
    retry_period: str = _flag("2s", "--leader-election-retry-period", help="How often the leader renews and a "
                              "standby tries.")

    def config(self) -> LeaderElectionConfig | None:
        """The election to hold, None without one; a usage error (exit 2) for a duration that is not one."""
        if not self.elect:
            return None
        from kube.durations import parse_duration
        from kube.leader_election import LeaderElectionConfig, default_identity, default_namespace

        try:
            return LeaderElectionConfig(
                namespace=self.namespace or default_namespace(),
                identity=default_identity(),
                lease_duration=parse_duration(self.lease_duration),
                renew_deadline=parse_duration(self.renew_deadline),
                retry_period=parse_duration(self.retry_period),
            )
        except ValueError as error:
            _usage_error(str(error))


@dataclass(frozen=True)
class ApplicationFlags(_FlagGroup):
    """Whether and how the Application and ApplicationSet controllers run beside the Rollout controller."""

    run: bool = _flag(True, "--applications/--no-applications", help="Run the Application controller (Argo CD's "
                      "Applications: Git to the cluster) beside the Rollout and analysis controllers.")
    namespace: str = _flag("argocd", "--app-namespace", help="Namespace of the Applications and of their repository "
                           "Secrets, argocd-cm and argocd-secret.")
    application_sets: bool = _flag(True, "--applicationsets/--no-applicationsets", help="Run the ApplicationSet "
                                   "controller beside the Application controller (in --app-namespace, sharing its Git "
                                   "cache and push webhook); never without --applications.")
    resync: float = _flag(180.0, "--app-resync-seconds", min=0.0, help="Refresh every Application from Git this "
                          "often (Argo CD's timeout.reconciliation); 0 refreshes only on webhooks and requests.")
    resync_jitter: float = _flag(0.0, "--app-resync-jitter-seconds", min=0.0, help="Spread periodic refreshes over "
                                 "up to this many extra seconds.")
    workers: int = _flag(20, "--app-workers", min=1, help="Applications reconciled concurrently.")
    webhook_port: int = _flag(8083, "--webhook-port", min=0, max=65535, help="Serve the Git push webhook at "
                              ":N/api/webhook; 0 disables.")
    webhook_address: str = _flag("0.0.0.0", "--webhook-address", help="Address the push webhook listens on (every "
                                 "interface by default; 127.0.0.1 for this machine only).")
    application_health: bool = _flag(False, "--application-health/--no-application-health", help="Give child "
                                     "Applications a health: an App of Apps' sync wave waits until its child "
                                     "Applications are Synced and Healthy (off, as in Argo CD, where child "
                                     "Applications have no health check).")
    repo_cache: Path | None = _flag(  # noqa: RUF009 (a dataclasses.field, as _flag returns)
        None, "--repo-cache-dir", file_okay=False, help="Where Git repositories are cloned (default: "
        "~/.cache/rollouts/repositories).")

    def controllers(self) -> tuple[AppControllerOptions | None, AppSetControllerOptions | None]:
        """The options of the Application and ApplicationSet controllers, None for one not to run (an ApplicationSet
        controller never runs without the Application controller)."""
        from gitops.controller.application_sets import AppSetControllerOptions
        from gitops.controller.controller import AppControllerOptions

        if not self.run:
            return None, None
        app_options = AppControllerOptions(namespace=self.namespace, workers=self.workers, poll_seconds=self.resync,
                                           poll_jitter_seconds=self.resync_jitter, webhook_port=self.webhook_port,
                                           webhook_address=self.webhook_address.strip(),
                                           cache_dir=self.repo_cache, application_health=self.application_health)
        return app_options, AppSetControllerOptions(namespace=self.namespace) if self.application_sets else None


@dataclass(frozen=True)
class NotificationFlags(_FlagGroup):
    """Whether the notification controllers run, and where the Rollouts' notification configuration lives."""

    send: bool = _flag(True, "--notifications/--no-notifications", help="Send the notifications Rollouts and "
                       "Applications subscribe to (argo-rollouts-notification-configmap, argocd-notifications-cm).")
    namespace: str | None = _flag(None, "--notifications-namespace", help="Namespace of "
                                  "argo-rollouts-notification-configmap and its Secret (default: $POD_NAMESPACE, else "
                                  "default).")

    def options(self) -> NotificationOptions | None:
        """The notification controllers' options, None when they do not run."""
        if not self.send:
            return None
        from kube.leader_election import default_namespace
        from notifications.controller import NotificationOptions

        return NotificationOptions(namespace=self.namespace or default_namespace())


@app.command("controller")
@with_option_groups
def controller_command(
    kubeconfig: KubeconfigPathOption = None,
    context: ContextOption = None,
    namespace: WatchedNamespacesOption = None,
    all_namespaces: AllNamespacesOption = False,
    metrics_port: MetricsPortOption = 8090,
    metrics_address: MetricsAddressOption = "0.0.0.0",
    *,
    reconciling: ReconcileFlags,
    shards: ShardsOption = 1,
    leader_election: LeaderElectionFlags,
    applications: ApplicationFlags,
    promote_on_background_analysis_errors: PromoteOnBackgroundErrorsOption = False,
    notifications: NotificationFlags,
    verbose: VerboseOption = False,
) -> None:
    """Run the Rollout, analysis, Application and ApplicationSet controllers: traffic step by step, AnalysisRuns,
    Git to the cluster, Applications from generators (Ctrl-C stops)."""
    if namespace and all_namespaces:
        _usage_error("--namespace and --all-namespaces exclude each other")
    for flag, address in (("--metrics-address", metrics_address), ("--webhook-address", applications.webhook_address)):
        if not address.strip():
            _usage_error(f"{flag} must name an address to listen on")
    # Checked before kopf and the client are loaded: a mistyped duration should fail at once.
    election = leader_election.config()
    if shards > 1 and election is None:
        _usage_error("--shards needs leader election: the shards are Leases (drop --no-leader-elect)")
    if shards > 1 and applications.run:
        _usage_error("--shards divides the Rollout controllers only: add --no-applications and run the "
                     "Application controllers in a process of their own")
    if shards > 1 and notifications.send:
        _usage_error("--shards divides the Rollout controllers only: add --no-notifications (the notification "
                     "controllers are not sharded yet: each replica would notify about every Rollout)")
    _configure_logging(verbose)
    app_options, appset_options = applications.controllers()
    # Imported here: kopf and the controller are heavy, and the CLI's other commands do not need them.
    from rollouts.controller.controller import ControllerOptions
    from rollouts.controller.run import run_controller

    options = ControllerOptions(
        # No namespace (or --all-namespaces): the whole cluster, as Argo's controller watches it.
        namespaces=tuple(dict.fromkeys(namespace or [])),
        metrics_port=metrics_port,
        metrics_address=metrics_address.strip(),
        promote_on_background_analysis_errors=promote_on_background_analysis_errors,
        workers=reconciling.workers,
        analysis_workers=reconciling.analysis_workers,
        experiment_workers=reconciling.experiment_workers,
        resync_seconds=reconciling.resync_seconds,
    )
    with _failures_reported():
        run_controller(str(kubeconfig) if kubeconfig is not None else None, context, options,
                       leader_election=election, applications=app_options, application_sets=appset_options,
                       notifications=notifications.options(), shards=shards)


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"rollouts controller: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _failures_reported() -> Iterator[None]:
    """A controller that fails to start, or loses its Lease, ends with one line on stderr and exit 1."""
    from kube.errors import KubeError
    from kube.leader_election import LeadershipLost

    try:
        yield
    except (KubeError, OSError) as error:  # OSError: the metrics port is taken, say
        # Losing the Lease ends the process on purpose, as client-go's controllers do: a restart starts clean.
        after = "; exiting, a restart rejoins as a standby" if isinstance(error, LeadershipLost) else ""
        typer.echo(f"rollouts controller: {' '.join(str(error).split())}{after}", err=True)
        raise typer.Exit(1) from None


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT)
    if not verbose:
        # kopf logs a line per handled watch event ("Handler ... succeeded"); the controller logs what it does.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        # The start-up check reports an unreachable server in one line; urllib3's retries would add three more.
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    # Even with -v: httpx logs every request URL, and a metric's URL may carry a secret argument.
    from analysis.providers.outbound import quiet_request_logging

    quiet_request_logging()
