"""The notification ConfigMap and Secret, parsed into a :class:`NotificationConfig` (notifications-engine's format).

Keys: ``service.<type>`` or ``service.<type>.<name>`` (YAML options; a ``$key`` in a string is replaced by that key
of the Secret), ``template.<name>`` (YAML: ``message`` and per-service fields), ``trigger.<name>`` (YAML list of
conditions: ``when``, ``send``, ``oncePer``, ``description``), ``defaultTriggers`` and ``defaultTriggers.<service>``
(YAML lists), ``subscriptions`` (YAML list of ``recipients``, ``triggers``, ``selector``) and ``context`` (a YAML map
the templates read as ``.context``). Anything else is ignored, as Argo does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

SUPPORTED_SERVICE_TYPES = frozenset({"webhook", "slack", "email"})

_SECRET_REFERENCE = re.compile(r"\$[\w-]+")


class ConfigError(ValueError):
    """A notification ConfigMap entry that cannot be used; the message names the ConfigMap key and the problem."""


@dataclass(frozen=True)
class TriggerCondition:
    """One condition of a trigger: when it holds, ``send`` names the templates to send."""

    when: str
    send: tuple[str, ...]
    once_per: str = ""
    description: str = ""


@dataclass(frozen=True)
class ServiceConfig:
    """A configured destination service: its type (``webhook``, ``slack``, ``email``) and its options, secrets
    already substituted."""

    type: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class DefaultSubscription:
    """A ``subscriptions`` entry: these recipients (``service:recipient``) get these triggers (all default triggers
    when empty) for objects whose labels match ``selector`` (``key=value`` terms, comma-separated)."""

    recipients: tuple[str, ...]
    triggers: tuple[str, ...] = ()
    selector: str = ""


@dataclass(frozen=True)
class NotificationConfig:
    """Everything one notification ConfigMap (and its Secret) configures."""

    services: Mapping[str, ServiceConfig] = field(default_factory=dict)
    templates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    triggers: Mapping[str, tuple[TriggerCondition, ...]] = field(default_factory=dict)
    subscriptions: tuple[DefaultSubscription, ...] = ()
    default_triggers: tuple[str, ...] = ()
    service_default_triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    """The Secret's values that the services use, for masking in anything logged or recorded."""


def parse_config(
    data: Mapping[str, str],
    secret: Mapping[str, str] | None = None,
    *,
    defaults: Mapping[str, str] | None = None,
    source: str = "ConfigMap",
) -> NotificationConfig:
    """The configuration of ``data`` (a ConfigMap's ``data``) over ``defaults`` (entries a key of ``data`` replaces),
    with ``$key`` references resolved from ``secret`` (decoded values). Raises :class:`ConfigError` naming the key."""
    entries = {**(defaults or {}), **data}
    secret = secret or {}
    services: dict[str, ServiceConfig] = {}
    templates: dict[str, Mapping[str, Any]] = {}
    triggers: dict[str, tuple[TriggerCondition, ...]] = {}
    service_defaults: dict[str, tuple[str, ...]] = {}
    used_secrets: list[str] = []
    for key in sorted(entries):
        text = entries[key]
        where = f"{source} key {key!r}"
        if key.startswith("template."):
            templates[key.removeprefix("template.")] = _mapping(_load(text, where), where)
        elif key.startswith("trigger."):
            triggers[key.removeprefix("trigger.")] = _conditions(_load(text, where), where)
        elif key.startswith("service."):
            parts = key.split(".")
            if len(parts) not in (2, 3) or not all(parts[1:]):
                raise ConfigError(f"{where}: expected 'service.<type>' or 'service.<type>.<name>'")
            service_type, name = parts[1], parts[-1]
            if service_type not in SUPPORTED_SERVICE_TYPES:
                raise ConfigError(
                    f"{where}: service type {service_type!r} is not supported "
                    f"(supported: {', '.join(sorted(SUPPORTED_SERVICE_TYPES))})"
                )
            options = _mapping(_load(text, where), where)
            services[name] = ServiceConfig(service_type, _with_secrets(options, secret, used_secrets))
        elif key.startswith("defaultTriggers."):
            service_defaults[key.removeprefix("defaultTriggers.")] = _names(_load(text, where), where)
    context = _mapping(_load(entries["context"], f"{source} key 'context'"), f"{source} key 'context'") \
        if "context" in entries else {}
    return NotificationConfig(
        services=services,
        templates=templates,
        triggers=triggers,
        subscriptions=_subscriptions(entries.get("subscriptions"), f"{source} key 'subscriptions'"),
        default_triggers=_names(_load(entries["defaultTriggers"], f"{source} key 'defaultTriggers'"),
                                f"{source} key 'defaultTriggers'") if "defaultTriggers" in entries else (),
        service_default_triggers=service_defaults,
        context=context,
        secrets=tuple(dict.fromkeys(value for value in used_secrets if value)),
    )


def _load(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}: not valid YAML{at}") from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ConfigError(f"{where}: expected a map, got {type(value).__name__}")
    return value


def _entries(value: Any, where: str, what: str) -> list[tuple[str, dict[str, Any]]]:
    """Each map of the list ``value`` with where it stands (``where[n]``); anything else names what was expected."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of {what}")
    return [(f"{where}[{number}]", _mapping(item, f"{where}[{number}]")) for number, item in enumerate(value)]


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of names")
    return tuple(value)


def _conditions(value: Any, where: str) -> tuple[TriggerCondition, ...]:
    conditions = []
    for at, item in _entries(value, where, "conditions (- when: ... send: [...])"):
        send = item.get("send") or []
        if not isinstance(send, list) or not all(isinstance(name, str) for name in send):
            raise ConfigError(f"{at}.send: expected a list of template names")
        for name in ("when", "oncePer", "description"):
            if name in item and item[name] is not None and not isinstance(item[name], str):
                raise ConfigError(f"{at}.{name}: expected a string")
        conditions.append(
            TriggerCondition(
                when=str(item.get("when") or ""),
                send=tuple(send),
                once_per=str(item.get("oncePer") or ""),
                description=str(item.get("description") or ""),
            )
        )
    return tuple(conditions)


def _subscriptions(text: str | None, where: str) -> tuple[DefaultSubscription, ...]:
    if text is None:
        return ()
    value = _load(text, where)
    if value is None:
        return ()
    result = []
    for at, item in _entries(value, where, "subscriptions"):
        selector = item.get("selector") or ""
        if not isinstance(selector, str):
            raise ConfigError(f"{at}.selector: expected a label selector string such as 'team=payments'")
        result.append(
            DefaultSubscription(
                recipients=_names(item.get("recipients"), f"{at}.recipients"),
                triggers=_names(item.get("triggers"), f"{at}.triggers"),
                selector=selector,
            )
        )
    return tuple(result)


def _with_secrets(value: Any, secret: Mapping[str, str], used: list[str]) -> Any:
    """``value`` with every ``$key`` in its strings replaced by the Secret's ``key`` (left as it is when the Secret
    has no such key, as Argo does)."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            found = secret.get(match.group(0)[1:])
            if found is None:
                return match.group(0)
            used.append(found)
            return found

        return _SECRET_REFERENCE.sub(replace, value)
    if isinstance(value, dict):
        return {key: _with_secrets(item, secret, used) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_secrets(item, secret, used) for item in value]
    return value
