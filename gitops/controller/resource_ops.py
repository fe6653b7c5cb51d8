"""The sync's writes to the cluster (gitops-engine's ResourceOperations): apply, create, replace, delete, with dry
runs — each answered with kubectl's words (``deployment.apps/web configured``), never an exception.

Apply is client-side by default (``client_apply``: last-applied-configuration + three-way merge patch); with
``ServerSideApply=true`` it is an apply patch as field manager ``argocd-controller`` with conflicts forced, as Argo CD
sends it. ``Replace=true`` replaces (or creates); ``Force=true`` deletes and re-creates an object the API refuses
to patch. A dry run sends the same request with ``dryRun=All``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gitops.controller.api_resources import ApiResources
from gitops.controller.client_apply import apply_patch, with_last_applied
from gitops.resources import ResourceKey
from kube.client import PATCH_CONTENT_TYPES, KubeClient
from kube.errors import ApiError, Conflict, KubeError, NotFound
from kube.json_data import JsonObject
from kube.resources import NAMESPACES, ResourceKind

logger = logging.getLogger(__name__)


FIELD_MANAGER: Final = "argocd-controller"
APPLY_PATCH: Final = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Outcome:
    """What one write did: success or not, kubectl's message, and the object as the API returned it."""

    ok: bool
    message: str
    obj: JsonObject | None = None


def _noun(kind: ResourceKind | None, key: ResourceKey) -> str:
    """``deployment.apps/web``, ``configmap/c``: kubectl's name for an object in its messages."""
    resource = kind.kind.lower() if kind is not None else key.kind.lower()
    group = key.group
    return f"{resource}.{group}/{key.name}" if group else f"{resource}/{key.name}"


