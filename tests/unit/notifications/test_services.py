"""The services' requests (notifications-engine's ``webhook``, ``slack`` and ``email``), through httpx's mock
transport: what is sent where, and that a refused delivery is an error without the service's secrets."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from notifications import services
from notifications.config import parse_config
from notifications.services import DeliveryError
from notifications.services.mail import email_message
from notifications.subscriptions import Destination
from notifications.templates import Notification, render_notification

Seen = list[httpx.Request]


def client(seen: Seen, status: int = 200, body: str = "") -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def deliver(data: dict[str, str], secret: dict[str, str], name: str, notification: Notification,
            destination: Destination, http: httpx.AsyncClient) -> None:
    config = parse_config(data, secret)
    asyncio.run(services.send(name, config.services[name], notification, destination, http, config.secrets))


def test_a_webhook_without_a_template_part_gets_the_message_by_get() -> None:
    seen: Seen = []
    deliver({"service.webhook.hook": "url: http://receiver.local/in\n"}, {}, "hook", Notification("hello"),
            Destination("hook", ""), client(seen))
    (request,) = seen
    assert (request.method, str(request.url), request.content) == ("GET", "http://receiver.local/in", b"hello")


def test_a_template_webhook_part_sets_method_path_and_body_and_the_service_its_headers_and_basic_auth() -> None:
    seen: Seen = []
    notification = Notification("ignored", {"webhook": {"hook": {"method": "POST", "path": "/status/abc",
                                                                 "body": '{"state": "ok"}'}}})
    deliver({"service.webhook.hook": "url: http://receiver.local/api/\nheaders:\n- name: X-Token\n  value: $token\n"
             "basicAuth:\n  username: bot\n  password: $password\n"},
            {"token": "t0ken", "password": "pa55"}, "hook", notification, Destination("hook", ""), client(seen))
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "http://receiver.local/api/status/abc")
    assert json.loads(request.content) == {"state": "ok"}
    assert request.headers["X-Token"] == "t0ken"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"bot:pa55").decode()


def test_a_refused_webhook_is_a_delivery_error_with_the_secret_masked() -> None:
    seen: Seen = []
    with pytest.raises(DeliveryError) as raised:
        deliver({"service.webhook.hook": "url: http://receiver.local/$token\n"}, {"token": "t0ken"}, "hook",
                Notification("m"), Destination("hook", ""), client(seen, 503, "no t0ken for you"))
    assert "503" in str(raised.value)
    assert "t0ken" not in str(raised.value)


def test_slack_with_a_token_posts_chat_post_message_to_the_recipient_channel() -> None:
    seen: Seen = []
    notification = Notification("done", {"slack": {"attachments": '[{"title": "demo"}]'}})
    deliver({"service.slack": "token: $slack-token\napiURL: http://slack.local/api/\nusername: argo\n"
             "icon: ':robot_face:'\n"}, {"slack-token": "xoxb-1"}, "slack", notification,
            Destination("slack", "deploys"), client(seen, 200, '{"ok": true}'))
    (request,) = seen
    assert str(request.url) == "http://slack.local/api/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-1"
    assert json.loads(request.content) == {"text": "done", "channel": "deploys", "attachments": [{"title": "demo"}],
                                           "username": "argo", "icon_emoji": ":robot_face:"}


def test_slack_refusing_the_message_is_a_delivery_error() -> None:
    seen: Seen = []
    with pytest.raises(DeliveryError, match="channel_not_found"):
        deliver({"service.slack": "token: xoxb\napiURL: http://slack.local/api\n"}, {}, "slack", Notification("m"),
                Destination("slack", "nowhere"), client(seen, 200, '{"ok": false, "error": "channel_not_found"}'))


def test_slack_with_a_url_posts_to_the_incoming_webhook() -> None:
    seen: Seen = []
    deliver({"service.slack": "url: http://hooks.local/T1/B2\n"}, {}, "slack", Notification("m"),
            Destination("slack", ""), client(seen))
    (request,) = seen
    assert str(request.url) == "http://hooks.local/T1/B2" and json.loads(request.content) == {"text": "m"}


def test_an_email_takes_subject_and_body_from_the_template_and_the_message_otherwise() -> None:
    with_body = email_message({"from": "cd@example.com"}, Notification("m", {"email": {"subject": "S", "body": "B"}}),
                              "me@example.com")
    assert (with_body["From"], with_body["To"], with_body["Subject"]) == ("cd@example.com", "me@example.com", "S")
    assert with_body.get_content().strip() == "B"
    plain = email_message({}, Notification("the message"), "me@example.com")
    assert plain.get_content().strip() == "the message"


def test_templates_render_with_the_service_type() -> None:
    templates = {"t": {"message": "{{if eq .serviceType \"slack\"}}:ok: {{end}}{{.app.metadata.name}}"}}
    variables = {"app": {"metadata": {"name": "guestbook"}}}
    assert render_notification(templates, ("t",), variables, "slack").message == ":ok: guestbook"
    assert render_notification(templates, ("t",), variables, "webhook").message == "guestbook"


def test_an_unusable_url_is_a_delivery_error_without_the_secret() -> None:
    with pytest.raises(DeliveryError) as raised:
        deliver({"service.webhook.hook": "url: 'http://host:$token/'\n"}, {"token": "t0ken"}, "hook",
                Notification("m"), Destination("hook", ""), client([]))
    assert "t0ken" not in str(raised.value)
