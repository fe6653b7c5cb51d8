"""Who wants which trigger: ``notifications.argoproj.io/subscribe.<trigger>.<service>: <recipient>[;<recipient>]``
annotations on the object and the ConfigMap's ``subscriptions``, as notifications-engine reads them.

``subscribe.<trigger>.<service>`` subscribes to one trigger; ``subscribe..<service>`` or ``subscribe.<service>``
(no trigger) to ``defaultTriggers.<service>`` when set, else to ``defaultTriggers``. An empty value is one empty
recipient (a webhook needs none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notifications.config import NotificationConfig

ANNOTATION_PREFIX = "notifications.argoproj.io/subscribe."


@dataclass(frozen=True, order=True)
class Destination:
    """A configured service (by its name) and a recipient in it (a channel, an address, or "" for a webhook)."""

    service: str
    recipient: str

    def __str__(self) -> str:
        return f"{self.service}:{self.recipient}" if self.recipient else self.service


def _recipients(value: str) -> list[str]:
    if value == "":
        return [""]
    return [part.strip() for part in value.split(";") if part.strip()]


def destinations_by_trigger(
    annotations: Mapping[str, str], labels: Mapping[str, str], config: NotificationConfig
) -> dict[str, list[Destination]]:
    """Every trigger the object is subscribed to and its destinations, deduplicated, in a stable order."""
    found: dict[str, set[Destination]] = {}
    for key, value in annotations.items():
        if not key.startswith(ANNOTATION_PREFIX) or not isinstance(value, str):
            continue
        parts = key[len(ANNOTATION_PREFIX):].split(".")
        trigger, service = (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
        if not service:
            continue
        if trigger:
            triggers: tuple[str, ...] = (trigger,)
        else:
            triggers = config.service_default_triggers.get(service, config.default_triggers)
        for recipient in _recipients(value):
            for name in triggers:
                found.setdefault(name, set()).add(Destination(service, recipient))
    for subscription in config.subscriptions:
        if not selector_matches(subscription.selector, labels):
            continue
        for name in subscription.triggers or config.default_triggers:
            for recipient in subscription.recipients:
                service, _, who = recipient.partition(":")
                found.setdefault(name, set()).add(Destination(service, who))
    return {trigger: sorted(destinations) for trigger, destinations in sorted(found.items())}


def selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` match a selector string of ``key=value``, ``key==value``, ``key!=value`` and ``key`` terms
    separated by commas (Kubernetes' field-selector syntax, which Argo's subscriptions use); "" matches everything."""
    for term in (part.strip() for part in selector.split(",")):
        if not term:
            continue
        if "!=" in term:
            key, _, value = term.partition("!=")
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, _, value = term.replace("==", "=").partition("=")
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.strip() not in labels:
            return False
    return True
