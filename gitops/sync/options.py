"""Sync options: the operation's (or the Application's) ``syncOptions`` and the per-resource annotation.

Argo CD reads options as ``Key=value`` strings. App-level options apply to every task; the options marked † in
Argo's docs may also be set per resource with ``argocd.argoproj.io/sync-options: A=x,B=y``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from gitops.resources import JsonObject
from gitops.sync.annotations import SYNC_OPTIONS, annotation_csv

SERVER_SIDE_APPLY_MANAGER = "argocd-controller"
PROPAGATION_POLICIES = ("foreground", "background", "orphan")


def option_map(options: Iterable[str]) -> dict[str, str]:
    """``["A=x", "B=y"]`` → ``{"A": "x", "B": "y"}`` (the last one wins; items without ``=`` are ignored)."""
    parsed: dict[str, str] = {}
    for option in options:
        key, sep, value = str(option).partition("=")
        if sep:
            parsed[key.strip()] = value.strip()
    return parsed


def resource_options(obj: JsonObject | None) -> dict[str, str]:
    """The per-resource options in the ``argocd.argoproj.io/sync-options`` annotation."""
    return option_map(annotation_csv(obj, SYNC_OPTIONS)) if obj else {}


def has_option(options: dict[str, str], key: str, value: str) -> bool:
    """Whether ``key=value`` is set (values compare case-insensitively, as Argo's option parsing does)."""
    return options.get(key, "").lower() == value.lower()


# The metadata key of a SyncOptions field that holds the name of the Argo CD option that sets it.
_OPTION = "option"


def _flag(option: str, *, default: bool = False) -> bool:
    """A boolean field set by the sync option ``option`` (its value is the default unless the option says the
    opposite)."""
    return field(default=default, metadata={_OPTION: option})


@dataclass(frozen=True)
class SyncOptions:
    """The operation-wide options that shape the plan."""

    create_namespace: bool = _flag("CreateNamespace")
    apply_out_of_sync_only: bool = _flag("ApplyOutOfSyncOnly")
    server_side_apply: bool = _flag("ServerSideApply")
    replace: bool = _flag("Replace")
    validate: bool = _flag("Validate", default=True)
    skip_dry_run_on_missing_resource: bool = _flag("SkipDryRunOnMissingResource")
    respect_ignore_differences: bool = _flag("RespectIgnoreDifferences")
    fail_on_shared_resource: bool = _flag("FailOnSharedResource")
    prune_last: bool = _flag("PruneLast")
    propagation_policy: str = "foreground"

    @classmethod
    def parse(cls, options: Iterable[str]) -> SyncOptions:
        """Operation-wide options from ``Key=value`` strings; an unknown propagation policy keeps foreground."""
        o = option_map(options)
        values: dict[str, Any] = {}
        for flag in fields(cls):
            if _OPTION in flag.metadata:
                # Only the value opposite to the default counts ("Validate=false", "CreateNamespace=true").
                flipped = has_option(o, flag.metadata[_OPTION], "false" if flag.default else "true")
                values[flag.name] = not flag.default if flipped else flag.default
        policy = o.get("PrunePropagationPolicy", "foreground").lower()
        return cls(**values, propagation_policy=policy if policy in PROPAGATION_POLICIES else "foreground")


@dataclass(frozen=True)
class TaskOptions:
    """How one object is written: the operation's options combined with its own annotation."""

    server_side: bool
    replace: bool
    force: bool
    validate: bool
    prune_disabled: bool
    prune_last: bool
    prune_confirm: bool
    skip_dry_run: bool


def task_options(obj: JsonObject | None, options: SyncOptions, *, force: bool) -> TaskOptions:
    """Combine operation-wide options, the operation's ``force`` and the object's own annotation."""
    own = resource_options(obj)
    replace = options.replace or has_option(own, "Replace", "true")
    server_side = (options.server_side_apply or has_option(own, "ServerSideApply", "true")) and not has_option(
        own, "ServerSideApply", "false"
    )
    return TaskOptions(
        # Replace wins over server-side apply, as gitops-engine checks it first.
        server_side=server_side and not replace,
        replace=replace,
        force=force or has_option(own, "Force", "true"),
        validate=options.validate and not has_option(own, "Validate", "false"),
        prune_disabled=has_option(own, "Prune", "false"),
        prune_last=options.prune_last or has_option(own, "PruneLast", "true"),
        prune_confirm=has_option(own, "Prune", "confirm"),
        skip_dry_run=options.skip_dry_run_on_missing_resource or has_option(own, "SkipDryRunOnMissingResource", "true"),
    )


def deletion_allowed(obj: JsonObject) -> bool:
    """``Delete=false`` keeps an object when its Application is deleted (for the controller's cascade)."""
    return not has_option(resource_options(obj), "Delete", "false")
