"""Label and field selector parsing and matching."""

from __future__ import annotations

import pytest

from sandbox.emulator.selectors import (
    SelectorError,
    format_label_selector,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "frontend", "replicas": "3"}


@pytest.mark.parametrize(("selector", "expected"), [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=api", False),
    ("app!=api", True),
    ("app!=web", False),
    ("missing!=x", True),
    ("app in (web,api)", True),
    ("app in (api, worker)", False),
    ("app notin (api,worker)", True),
    ("app notin (web)", False),
    ("missing notin (x)", True),
    ("missing in (x)", False),
    ("tier", True),
    ("missing", False),
    ("!missing", True),
    ("!tier", False),
    ("app=web,tier=frontend", True),
    ("app=web,tier=backend", False),
    ("app in (web,api),tier,!missing", True),
    ("replicas>2", True),
    ("replicas<2", False),
    ("  app = web , tier  ", True),
    ("app=", False),
])
def test_label_selector_operators(selector: str, expected: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is expected


def test_label_selector_empty_value_matches_empty_label() -> None:
    assert parse_label_selector("flag=").matches({"flag": ""})


def test_label_selector_matches_objects_without_labels() -> None:
    assert parse_label_selector("!app").matches_object({"metadata": {}})
    assert not parse_label_selector("app").matches_object({"metadata": {"labels": None}})


@pytest.mark.parametrize("selector", ["app in (web", "app=web)", "=web", "a b", "app in web", "x>y", ","])
def test_label_selector_refuses_malformed_syntax(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_format_label_selector_renders_match_labels_and_expressions() -> None:
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "team", "operator": "NotIn", "values": ["x"]},
            {"key": "canary", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    text = format_label_selector(selector)
    assert text == "a=1,b=2,env in (dev,prod),team notin (x),canary,!legacy"
    parsed = parse_label_selector(text)
    assert parsed.matches({"a": "1", "b": "2", "env": "dev", "canary": ""})
    assert not parsed.matches({"a": "1", "b": "2", "env": "dev", "canary": "", "legacy": "y"})


OBJECT = {"metadata": {"name": "web-1", "namespace": "prod"}, "status": {"phase": "Running"}, "spec": {"ok": True}}


@pytest.mark.parametrize(("selector", "expected"), [
    ("metadata.name=web-1", True),
    ("metadata.name==web-1", True),
    ("metadata.name!=web-1", False),
    ("metadata.namespace=prod", True),
    ("metadata.namespace!=prod", False),
    ("metadata.name=web-1,metadata.namespace=dev", False),
    ("status.phase=Running", True),
    ("spec.ok=true", True),
    ("spec.missing=", True),
])
def test_field_selector_matching(selector: str, expected: bool) -> None:
    assert parse_field_selector(selector).matches(OBJECT) is expected


def test_field_selector_exact_reports_pinned_values() -> None:
    selector = parse_field_selector("metadata.name=a,metadata.namespace!=b")
    assert selector.exact("metadata.name") == "a"
    assert selector.exact("metadata.namespace") is None


def test_field_selector_unescapes_values() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b")
    assert selector.matches({"metadata": {"name": "a,b"}})


@pytest.mark.parametrize("selector", ["metadata.name", "=x", "metadata.name~x"])
def test_field_selector_refuses_malformed_syntax(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_field_selector(selector)
