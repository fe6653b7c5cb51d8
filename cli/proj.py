"""`rollouts proj windows list PROJECT`: an AppProject's sync windows, which are active now, and whether syncs may run.

The table has the columns of `argocd proj windows list` (ID STATUS KIND SCHEDULE DURATION APPLICATIONS NAMESPACES
CLUSTERS MANUALSYNC TIMEZONE); below it, whether an automated and a manual sync may start now — for every
Application of the project, or for one named with ``--app``, since windows apply by application, namespace and
cluster. Projects live in Argo CD's namespace (``-n``, default ``argocd``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.main import app
from cli.options import CliError, ContextOption, KubeconfigOption, connect, reported_errors
from cli.tree import COLUMN_GAP
from gitops.project.sync_windows import SyncWindow, can_sync, matching_windows, project_windows
from kube.errors import NotFound
from kube.resources import APP_PROJECTS, APPLICATIONS

HEADERS = ("ID", "STATUS", "KIND", "SCHEDULE", "DURATION", "APPLICATIONS", "NAMESPACES", "CLUSTERS", "MANUALSYNC",
           "TIMEZONE")
ARGOCD_NAMESPACE = "argocd"

proj_app = typer.Typer(name="proj", help="Inspect Argo CD AppProjects.", no_args_is_help=True)
windows_app = typer.Typer(name="windows", help="An AppProject's sync windows.", no_args_is_help=True)
proj_app.add_typer(windows_app)
app.add_typer(proj_app)


def _listed(values: Sequence[str]) -> str:
    return ",".join(values) if values else "-"


def window_rows(windows: Sequence[SyncWindow], now: datetime) -> list[list[str]]:
    """One row per window, as `argocd proj windows list` prints them; a window that cannot be read says why."""
    rows: list[list[str]] = []
    for number, window in enumerate(windows):
        problem = window.problem()
        status = f"Invalid: {problem}" if problem else ("Active" if window.active_at(now) else "Inactive")
        rows.append([
            str(number), status, window.kind or "-", window.schedule or "-", window.duration or "-",
            _listed(window.applications), _listed(window.namespaces), _listed(window.clusters),
            "Enabled" if window.manual_sync else "Disabled", window.time_zone or "UTC",
        ])
    return rows


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    table = [list(HEADERS), *rows]
    widths = [max(len(row[i]) for row in table) + COLUMN_GAP for i in range(len(HEADERS) - 1)]
    return ["".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + row[-1] for row in table]


def verdict(windows: Sequence[SyncWindow], now: datetime) -> str:
    """Whether automated and manual syncs may start now under these windows."""
    def word(allowed: bool) -> str:
        return "allowed" if allowed else "blocked by sync window"

    return f"automated sync: {word(can_sync(windows, now, manual=False))}; manual sync: " \
           f"{word(can_sync(windows, now, manual=True))}"


def application_verdicts(project: str, windows: Sequence[SyncWindow], applications: Sequence[Mapping[str, Any]],
                         now: datetime) -> list[str]:
    """One line per Application of the project: the windows that apply to it and what they allow now."""
    lines: list[str] = []
    for application in applications:
        spec = application.get("spec") or {}
        if (spec.get("project") or "default") != project:
            continue
        destination = spec.get("destination") or {}
        name = str((application.get("metadata") or {}).get("name", ""))
        applying = matching_windows(windows, app_name=name, namespace=str(destination.get("namespace") or ""),
                                    server=str(destination.get("server") or ""),
                                    destination_name=str(destination.get("name") or ""))
        ids = ",".join(str(windows.index(window)) for window in applying) or "none"
        lines.append(f"{name} (windows {ids}): {verdict(applying, now)}")
    return lines


@windows_app.command("list")
def list_windows(
    project: Annotated[str, typer.Argument(help="The AppProject's name.")],
    application: Annotated[
        str | None, typer.Option("--app", help="Say what the windows allow for this Application only.")
    ] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Argo CD's namespace.")] = ARGOCD_NAMESPACE,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """List a project's sync windows and whether its Applications may sync now."""
    with reported_errors():
        cluster = connect(namespace, kubeconfig, context)
        try:
            found = cluster.client.get(APP_PROJECTS, cluster.namespace, project)
        except NotFound:
            raise CliError(f'AppProject "{project}" not found in namespace "{cluster.namespace}"') from None
        now = datetime.now(UTC)
        windows = project_windows(found)
        if not windows:
            typer.echo(f"project '{project}' has no sync windows: syncs may run at any time")
            return
        for line in _table(window_rows(windows, now)):
            typer.echo(line.rstrip())
        applications = cluster.client.list(APPLICATIONS, cluster.namespace)
        if application is not None:
            applications = [app for app in applications if (app.get("metadata") or {}).get("name") == application]
            if not applications:
                raise CliError(f'Application "{application}" not found in namespace "{cluster.namespace}"')
        typer.echo("")
        for line in application_verdicts(project, windows, applications, now) or [
            f"no Application uses project '{project}'"
        ]:
            typer.echo(line)
