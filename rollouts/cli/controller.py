"""`rollouts controller`: run the Rollout controller and the analysis controller against a cluster until
interrupted."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from rollouts.cli.main import app

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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every watch event and decision.")] = False,
) -> None:
    """Run the Rollout and analysis controllers: move traffic step by step, measure AnalysisRuns (Ctrl-C stops)."""
    if namespace and all_namespaces:
        typer.echo("rollouts controller: --namespace and --all-namespaces exclude each other", err=True)
        raise typer.Exit(2)
    _configure_logging(verbose)
    # Imported here: kopf and the controller are heavy, and the CLI's other commands do not need them.
    from kube.errors import KubeError
    from rollouts.controller.run import run_controller

    try:
        run_controller(
            str(kubeconfig) if kubeconfig is not None else None,
            context,
            namespace or [],
            all_namespaces,
            metrics_port=metrics_port,
            workers=workers,
            resync_seconds=resync,
            analysis_workers=analysis_workers,
        )
    except (KubeError, OSError) as error:  # OSError: the metrics port is taken, say
        typer.echo(f"rollouts controller: {' '.join(str(error).split())}", err=True)
        raise typer.Exit(1) from None


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT)
    if not verbose:
        # kopf logs a line per handled watch event ("Handler ... succeeded"); the controller logs what it does.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        # The start-up check reports an unreachable server in one line; urllib3's retries would add three more.
        logging.getLogger("urllib3").setLevel(logging.ERROR)
