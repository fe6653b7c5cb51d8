"""The ``slack`` service. With ``token`` (Argo's way) it posts ``chat.postMessage`` to ``apiURL``
(``https://slack.com/api/`` by default) with the recipient as the channel; with ``url`` it posts the same JSON to a
Slack incoming webhook. ``username`` and ``icon`` (an emoji or an image URL) are optional; a template's
``slack.attachments`` and ``slack.blocks`` are JSON text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from notifications.services.errors import DeliveryError
from notifications.templates import Notification

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 10.0


def slack_payload(options: Mapping[str, Any], notification: Notification, channel: str) -> dict[str, Any]:
    """The message's JSON: text, channel, and the template's attachments and blocks parsed."""
    payload: dict[str, Any] = {"text": notification.message}
    if channel:
        payload["channel"] = channel
    part = notification.part("slack")
    for name in ("attachments", "blocks"):
        text = part.get(name)
        if isinstance(text, str) and text.strip():
            try:
                payload[name] = json.loads(text)
            except ValueError as error:
                raise DeliveryError(f"slack: the template's {name} is not JSON: {error}") from None
    if options.get("username"):
        payload["username"] = str(options["username"])
    icon = str(options.get("icon") or "")
    if icon:
        payload["icon_url" if icon.startswith(("http://", "https://")) else "icon_emoji"] = icon
    return payload


async def send_slack(
    options: Mapping[str, Any], notification: Notification, channel: str, http: httpx.AsyncClient
) -> None:
    payload = slack_payload(options, notification, channel)
    token = options.get("token")
    if token:
        url = str(options.get("apiURL") or DEFAULT_API_URL).rstrip("/") + "/chat.postMessage"
        headers = {"Authorization": f"Bearer {token}"}
    elif options.get("url"):
        url, headers = str(options["url"]), {}
    else:
        raise DeliveryError("slack: the service needs a token (chat.postMessage) or a url (incoming webhook)")
    response = await http.post(url, json=payload, headers=headers, timeout=TIMEOUT_SECONDS)
    if not 200 <= response.status_code <= 299:
        raise DeliveryError(f"slack: {url} answered {response.status_code}: {response.text[:200]}")
    if token:
        try:
            answer = response.json()
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise DeliveryError(f"slack: chat.postMessage refused the message: {answer.get('error')}")
