"""The requests `rollouts app` writes into an Application, as argocd's API server writes them: the ``operation``
for a sync, the ``Terminating`` phase for terminate-op, the refresh annotation (a rollback's operation is
``gitops.sync.history.rollback_operation``). Pure; the controller does the work."""

from __future__ import annotations

import getpass
from collections.abc import Sequence

from kube.json_data import JsonObject

REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"


class OperationRefused(ValueError):
    """A request argocd refuses (a rollback while auto-sync is on, an operation already running)."""


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def parse_resource(spec: str) -> JsonObject:
    """``GROUP:KIND:NAME`` or ``GROUP:KIND:NAMESPACE/NAME`` (argocd's --resource), the group empty for the core."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise ValueError(f"--resource {spec!r}: expected GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME "
                         "(GROUP empty for the core group, e.g. :Service:web)")
    group, kind, name = parts
    namespace = ""
    if "/" in name:
        namespace, name = name.split("/", 1)
    resource = {"group": group, "kind": kind, "name": name}
    if namespace:
        resource["namespace"] = namespace
    return resource


def sync_operation(
    *, revision: str = "", prune: bool = False, dry_run: bool = False, force: bool = False,
    resources: Sequence[str] = (), username: str | None = None, sync_options: Sequence[str] = (),
) -> JsonObject:
    """The ``operation`` of ``argocd app sync``."""
    fields: JsonObject = {
        "revision": revision,
        "prune": prune,
        "dryRun": dry_run,
        "syncStrategy": {"apply": {"force": True}} if force else None,
        "resources": [parse_resource(item) for item in resources],
        "syncOptions": list(sync_options),
    }
    # argocd writes only the fields that say something: no empty revision, no false flag, no empty list.
    sync = {field: value for field, value in fields.items() if value}
    return {"sync": sync, "initiatedBy": {"username": username or current_user()}}


def check_no_operation(app: JsonObject) -> None:
    """argocd refuses a new operation while one is in progress."""
    if app.get("operation") or ((app.get("status") or {}).get("operationState") or {}).get("phase") in (
            "Running", "Terminating"):
        raise OperationRefused("another operation is already in progress")


def terminate_patch(app: JsonObject) -> JsonObject:
    """``status.operationState.phase = Terminating``, as argocd's TerminateOperation writes it."""
    state = (app.get("status") or {}).get("operationState") or {}
    if state.get("phase") != "Running" and not app.get("operation"):
        raise OperationRefused("Unable to terminate operation. No operation is in progress")
    return {"status": {"operationState": {"phase": "Terminating"}}}


def refresh_patch(hard: bool) -> JsonObject:
    return {"metadata": {"annotations": {REFRESH_ANNOTATION: "hard" if hard else "normal"}}}
