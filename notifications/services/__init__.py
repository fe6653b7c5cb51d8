"""The destination services: ``webhook``, ``slack`` and ``email``, each an async ``send`` that raises
:class:`DeliveryError` (its message free of secrets) when the destination did not take the notification."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from analysis.providers.base import mask
from notifications.config import ServiceConfig
from notifications.services.errors import DeliveryError
from notifications.services.mail import send_email
from notifications.services.slack import send_slack
from notifications.services.webhook import send_webhook
from notifications.subscriptions import Destination
from notifications.templates import Notification

__all__ = ["DeliveryError", "send"]


async def send(
    name: str,
    service: ServiceConfig,
    notification: Notification,
    destination: Destination,
    http: httpx.AsyncClient,
    secrets: Sequence[str] = (),
) -> None:
    """Deliver ``notification`` through the service configured as ``name``; a failure is a DeliveryError whose
    message has every value of ``secrets`` masked."""
    try:
        if service.type == "webhook":
            await send_webhook(name, service.options, notification, http)
        elif service.type == "slack":
            await send_slack(service.options, notification, destination.recipient, http)
        elif service.type == "email":
            await send_email(service.options, notification, destination.recipient)
        else:  # parse_config refuses other types
            raise DeliveryError(f"service type {service.type!r} is not supported")
    except DeliveryError as error:
        raise DeliveryError(mask(str(error), secrets)) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise DeliveryError(mask(f"{service.type} {name}: {type(error).__name__}: {error}", secrets)) from None
