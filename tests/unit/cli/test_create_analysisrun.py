"""`create analysisrun`'s run builder, without a cluster: arguments, merged templates, copied metadata."""

from __future__ import annotations

from typing import Any

import pytest

from cli.create import TemplateRef, analysis_run_from_template, parse_argument_flags
from cli.options import CliError

WEB = {"web": {"url": "http://metrics.example/{{args.service}}"}}


def template(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name},
            "spec": spec}


def metric(name: str) -> dict[str, Any]:
    return {"name": name, "successCondition": "result == 'ok'", "provider": WEB}


def build(top: dict[str, Any], others: dict[TemplateRef, dict[str, Any]] | None = None,
          arguments: dict[str, str] | None = None, **options: Any) -> dict[str, Any]:
    def lookup(ref: TemplateRef) -> dict[str, Any]:
        if ref not in (others or {}):
            raise CliError(f"{ref.noun} not found")
        return (others or {})[ref]

    return analysis_run_from_template(top, TemplateRef(top["metadata"]["name"], False), namespace="shop",
                                      arguments=arguments or {}, lookup=lookup, **options)


def test_a_value_may_contain_equals_signs() -> None:
    assert parse_argument_flags(["query=a=b", "empty="]) == {"query": "a=b", "empty": ""}


def test_secret_arguments_are_kept_and_may_be_overridden() -> None:
    top = template("t", args=[{"name": "service", "value": "cart"},
                              {"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
                   metrics=[metric("m")])
    assert build(top)["spec"]["args"] == top["spec"]["args"]
    assert build(top, arguments={"token": "literal"})["spec"]["args"][1] == {"name": "token", "value": "literal"}


def test_arguments_only_a_rollout_resolves_must_be_given() -> None:
    top = template("t", args=[{"name": "service", "value": "cart"},
                              {"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
                   metrics=[metric("m")])
    with pytest.raises(CliError) as raised:
        build(top)
    assert str(raised.value) == ('missing value for argument of analysistemplate "t": hash (give each with --arg '
                                 "NAME=VALUE); only a Rollout resolves hash (valueFrom.podTemplateHashValue)")
    assert build(top, arguments={"hash": "5d8f9c7b6"})["spec"]["args"][1] == {"name": "hash", "value": "5d8f9c7b6"}


def test_a_template_without_arguments_takes_none() -> None:
    with pytest.raises(CliError, match=r'unknown argument x for analysistemplate "t" \(it takes no arguments\)'):
        build(template("t", metrics=[{"name": "m", "provider": {"web": {"url": "http://x"}}}]), arguments={"x": "1"})


def test_listed_templates_are_merged_once_each_even_in_a_cycle() -> None:
    a = template("a", args=[{"name": "service"}], metrics=[metric("ma")], templates=[{"templateName": "b"}],
                 dryRun=[{"metricName": "mb"}])
    b = template("b", args=[{"name": "service", "value": "cart"}], metrics=[metric("mb")],
                 templates=[{"templateName": "a"}, {"templateName": "c", "clusterScope": True}])
    c = template("c", metrics=[metric("mc")], measurementRetention=[{"metricName": "mc", "limit": 3}])
    run = build(a, {TemplateRef("b", False): b, TemplateRef("a", False): a, TemplateRef("c", True): c})
    assert [m["name"] for m in run["spec"]["metrics"]] == ["ma", "mb", "mc"]
    # A declared value beats a declaration without one, as Argo merges them.
    assert run["spec"]["args"] == [{"name": "service", "value": "cart"}]
    assert run["spec"]["dryRun"] == [{"metricName": "mb"}]
    assert run["spec"]["measurementRetention"] == [{"metricName": "mc", "limit": 3}]


@pytest.mark.parametrize(("b_spec", "message"), [
    ({"metrics": [metric("m")]}, 'metric "m" is defined by more than one of the templates'),
    ({"args": [{"name": "service", "value": "orders"}], "metrics": [metric("n")]},
     "argument \"service\" is declared with different values ('cart' and 'orders')"),
])
def test_conflicting_templates_are_refused(b_spec: dict[str, Any], message: str) -> None:
    a = template("a", args=[{"name": "service", "value": "cart"}], metrics=[metric("m")],
                 templates=[{"templateName": "b"}])
    with pytest.raises(CliError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(a, {TemplateRef("b", False): template("b", **b_spec)})


def test_a_missing_listed_template_is_named() -> None:
    a = template("a", metrics=[metric("m")], args=[{"name": "service", "value": "x"}],
                 templates=[{"templateName": "gone", "clusterScope": True}])
    with pytest.raises(CliError, match='clusteranalysistemplate "gone" not found'):
        build(a)


def test_metadata_that_manages_the_template_is_not_copied() -> None:
    top = template("t", args=[{"name": "service", "value": "x"}], metrics=[metric("m")])
    top["metadata"].update(
        labels={"team": "shop", "app.kubernetes.io/instance": "shop-analysis"},
        annotations={"owner": "sre", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                     "argocd.argoproj.io/tracking-id": "shop:argoproj.io/AnalysisTemplate:shop/t"},
        uid="template-uid", resourceVersion="42", creationTimestamp="2024-01-01T00:00:00Z",
    )
    run = build(top, name="manual", instance_id="blue")
    assert run["metadata"] == {
        "name": "manual", "namespace": "shop",
        "labels": {"team": "shop", "argo-rollouts.argoproj.io/controller-instance-id": "blue"},
        "annotations": {"owner": "sre"},
    }
    assert run["kind"] == "AnalysisRun"