@dataclass(frozen=True)
class ResourceOperations:
    """Writes through ``client``; resolves each manifest's type through discovery, re-discovering once when a
    kind is unknown (a CRD created by an earlier wave). ``recorded`` receives every object a write returned."""

    client: KubeClient
    resources: Callable[[], ApiResources]
    rediscover: Callable[[], ApiResources]
    recorded: Callable[[JsonObject], None]
    deleted: Callable[[ResourceKey], None]

    def kind_for(self, api_version: str, kind: str) -> ResourceKind | None:
        found = self.resources().for_version(api_version, kind)
        if found is None:
            found = self.rediscover().for_version(api_version, kind)
        return found

    def apply(
        self, obj: JsonObject, live: JsonObject | None, *, dry_run: bool = False, server_side: bool = False,
        replace: bool = False, force: bool = False, validate: bool = True, field_manager: str = FIELD_MANAGER,
    ) -> Outcome:
        """Make the cluster hold ``obj`` (``live`` is the cached copy, ``None`` when absent)."""
        key = ResourceKey.of(obj)
        kind = self.kind_for(str(obj.get("apiVersion", "")), key.kind)
        if kind is None:
            return Outcome(False, f"the server could not find the requested resource: {key.group_kind} is not "
                                  f"served by this cluster (is its CustomResourceDefinition installed?)")
        noun = _noun(kind, key)
        params = {"dryRun": "All" if dry_run else None,
                  "fieldValidation": "Ignore" if not validate else None}
        suffix = " (dry run)" if dry_run else ""
        namespace = key.namespace or None
        try:
            if server_side:
                body = self.client.request(
                    "PATCH", kind.path(namespace, key.name), json.loads(json.dumps(obj)),
                    params={**params, "fieldManager": field_manager, "force": "true"}, content_type=APPLY_PATCH,
                )
                return self._done(kind.manifest(body), f"{noun} serverside-applied{suffix}", dry_run)
            if live is None:
                try:
                    return self._create(kind, namespace, with_last_applied(obj), noun, params, suffix, dry_run)
                except Conflict:
                    # Created since the cache looked (another pass, a restarted controller): apply over it.
                    live = kind.manifest(self.client.get(kind, namespace, key.name))
            if replace and force:
                return self._recreate(kind, namespace, obj, noun)
            if replace:
                body_to_put = with_last_applied(obj)
                body_to_put.setdefault("metadata", {})["resourceVersion"] = (live.get("metadata") or {}).get(
                    "resourceVersion")
                body = self.client.request("PUT", kind.path(namespace, key.name), body_to_put, params=params)
                return self._done(kind.manifest(body), f"{noun} replaced{suffix}", dry_run)
            patch = apply_patch(obj, live)
            if patch is None:
                return Outcome(True, f"{noun} unchanged{suffix}", live)
            body = self.client.request(
                "PATCH", kind.path(namespace, key.name), patch, params=params,
                content_type=PATCH_CONTENT_TYPES["merge"],
            )
            return self._done(kind.manifest(body), f"{noun} configured{suffix}", dry_run)
        except NotFound as error:
            if live is not None and not server_side:
                # Deleted since the cache saw it: create it instead.
                try:
                    return self._create(kind, namespace, with_last_applied(obj), noun, params, suffix, dry_run)
                except KubeError as again:
                    return Outcome(False, _message(again))
            return Outcome(False, _message(error))
        except ApiError as error:
            if force and not dry_run and live is not None and error.code in (409, 422):
                return self._recreate(kind, namespace, obj, noun)
            return Outcome(False, _message(error))
        except KubeError as error:
            return Outcome(False, _message(error))

    def create(self, obj: JsonObject, *, dry_run: bool = False) -> Outcome:
        """Create ``obj`` (a hook, which is never patched: each run is a new object)."""
        key = ResourceKey.of(obj)
        kind = self.kind_for(str(obj.get("apiVersion", "")), key.kind)
        if kind is None:
            return Outcome(False, f"the server could not find the requested resource: {key.group_kind}")
        params = {"dryRun": "All" if dry_run else None}
        try:
            return self._create(kind, key.namespace or None, obj, _noun(kind, key), params,
                                " (dry run)" if dry_run else "", dry_run)
        except Conflict:
            return Outcome(True, f"{_noun(kind, key)} already exists")
        except KubeError as error:
            return Outcome(False, _message(error))

    def create_namespace(self, namespace: JsonObject) -> Outcome:
        """Create the destination Namespace (CreateNamespace=true) unless it exists."""
        name = str((namespace.get("metadata") or {}).get("name") or "")
        try:
            body = self.client.create(NAMESPACES, None, namespace)
        except Conflict:
            return Outcome(True, f"namespace/{name} unchanged")
        except KubeError as error:
            return Outcome(False, _message(error))
        self.recorded(body)
        return Outcome(True, f"namespace/{name} created", body)

    def delete(self, key: ResourceKey, api_version: str, *, propagation: str | None = None,
               dry_run: bool = False) -> Outcome:
        """Delete the object at ``key``; one already gone counts as deleted."""
        kind = self.kind_for(api_version, key.kind)
        if kind is None:
            return Outcome(True, f"{key.group_kind} {key.name} not served any more; nothing to delete")
        noun = _noun(kind, key)
        # Argo CD spells the sync option lower-case (PrunePropagationPolicy=foreground); the API wants Foreground.
        policy = propagation.capitalize() if propagation else None
        body = {"kind": "DeleteOptions", "apiVersion": "v1", **({"propagationPolicy": policy} if policy else {})}
        try:
            self.client.request("DELETE", kind.path(key.namespace or None, key.name), body,
                                 params={"dryRun": "All" if dry_run else None})
        except NotFound:
            if not dry_run:
                self.deleted(key)
            return Outcome(True, f"{noun} deleted")
        except KubeError as error:
            return Outcome(False, _message(error))
        return Outcome(True, f"{noun} deleted" + (" (dry run)" if dry_run else ""))

    # -- internals ---------------------------------------------------------------------------------------

    def _create(self, kind: ResourceKind, namespace: str | None, body: JsonObject, noun: str,
                params: dict[str, str | None], suffix: str, dry_run: bool) -> Outcome:
        created = self.client.request("POST", kind.path(namespace), kind.manifest(body), params=params)
        created = kind.manifest(created)
        name = str((created.get("metadata") or {}).get("name") or "")
        if "/" in noun and name and not noun.endswith("/" + name):
            noun = noun.rsplit("/", 1)[0] + "/" + name  # generateName
        return self._done(created, f"{noun} created{suffix}", dry_run)

    def _recreate(self, kind: ResourceKind, namespace: str | None, obj: JsonObject, noun: str) -> Outcome:
        key = ResourceKey.of(obj)
        try:
            self.client.delete(kind, namespace, key.name)
        except NotFound:
            pass
        except KubeError as error:
            return Outcome(False, _message(error))
        try:
            created = self.client.create(kind, namespace, with_last_applied(obj))
        except KubeError as error:
            return Outcome(False, _message(error))
        return self._done(created, f"{noun} replaced (forced)", False)

    def _done(self, obj: JsonObject, message: str, dry_run: bool) -> Outcome:
        if not dry_run:
            self.recorded(obj)
        return Outcome(True, message, obj)


def _message(error: Exception) -> str:
    return " ".join(str(error).split())
