"""`rollouts app diff|manifests`: what Git (or a local working tree) would change in the cluster, and what would be
applied.

Both render the Application's source on this machine exactly as the controller does (the same repo server, the
destination namespace applied to namespaced kinds, the tracking mark set), so what they show is what a sync writes.
``diff`` compares with the live objects read from the cluster and exits as argocd's does: 0 when nothing differs,
1 when something does, 2 on an error. ``--local DIR`` renders a working tree instead of the repository (uncommitted
changes included).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from cli.app_group import AppClusterOptions, AppNameArgument, apps, get_app
from cli.app_view import source_of
from cli.option_groups import with_option_groups
from cli.options import CliError, Cluster
from kube.errors import ApiError, KubeError
from kube.json_data import JsonObject

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "rollouts" / "cli-repositories"
SECRET_TYPE_SELECTOR = "argocd.argoproj.io/secret-type"


def _repository_secrets(cluster: Cluster) -> list[JsonObject]:
    """Argo CD's repository Secrets, when this user may read them (else public access only)."""
    from kube.resources import SECRETS

    try:
        return cluster.client.list(SECRETS, cluster.namespace, label_selector=SECRET_TYPE_SELECTOR)
    except ApiError:
        return []


def rendered_targets(cluster: Cluster, app: JsonObject, *, local: Path | None, revision: str | None) -> tuple[
        list[JsonObject], str]:
    """The Application's manifests as a sync would apply them (placed and tracked), and the revision."""
    from gitops.compare.tracking import with_tracking
    from gitops.controller.api_resources import discover
    from gitops.controller.reconciler import place
    from gitops.render.source import RenderContext, render_source
    from gitops.repo_server import RenderError, RepoServer, SourceError

    name = str(app["metadata"]["name"])
    namespace = str(((app.get("spec") or {}).get("destination") or {}).get("namespace") or "")
    source = source_of(app)
    try:
        if local is not None:
            if not local.is_dir():
                raise CliError(f"--local {local}: not a directory", 2)
            context = RenderContext(app_name=name, namespace=namespace, revision="local")
            _, manifests = render_source(source, local, local, context)
            revision_used = f"local {local}"
        else:
            secrets = _repository_secrets(cluster)
            server = RepoServer(CACHE_DIR, credentials=lambda: secrets)
            generated = server.generate_manifests(source, app_name=name, namespace=namespace, revision=revision)
            manifests, revision_used = generated.manifests, generated.revision
    except (SourceError, RenderError) as error:
        raise CliError(" ".join(str(error).split()), 2) from None
    resources = discover(cluster.client)
    return [with_tracking(place(obj, namespace, resources), name) for obj in manifests], revision_used


def live_objects(cluster: Cluster, app: JsonObject, targets: list[JsonObject]) -> dict[Any, JsonObject]:
    """The live object of each target, and of each resource the Application's status lists (prune candidates)."""
    from gitops.controller.api_resources import discover
    from gitops.resources import ResourceKey

    resources = discover(cluster.client)
    wanted: dict[ResourceKey, str] = {ResourceKey.of(t): str(t.get("apiVersion", "")) for t in targets}
    for entry in (app.get("status") or {}).get("resources") or []:
        group, version = str(entry.get("group") or ""), str(entry.get("version") or "")
        key = ResourceKey(group, str(entry.get("kind") or ""), str(entry.get("namespace") or ""),
                          str(entry.get("name") or ""))
        wanted.setdefault(key, f"{group}/{version}" if group else version)
    found: dict[ResourceKey, JsonObject] = {}
    for key, api_version in wanted.items():
        kind = resources.for_version(api_version, key.kind)
        if kind is None or not key.name:
            continue
        obj = cluster.client.get_or_none(kind, key.namespace or None, key.name)
        if obj is not None:
            found[key] = obj
    return found


@apps.command("diff")
@with_option_groups
def diff_command(
    name: AppNameArgument,
    local: Annotated[Path | None, typer.Option("--local", help="Render this working tree instead of Git.")] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Compare with this revision.")] = None,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Show what differs between Git and the cluster; exit 0 none, 1 some, 2 error."""
    from gitops.compare.comparison import compare_app

    try:
        cluster = cluster_options.connect()
        app = get_app(cluster, name)
        targets, _ = rendered_targets(cluster, app, local=local, revision=revision)
        comparison = compare_app(app, targets, live_objects(cluster, app, targets))
    except CliError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    except KubeError as error:
        typer.echo(f"error: {' '.join(str(error).split())}", err=True)
        raise typer.Exit(2) from None
    differs = False
    for resource in comparison.resources:
        if resource.hook or resource.status != "OutOfSync":
            continue
        differs = True
        key = resource.key
        typer.echo(f"===== {key.group}/{key.kind} {key.namespace}/{key.name} ======")
        if resource.requires_pruning:
            typer.echo("(extraneous: not in Git; a sync with --prune deletes it)")
        elif resource.live is None:
            typer.echo("(missing from the cluster)")
        if resource.diff:
            typer.echo(resource.diff.rstrip())
    raise typer.Exit(1 if differs else 0)


@apps.command("manifests")
@with_option_groups
def manifests_command(
    name: AppNameArgument,
    source: Annotated[str, typer.Option("--source", help="git (what a sync applies) or live.")] = "git",
    revision: Annotated[str | None, typer.Option("--revision", help="Render this revision.")] = None,
    local: Annotated[Path | None, typer.Option("--local", help="Render this working tree instead of Git.")] = None,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Print the manifests a sync would apply (or the live objects), as YAML documents."""
    if source not in ("git", "live"):
        typer.echo(f"error: --source {source!r}: expected git or live", err=True)
        raise typer.Exit(2)
    with cluster_options.connected() as cluster:
        app = get_app(cluster, name)
        targets, _ = rendered_targets(cluster, app, local=local, revision=revision)
        documents = targets if source == "git" else list(live_objects(cluster, app, targets).values())
        typer.echo(yaml.safe_dump_all(documents, sort_keys=False).rstrip())
