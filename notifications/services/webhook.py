"""The ``webhook`` service (notifications-engine's options): ``url``, ``headers`` (``- name: … value: …``) and
``basicAuth`` (``username``, ``password``); a template's ``webhook.<service name>`` gives ``method`` (GET by
default, as in Argo), ``path`` (joined to the URL) and ``body`` (the message when absent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from notifications.services.errors import DeliveryError
from notifications.templates import Notification

TIMEOUT_SECONDS = 10.0
_SHOWN_RESPONSE = 200


async def send_webhook(
    name: str, options: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient
) -> None:
    url = options.get("url")
    if not isinstance(url, str) or not url:
        raise DeliveryError(f"webhook {name}: the service has no url")
    part = notification.part("webhook").get(name)
    method, body = "GET", notification.message
    if isinstance(part, Mapping):
        method = str(part.get("method") or method).upper()
        body = str(part.get("body") if part.get("body") is not None else "")
        path = str(part.get("path") or "")
        if path:
            url = url.rstrip("/") + "/" + path.lstrip("/")
    headers = {
        str(header.get("name")): str(header.get("value") or "")
        for header in options.get("headers") or []
        if isinstance(header, Mapping) and header.get("name")
    }
    auth = None
    basic = options.get("basicAuth")
    if isinstance(basic, Mapping):
        auth = httpx.BasicAuth(str(basic.get("username") or ""), str(basic.get("password") or ""))
    response = await http.request(method, url, content=body.encode(), headers=headers, auth=auth,
                                  timeout=TIMEOUT_SECONDS)
    if not 200 <= response.status_code <= 299:
        raise DeliveryError(
            f"webhook {name}: {method} {response.request.url.copy_with(query=None)} answered "
            f"{response.status_code}: {response.text[:_SHOWN_RESPONSE]}"
        )
