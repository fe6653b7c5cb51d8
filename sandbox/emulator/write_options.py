"""The options of a write request (``dryRun``, ``fieldManager``, ``force``), validated as the API server does.

Upstream validates them as ``CreateOptions``/``UpdateOptions``/``PatchOptions``/``DeleteOptions`` and answers
422 ``Invalid`` naming the option.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.emulator import status
from sandbox.emulator.server_side_apply import MAX_MANAGER_LENGTH, default_manager

_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                 "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}


@dataclass(frozen=True, slots=True)
class WriteOptions:
    dry_run: bool
    manager: str  # who the write is recorded for in managedFields
    force: bool  # apply only: take over conflicting fields


def dry_run_requested(values: Sequence[Any], verb: str) -> bool:
    """Whether ``dryRun`` asks for a dry run; only ``All`` is a valid value."""
    unsupported = [value for value in values if value != "All"]
    if unsupported:
        shown = ", ".join(f'"{value}"' for value in unsupported)
        raise status.invalid_options(_OPTIONS_KIND.get(verb, "CreateOptions"), "dryRun",
                                     f'Unsupported value: []string{{{shown}}}: supported values: "All"',
                                     "FieldValueNotSupported")
    return bool(values)


def write_options(verb: str, params: Mapping[str, str], user_agent: str | None, *, apply: bool) -> WriteOptions:
    """The options of a create, update, patch or delete; ``apply`` for a server-side apply patch."""
    kind = _OPTIONS_KIND.get(verb, "CreateOptions")
    force_param = params.get("force")
    if force_param is not None and not apply:
        raise status.invalid_options(kind, "force", "Forbidden: may not be specified for non-apply patch",
                                     "FieldValueForbidden")
    if force_param not in (None, "true", "false", "1", "0", "True", "False"):
        raise status.bad_request(f"force: invalid boolean value {force_param!r}")
    field_manager = params.get("fieldManager") or ""
    if apply and not field_manager:
        raise status.invalid_options(kind, "fieldManager", "Required value: is required for apply patch",
                                     "FieldValueRequired")
    if len(field_manager) > MAX_MANAGER_LENGTH:
        raise status.invalid_options(kind, "fieldManager",
                                     f"Too long: may not be more than {MAX_MANAGER_LENGTH} bytes",
                                     "FieldValueTooLong")
    if not field_manager.isprintable():
        raise status.invalid_options(kind, "fieldManager",
                                     f"Invalid value: {field_manager!r}: must only contain printable characters",
                                     "FieldValueInvalid")
    dry_run_values = [params["dryRun"]] if "dryRun" in params else []
    return WriteOptions(
        dry_run=dry_run_requested(dry_run_values, verb),
        manager=default_manager(field_manager, user_agent),
        force=force_param in ("true", "1", "True"),
    )
