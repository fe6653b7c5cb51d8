"""A run's arguments as values: ``value`` as written, ``valueFrom.secretKeyRef`` read from a Secret in the run's
namespace (and remembered, so that every message can mask it), anything else an error.

``valueFrom.fieldRef`` and ``podTemplateHashValue`` are resolved by whoever creates the run (a Rollout writes the
value into the run's args); on a run they mean the creator did not, and the run cannot be measured.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kube.resources import SECRETS

if TYPE_CHECKING:
    from kube.client import AsyncKubeClient

SECRET_STAND_IN = "*****"
"""What a secret argument reads as where its value is not needed: deciding when to measure."""


class ArgumentError(Exception):
    """An argument the run cannot get a value for; the run ends in Error with this message."""


@dataclass(frozen=True)
class ResolvedArguments:
    """Every argument's value, and the values that came from Secrets (to mask wherever text is written)."""

    values: dict[str, str]
    secrets: tuple[str, ...] = ()


def _secret_ref(argument: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value_from = argument.get("valueFrom")
    if isinstance(value_from, Mapping):
        reference = value_from.get("secretKeyRef")
        if isinstance(reference, Mapping):
            return reference
    return None


def unresolved_argument_problem(arguments: Iterable[Mapping[str, Any]]) -> str | None:
    """Why some argument has no value source a run can use (neither ``value`` nor ``secretKeyRef``), or None."""
    for argument in arguments:
        if argument.get("value") is not None or _secret_ref(argument) is not None:
            continue
        name = argument.get("name", "")
        value_from = argument.get("valueFrom")
        sources = sorted(value_from) if isinstance(value_from, Mapping) else []
        if sources:
            return (
                f"args.{name} was not resolved: valueFrom.{sources[0]} is resolved by whoever creates the run "
                "(a Rollout writes the value), and this run still carries the reference"
            )
        return f"args.{name} was not resolved: it has no value"
    return None


def values_without_secrets(arguments: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Argument values for deciding when to measure, with :data:`SECRET_STAND_IN` for secrets (not read here)."""
    values: dict[str, str] = {}
    for argument in arguments:
        name = str(argument.get("name", ""))
        if argument.get("value") is not None:
            values[name] = str(argument["value"])
        elif _secret_ref(argument) is not None:
            values[name] = SECRET_STAND_IN
    return values


async def resolve_run_arguments(run: Mapping[str, Any], kube: AsyncKubeClient | None) -> ResolvedArguments:
    """Every argument of the run as a value, reading Secrets from the run's namespace (each Secret once).

    Raises :class:`ArgumentError` for a Secret or key that does not exist, for a secret argument when there is no
    client to read it with, and for an argument without a usable source. Errors reaching the API (unreachable,
    forbidden) propagate: the pass fails and is retried, rather than failing the run over a blip.
    """
    arguments = [arg for arg in (run.get("spec") or {}).get("args") or [] if isinstance(arg, Mapping)]
    problem = unresolved_argument_problem(arguments)
    if problem is not None:
        raise ArgumentError(problem)
    namespace = (run.get("metadata") or {}).get("namespace")
    fetched: dict[str, Mapping[str, Any] | None] = {}
    values: dict[str, str] = {}
    secrets: list[str] = []
    for argument in arguments:
        name = str(argument.get("name", ""))
        reference = _secret_ref(argument)
        if reference is None:
            values[name] = str(argument["value"])
            continue
        secret_name, key = str(reference.get("name", "")), str(reference.get("key", ""))
        if kube is None:
            raise ArgumentError(f'args.{name}: reading secret "{secret_name}" needs a Kubernetes client')
        if secret_name not in fetched:
            fetched[secret_name] = await kube.get_or_none(SECRETS, namespace, secret_name)
        secret = fetched[secret_name]
        if secret is None:
            raise ArgumentError(f'args.{name}: secret "{secret_name}" not found in namespace "{namespace}"')
        value = _secret_value(secret, secret_name, key, argument=name)
        values[name] = value
        if value and value not in secrets:
            secrets.append(value)
    return ResolvedArguments(values, tuple(secrets))


def _secret_value(secret: Mapping[str, Any], secret_name: str, key: str, *, argument: str) -> str:
    """The decoded value of the key an argument reads; ArgumentError naming the argument when the Secret has no
    such key or its value is not base64."""
    data = secret.get("data") or {}
    if key in data:
        try:
            return base64.b64decode(str(data[key]), validate=True).decode("utf-8", errors="replace")
        except binascii.Error as error:
            message = f"args.{argument}: key '{key}' of secret '{secret_name}' is not valid base64"
            raise ArgumentError(message) from error
    # The API server folds stringData into data on write; a store that does not (an emulator, a fixture) still
    # means the same Secret.
    string_data = secret.get("stringData") or {}
    if key not in string_data:
        raise ArgumentError(f"args.{argument}: key '{key}' does not exist in secret '{secret_name}'")
    return str(string_data[key])
