"""`rollouts app sync|wait|terminate-op`.

``sync`` writes the ``operation`` argocd's API server would write, then (unless ``--async``) follows the
controller's progress in ``status.operationState``: each resource's result as it is recorded, then the operation's
phase and message; the exit status is non-zero when the operation does not succeed (or ``--timeout`` passes).
``wait`` waits for Synced, Healthy and no operation in progress (or only those asked for). ``terminate-op`` asks the
controller to stop the running operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from cli.app_group import AppClusterOptions, AppNameArgument, apps, get_app, patch_app
from cli.app_operations import OperationRefused, check_no_operation, sync_operation, terminate_patch
from cli.app_view import SYNC_RESULT_HEADERS, operation_lines, table
from cli.option_groups import with_option_groups
from cli.options import CliError, Cluster, reported_errors
from cli.polling import Polling
from kube.errors import Conflict
from kube.json_data import JsonObject
from kube.resources import APPLICATIONS


def write_operation(cluster: Cluster, name: str, operation: JsonObject) -> JsonObject:
    """Write ``operation`` unless another is in progress (checked against the version read: a race is refused)."""
    app = get_app(cluster, name)
    try:
        check_no_operation(app)
    except OperationRefused as error:
        raise CliError(str(error)) from None
    patch = {"metadata": {"resourceVersion": app["metadata"].get("resourceVersion")}, "operation": operation}
    try:
        return cluster.client.patch(APPLICATIONS, cluster.namespace, name, patch)
    except Conflict:
        raise CliError(f"application '{name}' changed while the operation was written; try again") from None


def follow_operation(cluster: Cluster, name: str, timeout: float, echo: Callable[[str], None]) -> JsonObject:
    """Print each sync result as the controller records it; the final operationState once ``operation`` is
    cleared (the controller's mark of a finished operation)."""
    polling = Polling(timeout)
    printed: dict[tuple[str, ...], str] = {}
    header_shown = False
    while True:
        app = get_app(cluster, name)
        state = (app.get("status") or {}).get("operationState") or {}
        started = (bool(state) and state.get("operation") == app.get("operation")) or not app.get("operation")
        if started:
            for result in (state.get("syncResult") or {}).get("resources") or []:
                key = tuple(str(result.get(f) or "") for f in ("group", "kind", "namespace", "name", "syncPhase",
                                                                 "hookType"))
                line = table(SYNC_RESULT_HEADERS, [[*key[:4], str(result.get("hookPhase") or result.get("status")
                                                                  or ""), "", key[5],
                                                    str(result.get("message") or "")]]).splitlines()
                if printed.get(key) != line[1]:
                    if not header_shown:
                        echo(line[0])
                        header_shown = True
                    echo(line[1])
                    printed[key] = line[1]
        if not app.get("operation") and state.get("phase") in ("Succeeded", "Failed", "Error"):
            return dict(state)
        polling.wait(f"timed out ({timeout:g}s) waiting for the operation of application '{name}' to complete")


def report_operation(cluster: Cluster, name: str, timeout: float) -> None:
    """Follow the operation just written to its end, print how it went, and fail unless it Succeeded."""
    state = follow_operation(cluster, name, timeout, typer.echo)
    typer.echo("")
    for line in operation_lines(state):
        typer.echo(line)
    if state.get("phase") != "Succeeded":
        raise CliError(f"Operation has completed with phase: {state.get('phase')}")


@apps.command("sync")
@with_option_groups
def sync_command(
    name: AppNameArgument,
    prune: Annotated[bool, typer.Option("--prune", help="Delete resources no longer in Git.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only dry-run every write.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Delete and re-create resources the API refuses to patch."
                                        )] = False,
    resource: Annotated[list[str] | None, typer.Option("--resource", help="Sync only GROUP:KIND:NAME "
                                                       "(repeatable).")] = None,
    revision: Annotated[str, typer.Option("--revision", help="Sync to this revision instead of the target.")] = "",
    async_: Annotated[bool, typer.Option("--async", help="Do not wait for the operation.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.0, help="Seconds to wait; 0 waits forever.")] = 0.0,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Sync an Application to its target state in Git."""
    with reported_errors():
        try:
            operation = sync_operation(revision=revision, prune=prune, dry_run=dry_run, force=force,
                                       resources=resource or [])
        except ValueError as error:
            raise CliError(str(error), 2) from None
        cluster = cluster_options.connect()
        write_operation(cluster, name, operation)
        if async_:
            typer.echo(f"application '{name}': sync requested")
            return
        report_operation(cluster, name, timeout)


def wait_conditions(app: JsonObject, *, sync: bool, health: bool, operation: bool) -> list[str]:
    """What the Application is still not (empty when every asked-for condition holds)."""
    status = app.get("status") or {}
    missing = []
    if sync and (status.get("sync") or {}).get("status") != "Synced":
        missing.append(f"sync status {(status.get('sync') or {}).get('status') or 'Unknown'}")
    if health and (status.get("health") or {}).get("status") != "Healthy":
        missing.append(f"health {(status.get('health') or {}).get('status') or 'Unknown'}")
    if operation and (app.get("operation") or (status.get("operationState") or {}).get("phase") in (
            "Running", "Terminating")):
        missing.append("an operation in progress")
    return missing


@apps.command("wait")
@with_option_groups
def wait_command(
    names: Annotated[list[str], typer.Argument(metavar="APPNAME...")],
    sync: Annotated[bool, typer.Option("--sync", help="Wait for Synced.")] = False,
    health: Annotated[bool, typer.Option("--health", help="Wait for Healthy.")] = False,
    operation: Annotated[bool, typer.Option("--operation", help="Wait for no operation in progress.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.0, help="Seconds to wait; 0 waits forever.")] = 0.0,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Wait for Applications to be synced, healthy and idle (all three unless some are named)."""
    if not (sync or health or operation):
        sync = health = operation = True
    with cluster_options.connected() as cluster:
        polling = Polling(timeout)
        pending = list(names)
        while pending:
            still = []
            for name in pending:
                missing = wait_conditions(get_app(cluster, name), sync=sync, health=health, operation=operation)
                if missing:
                    still.append((name, missing))
                else:
                    typer.echo(f"application '{name}' is ready")
            if not still:
                return
            detail = "; ".join(f"{name}: {', '.join(missing)}" for name, missing in still)
            polling.wait(f"timed out ({timeout:g}s) waiting for app: {detail}")
            pending = [name for name, _ in still]


@apps.command("terminate-op")
@with_option_groups
def terminate_command(
    name: AppNameArgument,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Terminate the running sync operation."""
    with cluster_options.connected() as cluster:
        try:
            patch = terminate_patch(get_app(cluster, name))
        except OperationRefused as error:
            raise CliError(str(error)) from None
        patch_app(cluster, name, patch)
        typer.echo(f"Application '{name}' operation terminating")
