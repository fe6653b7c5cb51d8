"""`rollouts app create|set`: write an Application from flags (or a file), as argocd's ``app create``/``app set``
do for the common fields: source (repo, path, revision, chart), destination, project, sync policy and options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from cli.app_group import AppClusterOptions, AppNameArgument, apps, get_app
from cli.option_groups import with_option_groups
from cli.options import CliError, reported_errors
from gitops.clusters import LOCAL_SERVER
from kube.errors import Conflict
from kube.json_data import JsonObject
from kube.resources import APPLICATIONS


def apply_flags(app: JsonObject, *, repo: str | None, path: str | None, revision: str | None, chart: str | None,
                dest_server: str | None, dest_namespace: str | None, project: str | None,
                sync_policy: str | None, auto_prune: bool | None, self_heal: bool | None,
                sync_options: list[str] | None) -> JsonObject:
    """``app`` with the given fields set (``None`` leaves a field alone). Pure."""
    spec = app.setdefault("spec", {})
    source = spec.setdefault("source", {})
    for field, value in (("repoURL", repo), ("path", path), ("targetRevision", revision), ("chart", chart)):
        if value is not None:
            source[field] = value
    destination = spec.setdefault("destination", {})
    if dest_server is not None:
        destination["server"] = dest_server
    if dest_namespace is not None:
        destination["namespace"] = dest_namespace
    if project is not None:
        spec["project"] = project
    policy = spec.setdefault("syncPolicy", {})
    if sync_policy is not None:
        if sync_policy in ("none", "manual"):
            policy.pop("automated", None)
        elif sync_policy in ("automated", "auto", "automatic"):
            policy.setdefault("automated", {})
        else:
            raise CliError(f"--sync-policy {sync_policy!r}: expected automated or none", 2)
    if auto_prune is not None or self_heal is not None:
        if "automated" not in policy:
            raise CliError("--auto-prune and --self-heal need --sync-policy automated", 2)
        if auto_prune is not None:
            policy["automated"]["prune"] = auto_prune
        if self_heal is not None:
            policy["automated"]["selfHeal"] = self_heal
    if sync_options:
        options = list(policy.get("syncOptions") or [])
        for option in sync_options:
            name = option.split("=", 1)[0]
            options = [o for o in options if o.split("=", 1)[0] != name] + [option]
        policy["syncOptions"] = options
    if not policy:
        spec.pop("syncPolicy")
    return app


RepoOption = Annotated[str | None, typer.Option("--repo", help="Repository URL.")]
PathOption = Annotated[str | None, typer.Option("--path", help="Path in the repository.")]
RevisionOption = Annotated[str | None, typer.Option("--revision", help="targetRevision (branch, tag, SHA).")]
ChartOption = Annotated[str | None, typer.Option("--helm-chart", help="Chart name (Helm repository source).")]
ServerOption = Annotated[str | None, typer.Option("--dest-server", help="Destination cluster URL.")]
DestNamespaceOption = Annotated[str | None, typer.Option("--dest-namespace", help="Destination namespace.")]
ProjectOption = Annotated[str | None, typer.Option("--project", help="AppProject.")]
PolicyOption = Annotated[str | None, typer.Option("--sync-policy", help="automated or none.")]
PruneOption = Annotated[bool | None, typer.Option("--auto-prune/--no-auto-prune", help="Automated prune.")]
HealOption = Annotated[bool | None, typer.Option("--self-heal/--no-self-heal", help="Automated self-heal.")]
SyncOptionOption = Annotated[list[str] | None, typer.Option("--sync-option", help="e.g. CreateNamespace=true "
                                                            "(repeatable).")]


@apps.command("create")
@with_option_groups
def create_command(
    name: Annotated[str | None, typer.Argument(metavar="APPNAME")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", dir_okay=False, exists=True,
                                              help="An Application manifest.")] = None,
    repo: RepoOption = None, path: PathOption = None, revision: RevisionOption = None, chart: ChartOption = None,
    dest_server: ServerOption = None, dest_namespace: DestNamespaceOption = None, project: ProjectOption = None,
    sync_policy: PolicyOption = None, auto_prune: PruneOption = None, self_heal: HealOption = None,
    sync_option: SyncOptionOption = None,
    upsert: Annotated[bool, typer.Option("--upsert", help="Replace an existing Application.")] = False,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Create an Application."""
    with reported_errors():
        if file is not None:
            try:
                app = yaml.safe_load(file.read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                raise CliError(f"{file}: not YAML: {' '.join(str(error).split())}") from None
            if not isinstance(app, dict) or app.get("kind") != "Application":
                raise CliError(f"{file}: not an Application manifest")
        else:
            if not name:
                raise CliError("an APPNAME (or --file) is required", 2)
            app = {"apiVersion": APPLICATIONS.api_version, "kind": "Application", "metadata": {"name": name},
                   "spec": {"project": "default", "destination": {"server": LOCAL_SERVER}}}
        if name:
            app.setdefault("metadata", {})["name"] = name
        apply_flags(app, repo=repo, path=path, revision=revision, chart=chart, dest_server=dest_server,
                    dest_namespace=dest_namespace, project=project, sync_policy=sync_policy, auto_prune=auto_prune,
                    self_heal=self_heal, sync_options=sync_option)
        if not (app.get("spec") or {}).get("source", {}).get("repoURL"):
            raise CliError("--repo is required", 2)
        cluster = cluster_options.connect()
        app["metadata"]["namespace"] = cluster.namespace
        app_name = str(app["metadata"]["name"])
        try:
            cluster.client.create(APPLICATIONS, cluster.namespace, app)
            typer.echo(f"application '{app_name}' created")
        except Conflict:
            if not upsert:
                raise CliError(f"application '{app_name}' already exists (use --upsert to replace it)") from None
            current = get_app(cluster, app_name)
            app["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
            app.setdefault("status", current.get("status") or {})
            cluster.client.replace(APPLICATIONS, cluster.namespace, app_name, app)
            typer.echo(f"application '{app_name}' updated")


@apps.command("set")
@with_option_groups
def set_command(
    name: AppNameArgument,
    repo: RepoOption = None, path: PathOption = None, revision: RevisionOption = None, chart: ChartOption = None,
    dest_server: ServerOption = None, dest_namespace: DestNamespaceOption = None, project: ProjectOption = None,
    sync_policy: PolicyOption = None, auto_prune: PruneOption = None, self_heal: HealOption = None,
    sync_option: SyncOptionOption = None,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Change an Application's source, destination, project or sync policy."""
    with cluster_options.connected() as cluster:
        app = get_app(cluster, name)
        apply_flags(app, repo=repo, path=path, revision=revision, chart=chart, dest_server=dest_server,
                    dest_namespace=dest_namespace, project=project, sync_policy=sync_policy, auto_prune=auto_prune,
                    self_heal=self_heal, sync_options=sync_option)
        try:
            cluster.client.replace(APPLICATIONS, cluster.namespace, name, app)
        except Conflict:
            raise CliError(f"application '{name}' changed meanwhile; try again") from None
        typer.echo(f"application '{name}' updated")
