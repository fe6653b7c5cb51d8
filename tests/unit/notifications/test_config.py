"""The notification ConfigMap as notifications-engine's ``ParseConfig`` reads it."""

from __future__ import annotations

import pytest

from notifications.config import ConfigError, DefaultSubscription, ServiceConfig, TriggerCondition, parse_config


def test_services_are_named_by_their_last_key_part_and_typed_by_the_second() -> None:
    config = parse_config({
        "service.slack": "token: xoxb\n",
        "service.webhook.github": "url: https://api.github.com\n",
    })
    assert config.services == {
        "slack": ServiceConfig("slack", {"token": "xoxb"}),
        "github": ServiceConfig("webhook", {"url": "https://api.github.com"}),
    }


def test_dollar_references_in_service_strings_are_taken_from_the_secret() -> None:
    config = parse_config(
        {"service.webhook.hook": "url: https://example.com/$path\nheaders:\n- name: Authorization\n  value: "
                                 "Bearer $token\n"},
        {"token": "s3cret", "path": "hooks"},
    )
    options = config.services["hook"].options
    assert options["url"] == "https://example.com/hooks"
    assert options["headers"] == [{"name": "Authorization", "value": "Bearer s3cret"}]
    assert set(config.secrets) == {"s3cret", "hooks"}


def test_a_reference_the_secret_lacks_is_left_as_written() -> None:
    config = parse_config({"service.slack": "token: $missing\n"}, {})
    assert config.services["slack"].options["token"] == "$missing"


def test_triggers_templates_default_triggers_subscriptions_and_context() -> None:
    config = parse_config({
        "trigger.on-x": "- when: app.status.sync.status == 'Unknown'\n  send: [t]\n  oncePer: app.metadata.name\n",
        "template.t": "message: hello {{.app.metadata.name}}\n",
        "defaultTriggers": "- on-x\n",
        "defaultTriggers.slack": "- on-y\n",
        "subscriptions": "- recipients: [slack:ops]\n  triggers: [on-x]\n  selector: team=a\n",
        "context": "argocdUrl: https://cd.example.com\n",
    })
    assert config.triggers["on-x"] == (
        TriggerCondition("app.status.sync.status == 'Unknown'", ("t",), "app.metadata.name"),
    )
    assert config.templates["t"] == {"message": "hello {{.app.metadata.name}}"}
    assert config.default_triggers == ("on-x",)
    assert config.service_default_triggers == {"slack": ("on-y",)}
    assert config.subscriptions == (DefaultSubscription(("slack:ops",), ("on-x",), "team=a"),)
    assert config.context == {"argocdUrl": "https://cd.example.com"}


def test_the_configmap_replaces_a_default_entry_of_the_same_key() -> None:
    config = parse_config({"template.t": "message: mine\n"}, defaults={"template.t": "message: built-in\n",
                                                                       "template.u": "message: kept\n"})
    assert config.templates == {"t": {"message": "mine"}, "u": {"message": "kept"}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"service.teams": "{}"}, "key 'service.teams': service type 'teams' is not supported"),
        ({"service.webhook.a.b": "{}"}, "key 'service.webhook.a.b': expected 'service.<type>'"),
        ({"trigger.on-x": "when: x\n"}, "key 'trigger.on-x': expected a list of conditions"),
        ({"trigger.on-x": "- send: t\n"}, "key 'trigger.on-x'[0].send: expected a list of template names"),
        ({"template.t": "- a\n"}, "key 'template.t': expected a map"),
        ({"template.t": "message: [\n"}, "key 'template.t': not valid YAML at line"),
        ({"subscriptions": "- recipients: [a]\n  selector: {a: b}\n"}, "subscriptions'[0].selector: expected a label"),
    ],
)
def test_an_unusable_entry_is_an_error_naming_its_key(data: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(data, source="ConfigMap argo-rollouts/argo-rollouts-notification-configmap")
    assert message in str(raised.value)
    assert "argo-rollouts-notification-configmap" in str(raised.value)
