"""`rollouts undo NAME [--to-revision N]`: put back the pod template of an earlier revision.

As Argo's plugin: the revision's ReplicaSet (one the rollout controls, found by the rollout's selector) supplies
its ``spec.template``, minus the ``rollouts-pod-template-hash`` label, and a JSON patch replaces the rollout's
``spec.template`` with it (the referenced Deployment's, for a rollout with a ``workloadRef``). The default is the
previous revision, i.e. the second newest. Nothing is sent when the template already matches.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import CliError, Cluster, get_rollout, label_selector
from cli.tree import HASH_LABEL, REVISION_ANNOTATION
from kube.errors import NotFound
from kube.resources import DEPLOYMENTS, REPLICASETS, ROLLOUTS

if TYPE_CHECKING:
    from kube.json_data import JsonObject


def _revision(replicaset: JsonObject) -> int | None:
    value = ((replicaset.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def controlled_by(obj: JsonObject, owner: JsonObject) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    references = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("controller") and ref.get("uid") == uid for ref in references)


def pick_revision(rollout: JsonObject, replicasets: list[JsonObject], to_revision: int) -> tuple[int, JsonObject]:
    """The ReplicaSet of ``to_revision``, or of the previous revision for 0; CliError when there is none."""
    name = rollout["metadata"]["name"]
    by_revision = {}
    for replicaset in replicasets:
        revision = _revision(replicaset)
        if revision is not None and controlled_by(replicaset, rollout):
            by_revision[revision] = replicaset
    if to_revision:
        if to_revision not in by_revision:
            known = ", ".join(str(r) for r in sorted(by_revision)) or "none"
            raise CliError(f'revision {to_revision} of rollout "{name}" not found (its revisions: {known})')
        return to_revision, by_revision[to_revision]
    revisions = sorted(by_revision, reverse=True)
    if len(revisions) < 2:
        raise CliError(f'rollout "{name}" has no previous revision to undo to')
    return revisions[1], by_revision[revisions[1]]


def without_hash_label(template: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(template)
    labels = (stripped.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return stripped


def derives(wanted: Any, actual: Any) -> bool:
    """Whether ``actual`` matches ``wanted`` where ``wanted`` says anything: unset or empty parts match all."""
    if wanted is None or wanted in ("", {}, []):
        return True
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(derives(value, actual.get(key)) for key, value in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(actual, list) and len(wanted) == len(actual)
            and all(derives(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    return bool(wanted == actual)


@app.command("undo")
@with_option_groups
def undo_command(
    name: Annotated[str, typer.Argument(metavar="ROLLOUT_NAME", help="Name of the rollout.", show_default=False)],
    to_revision: Annotated[
        int, typer.Option("--to-revision", min=0, help="The revision to roll back to (default: the previous one).")
    ] = 0,
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Roll a rollout back to the pod template of an earlier revision."""
    with cluster_options.connected() as cluster:
        rollout = get_rollout(cluster, name)
        selector = label_selector((rollout.get("spec") or {}).get("selector"))
        replicasets = cluster.client.list(REPLICASETS, cluster.namespace, label_selector=selector)
        revision, replicaset = pick_revision(rollout, replicasets, to_revision)
        template = without_hash_label((replicaset.get("spec") or {}).get("template") or {})
        target_kind, target_name, current = _target(cluster, rollout)
        if derives(without_hash_label(current), template):
            typer.echo(f"skipped rollback (current template already matches revision {revision})")
            return
        patch = [{"op": "replace", "path": "/spec/template", "value": template}]
        cluster.client.patch(target_kind, cluster.namespace, target_name, patch, patch_type="json")
        typer.echo(f"rollout '{name}' undo (to revision {revision})")


def _target(cluster: Cluster, rollout: JsonObject) -> tuple[Any, str, dict[str, Any]]:
    """Where the pod template lives: the rollout, or the Deployment its workloadRef names."""
    workload = (rollout.get("spec") or {}).get("workloadRef")
    if not workload:
        return ROLLOUTS, rollout["metadata"]["name"], (rollout.get("spec") or {}).get("template") or {}
    if workload.get("kind") != "Deployment":
        raise CliError(f"cannot undo a rollout whose workloadRef is a {workload.get('kind')}; only Deployments are")
    deployment_name = str(workload.get("name", ""))
    try:
        deployment = cluster.client.get(DEPLOYMENTS, cluster.namespace, deployment_name)
    except NotFound:
        raise CliError(f'deployment "{deployment_name}" referenced by rollout "{rollout["metadata"]["name"]}" '
                       "not found") from None
    return DEPLOYMENTS, deployment_name, (deployment.get("spec") or {}).get("template") or {}
