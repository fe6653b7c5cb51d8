"""The ``email`` service: SMTP through the standard library on a thread (``host``, ``port``, ``from``, ``username``,
``password``, ``html``, ``insecure_skip_verify``). STARTTLS is used when the server offers it (required when a
username is set); a template's ``email.subject`` and ``email.body`` (the message when absent) make the mail."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from notifications.services.errors import DeliveryError
from notifications.templates import Notification

TIMEOUT_SECONDS = 10.0


def email_message(options: Mapping[str, Any], notification: Notification, recipient: str) -> EmailMessage:
    part = notification.part("email")
    message = EmailMessage()
    message["From"] = str(options.get("from") or "")
    message["To"] = recipient
    message["Subject"] = str(part.get("subject") or "")
    body = str(part.get("body") or notification.message)
    message.set_content(body, subtype="html" if options.get("html") else "plain")
    return message


async def send_email(options: Mapping[str, Any], notification: Notification, recipient: str) -> None:
    if not recipient:
        raise DeliveryError("email: the subscription names no address")
    host = str(options.get("host") or "")
    if not host:
        raise DeliveryError("email: the service has no host")
    message = email_message(options, notification, recipient)
    await asyncio.to_thread(_deliver, options, host, message)


def _deliver(options: Mapping[str, Any], host: str, message: EmailMessage) -> None:
    port = int(options.get("port") or 25)
    username, password = str(options.get("username") or ""), str(options.get("password") or "")
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                context = ssl.create_default_context()
                if options.get("insecure_skip_verify"):
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                smtp.starttls(context=context)
                smtp.ehlo()
            elif username:
                raise DeliveryError(f"email: {host}:{port} does not offer STARTTLS; refusing to send the password")
            if username:
                smtp.login(username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"email: {host}:{port}: {type(error).__name__}: {error}") from None
