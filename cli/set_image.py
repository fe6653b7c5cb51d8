"""`rollouts set image NAME CONTAINER=IMAGE`: change a container's image, which starts a new revision.

The change is a JSON patch that tests each container's name at its index before replacing its image, so a
concurrent edit that reorders containers is refused rather than patched blindly (the command then re-reads the
rollout and tries again, as Argo's plugin retries conflicts). ``*=IMAGE`` sets every container. Init and
ephemeral containers match by name too. A rollout with a ``workloadRef`` gets its Deployment patched instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import CliError, Cluster, get_rollout
from kube.errors import ApiError, NotFound
from kube.resources import DEPLOYMENTS, ROLLOUTS, ResourceKind

if TYPE_CHECKING:
    from kube.json_data import JsonObject

CONTAINER_LISTS: Final = ("initContainers", "containers", "ephemeralContainers")
ALL_CONTAINERS: Final = "*"
MAX_ATTEMPTS: Final = 5

set_app = typer.Typer(name="set", help="Update a rollout's fields.", no_args_is_help=True)
app.add_typer(set_app)


def image_patch(template_spec: dict[str, Any], container: str, image: str, *, base: str) -> list[JsonObject]:
    """JSON patch operations setting ``image`` on the named container (every one for ``*``); [] when none match."""
    operations: list[JsonObject] = []
    for list_name in CONTAINER_LISTS:
        for index, entry in enumerate(template_spec.get(list_name) or []):
            entry_name = (entry or {}).get("name")
            if container in (ALL_CONTAINERS, entry_name):
                path = f"{base}/{list_name}/{index}"
                operations.append({"op": "test", "path": f"{path}/name", "value": entry_name})
                operations.append({"op": "replace" if "image" in entry else "add", "path": f"{path}/image",
                                   "value": image})
    return operations


def container_names(template_spec: dict[str, Any]) -> str:
    """The containers a name could have matched, for the error message."""
    parts = []
    for list_name, label in zip(CONTAINER_LISTS, ("init: ", "", "ephemeral: "), strict=True):
        names = [str((entry or {}).get("name", "")) for entry in template_spec.get(list_name) or []]
        if names:
            parts.append(label + ", ".join(names))
    return "; ".join(parts) or "none"


def _target(cluster: Cluster, rollout: JsonObject) -> tuple[ResourceKind, JsonObject]:
    """The object whose pod template holds the containers: the rollout, or the Deployment it references."""
    workload = (rollout.get("spec") or {}).get("workloadRef")
    if not workload:
        return ROLLOUTS, rollout
    if workload.get("kind") != "Deployment":
        raise CliError(f"cannot set the image of a {workload.get('kind')} workloadRef; only Deployments are supported")
    try:
        return DEPLOYMENTS, cluster.client.get(DEPLOYMENTS, cluster.namespace, str(workload.get("name", "")))
    except NotFound:
        raise CliError(
            f'deployment "{workload.get("name")}" referenced by rollout "{rollout["metadata"]["name"]}" not found'
        ) from None


@set_app.command("image")
@with_option_groups
def image_command(
    name: Annotated[str, typer.Argument(metavar="ROLLOUT_NAME", help="Name of the rollout.", show_default=False)],
    assignment: Annotated[
        str,
        typer.Argument(metavar="CONTAINER=IMAGE", help="Container name ('*' for all) and its new image.",
                       show_default=False),
    ],
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Update the image of a rollout's container."""
    container, separator, image = assignment.partition("=")
    if not separator or not container or not image or "=" in image:
        raise typer.BadParameter(f"expected CONTAINER=IMAGE, got {assignment!r}", param_hint="CONTAINER=IMAGE")
    with cluster_options.connected() as cluster:
        typer.echo(set_container_image(cluster, name, container, image))


def set_container_image(cluster: Cluster, name: str, container: str, image: str) -> str:
    """Set ``image`` on the rollout's container named ``container`` (every one for ``*``), retrying a concurrent
    edit; what was updated, in the command's words. A CliError when the container (or the Deployment) is missing."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        rollout = get_rollout(cluster, name)
        kind, target = _target(cluster, rollout)
        template_spec = ((target.get("spec") or {}).get("template") or {}).get("spec") or {}
        operations = image_patch(template_spec, container, image, base="/spec/template/spec")
        if not operations:
            raise CliError(
                f'container "{container}" not found in {kind.kind.lower()} "{target["metadata"]["name"]}" '
                f"(its containers: {container_names(template_spec)})"
            )
        try:
            cluster.client.patch(kind, cluster.namespace, target["metadata"]["name"], operations, patch_type="json")
        except ApiError as error:
            # 422: a `test` failed because the containers changed since we read them; 409: a conflict.
            if error.code in (409, 422) and attempt < MAX_ATTEMPTS:
                continue
            raise
        return f'{kind.kind.lower()} "{target["metadata"]["name"]}" image updated'
    raise CliError(f'rollout "{name}" kept changing; its image was not updated')  # the loop always returns first
