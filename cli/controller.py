"""`rollouts controller`: run the Rollout controller and the analysis controller against a cluster until
interrupted."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.main import app

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


@app.command("controller")
def controller_command(
    kubeconfig: Annotated[
        Path | None,
        typer.Option("--kubeconfig", dir_okay=False, help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, "
                     "then the in-cluster service account)."),
    ] = None,
    context: Annotated[str | None, typer.Option("--context", help="Kubeconfig context to use.")] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="Watch only this namespace (repeatable; default: all namespaces)."),
    ] = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Watch every namespace (the default).")
    ] = False,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", min=0, max=65535, help="Serve Prometheus /metrics here; 0 disables.")
    ] = 8090,
    metrics_address: Annotated[
        str, typer.Option("--metrics-address", help="Address the /metrics, /healthz and /readyz server listens "
                          "on (every interface by default, as a pod's probes and scrapes need; 127.0.0.1 for "
                          "this machine only).")
    ] = "0.0.0.0",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Rollouts reconciled concurrently.")] = 10,
    analysis_workers: Annotated[
        int,
        typer.Option("--analysis-workers", min=0, help="AnalysisRuns measured concurrently; 0 runs no analysis "
                     "controller."),
    ] = 30,
    resync: Annotated[
        float,
        typer.Option("--resync-seconds", min=0.0, help="Reconcile every Rollout and AnalysisRun this often even "
                     "without changes; 0 disables."),
    ] = 900.0,
    leader_elect: Annotated[
        bool,
        typer.Option("--leader-elect/--no-leader-elect", help="Elect a leader through a Lease so that replicas can "
                     "run side by side: only the leader acts, a standby takes over when it goes."),
    ] = True,
    leader_election_namespace: Annotated[
        str | None,
        typer.Option("--leader-election-namespace", help="Namespace of the Lease (default: $POD_NAMESPACE, else "
                     "default)."),
    ] = None,
    lease_duration: Annotated[
        str,
        typer.Option("--leader-election-lease-duration", help="How long a standby waits after the leader's last "
                     "renewal before taking over."),
    ] = "8s",
    renew_deadline: Annotated[
        str,
        typer.Option("--leader-election-renew-deadline", help="How long the leader keeps acting when it cannot "
                     "renew the Lease; then it exits. Shorter than the lease duration."),
    ] = "6s",
    retry_period: Annotated[
        str,
        typer.Option("--leader-election-retry-period", help="How often the leader renews and a standby tries."),
    ] = "2s",
    applications: Annotated[
        bool,
        typer.Option("--applications/--no-applications", help="Run the Application controller (Argo CD's "
                     "Applications: Git to the cluster) beside the Rollout and analysis controllers."),
    ] = True,
    app_namespace: Annotated[
        str, typer.Option("--app-namespace", help="Namespace of the Applications and of their repository "
                          "Secrets, argocd-cm and argocd-secret.")
    ] = "argocd",
    application_sets: Annotated[
        bool,
        typer.Option("--applicationsets/--no-applicationsets", help="Run the ApplicationSet controller beside "
                     "the Application controller (in --app-namespace, sharing its Git cache and push webhook); "
                     "never without --applications."),
    ] = True,
    app_resync: Annotated[
        float,
        typer.Option("--app-resync-seconds", min=0.0, help="Refresh every Application from Git this often "
                     "(Argo CD's timeout.reconciliation); 0 refreshes only on webhooks and requests."),
    ] = 180.0,
    app_resync_jitter: Annotated[
        float, typer.Option("--app-resync-jitter-seconds", min=0.0, help="Spread periodic refreshes over up to "
                            "this many extra seconds.")
    ] = 0.0,
    app_workers: Annotated[
        int, typer.Option("--app-workers", min=1, help="Applications reconciled concurrently.")
    ] = 20,
    webhook_port: Annotated[
        int, typer.Option("--webhook-port", min=0, max=65535, help="Serve the Git push webhook at "
                          ":N/api/webhook; 0 disables.")
    ] = 8083,
    webhook_address: Annotated[
        str, typer.Option("--webhook-address", help="Address the push webhook listens on (every interface by "
                          "default; 127.0.0.1 for this machine only).")
    ] = "0.0.0.0",
    application_health: Annotated[
        bool,
        typer.Option("--application-health/--no-application-health", help="Give child Applications a health: "
                     "an App of Apps' sync wave waits until its child Applications are Synced and Healthy (off, "
                     "as in Argo CD, where child Applications have no health check)."),
    ] = False,
    repo_cache: Annotated[
        Path | None, typer.Option("--repo-cache-dir", file_okay=False, help="Where Git repositories are cloned "
                                  "(default: ~/.cache/rollouts/repositories).")
    ] = None,
    promote_on_background_analysis_errors: Annotated[
        bool, typer.Option("--promote-on-background-analysis-errors", help="Argo Rollouts' behaviour: fully promote "
                           "a canary whose background analysis' latest measurements are Errors (by default it waits, "
                           "and aborts at the error limit).")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every watch event and decision.")] = False,
) -> None:
    """Run the Rollout, analysis, Application and ApplicationSet controllers: traffic step by step, AnalysisRuns,
    Git to the cluster, Applications from generators (Ctrl-C stops)."""
    if namespace and all_namespaces:
        typer.echo("rollouts controller: --namespace and --all-namespaces exclude each other", err=True)
        raise typer.Exit(2)
    for flag, address in (("--metrics-address", metrics_address), ("--webhook-address", webhook_address)):
        if not address.strip():
            typer.echo(f"rollouts controller: {flag} must name an address to listen on", err=True)
            raise typer.Exit(2)
    # Checked before kopf and the client are loaded: a mistyped duration should fail at once.
    from kube.durations import parse_duration
    from kube.leader_election import LeaderElectionConfig, LeadershipLost, default_identity, default_namespace

    election: LeaderElectionConfig | None = None
    if leader_elect:
        try:
            election = LeaderElectionConfig(
                namespace=leader_election_namespace or default_namespace(),
                identity=default_identity(),
                lease_duration=parse_duration(lease_duration),
                renew_deadline=parse_duration(renew_deadline),
                retry_period=parse_duration(retry_period),
            )
        except ValueError as error:
            typer.echo(f"rollouts controller: {error}", err=True)
            raise typer.Exit(2) from None
    _configure_logging(verbose)
    # Imported here: kopf and the controller are heavy, and the CLI's other commands do not need them.
    from gitops.controller.application_sets import AppSetControllerOptions
    from gitops.controller.controller import AppControllerOptions
    from kube.errors import KubeError
    from rollouts.controller.run import run_controller

    app_options = AppControllerOptions(
        namespace=app_namespace,
        workers=app_workers,
        poll_seconds=app_resync,
        poll_jitter_seconds=app_resync_jitter,
        webhook_port=webhook_port,
        webhook_address=webhook_address.strip(),
        cache_dir=repo_cache,
        application_health=application_health,
    ) if applications else None
    appset_options = AppSetControllerOptions(namespace=app_namespace) if applications and application_sets else None

    try:
        run_controller(
            str(kubeconfig) if kubeconfig is not None else None,
            context,
            namespace or [],
            all_namespaces,
            metrics_port=metrics_port,
            metrics_address=metrics_address.strip(),
            workers=workers,
            resync_seconds=resync,
            analysis_workers=analysis_workers,
            leader_election=election,
            applications=app_options,
            application_sets=appset_options,
            promote_on_background_analysis_errors=promote_on_background_analysis_errors,
        )
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
