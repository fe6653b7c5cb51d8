"""The dashboard's buttons, through the same code as the CLI's commands (``cli/promote.py``, ``cli/abort.py``, …),
with the caller's kubeconfig and nothing more: what the API refuses (403 Forbidden when the kubeconfig's user lacks
the RBAC) comes back as the message, in the API server's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from cli.abort import ABORT_PATCH
from cli.app_group import patch_app
from cli.app_history import request_rollback
from cli.app_operations import current_user, refresh_patch, sync_operation
from cli.app_sync import write_operation
from cli.options import CliError, Cluster, patch_rollout
from cli.promote import promote_rollout
from cli.restart import restart_rollout
from cli.retry import RETRY_PATCH
from cli.set_image import set_container_image
from kube.errors import ApiError, KubeError

if TYPE_CHECKING:
    from kube.client import KubeClient

ROLLOUT_ACTIONS: Final = ("promote", "promote-full", "abort", "retry", "restart", "set-image")
APPLICATION_ACTIONS: Final = ("sync", "refresh", "rollback")
# Who an operation says initiated it (argocd records the API user; ours is the OS user plus where it came from).
USERNAME: Final = f"{current_user()} (dashboard)"


@dataclass(frozen=True)
class ActionRefused(Exception):
    """An action that did not happen: ``status`` is the HTTP status to answer, ``message`` says why."""

    status: int
    message: str

    def __str__(self) -> str:
        return self.message


def _text(params: Mapping[str, Any], field: str) -> str:
    value = params.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ActionRefused(400, f"{field}: required, a non-empty string")
    return value.strip()


def _rollout_action(action: str, params: Mapping[str, Any], now: datetime) -> Callable[[Cluster, str], str]:
    """The CLI code behind one rollout button, its parameters checked first."""

    def patch_status(patch: dict[str, Any], done: str) -> Callable[[Cluster, str], str]:
        def run(cluster: Cluster, name: str) -> str:
            patch_rollout(cluster, name, patch, status=True)
            return f"rollout '{name}' {done}"

        return run

    def restart(cluster: Cluster, name: str) -> str:
        restart_rollout(cluster, name, now)
        return f"rollout '{name}' restarts in 0s"

    if action in ("promote", "promote-full"):
        full = action == "promote-full"
        return lambda cluster, name: promote_rollout(cluster, name, full=full)
    if action == "abort":
        return patch_status(ABORT_PATCH, "aborted")
    if action == "retry":
        return patch_status(RETRY_PATCH, "retried")
    if action == "restart":
        return restart
    if action == "set-image":
        container, image = _text(params, "container"), _text(params, "image")
        if "=" in container or "=" in image:
            raise ActionRefused(400, "container and image must not contain '='")
        return lambda cluster, name: set_container_image(cluster, name, container, image)
    raise ActionRefused(404, f"unknown rollout action {action!r}; one of {', '.join(ROLLOUT_ACTIONS)}")


def _application_action(action: str, params: Mapping[str, Any]) -> Callable[[Cluster, str], str]:
    """The CLI code behind one Application button, its parameters checked first."""
    if action == "sync":
        prune = params.get("prune") is True

        def sync(cluster: Cluster, name: str) -> str:
            write_operation(cluster, name, sync_operation(prune=prune, username=USERNAME))
            return f"application '{name}': sync requested"

        return sync
    if action == "refresh":
        hard = params.get("hard") is True

        def refresh(cluster: Cluster, name: str) -> str:
            patch_app(cluster, name, refresh_patch(hard))
            return f"application '{name}': refresh requested"

        return refresh
    if action == "rollback":
        history_id = params.get("id")
        if history_id is not None and (isinstance(history_id, bool) or not isinstance(history_id, int)):
            raise ActionRefused(400, "id: the history ID, an integer (or absent for the previous deployment)")

        def rollback(cluster: Cluster, name: str) -> str:
            request_rollback(cluster, name, history_id, username=USERNAME)
            return f"application '{name}': rollback requested"

        return rollback
    raise ActionRefused(404, f"unknown application action {action!r}; one of {', '.join(APPLICATION_ACTIONS)}")


def _run(run: Callable[[Cluster, str], str], client: KubeClient, namespace: str, name: str) -> str:
    try:
        return run(Cluster(client, namespace), name)
    except ApiError as error:
        if error.code == 403:
            raise ActionRefused(403, f"forbidden by the cluster's RBAC for your kubeconfig: {error}") from None
        raise ActionRefused(error.code if 400 <= error.code < 600 else 502, str(error)) from None
    except CliError as error:
        raise ActionRefused(409, str(error)) from None
    except KubeError as error:
        raise ActionRefused(502, str(error)) from None


def run_rollout_action(
    client: KubeClient, namespace: str, name: str, action: str, params: Mapping[str, Any], now: datetime
) -> str:
    """Do ``action`` on the rollout as the CLI does; what happened, in the CLI's words. ActionRefused otherwise."""
    return _run(_rollout_action(action, params, now), client, namespace, name)


def run_application_action(
    client: KubeClient, namespace: str, name: str, action: str, params: Mapping[str, Any]
) -> str:
    """Do ``action`` on the Application as `rollouts app` does; ActionRefused when it did not happen."""
    return _run(_application_action(action, params), client, namespace, name)
