"""How an Application's helm fields compose the values of a render (Argo CD's `helm template` arguments: value
files in order, then values or valuesObject, then --set parameters)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.render.errors import RenderError
from gitops.render.helm_values import compose_values, merge_values, set_argument


def files(contents: dict[str, str]) -> Any:
    return lambda position, name: contents.get(name)


def test_later_value_files_override_earlier_ones_key_by_key() -> None:
    values = compose_values(
        {"valueFiles": ["values.yaml", "prod.yaml"]},
        files({"values.yaml": "image: {repo: a, tag: v1}\nreplicas: 1\n", "prod.yaml": "image: {tag: v2}\n"}),
    )
    assert values == {"image": {"repo": "a", "tag": "v2"}, "replicas": 1}


def test_lists_are_replaced_not_merged() -> None:
    assert merge_values({"hosts": ["a", "b"]}, {"hosts": ["c"]}) == {"hosts": ["c"]}


def test_values_string_overrides_value_files() -> None:
    values = compose_values({"valueFiles": ["v.yaml"], "values": "replicas: 3\n"}, files({"v.yaml": "replicas: 1"}))
    assert values == {"replicas": 3}


def test_values_object_wins_over_values_string() -> None:
    """Argo CD docs: valuesObject takes precedence over values when both are set."""
    values = compose_values({"values": "replicas: 3\nx: 1\n", "valuesObject": {"replicas": 5}}, files({}))
    assert values == {"replicas": 5}


def test_parameters_override_everything_else() -> None:
    values = compose_values(
        {"valuesObject": {"image": {"tag": "v1"}}, "parameters": [{"name": "image.tag", "value": "v9"}]}, files({})
    )
    assert values == {"image": {"tag": "v9"}}


def test_parameters_are_typed_unless_force_string() -> None:
    values = compose_values(
        {"parameters": [{"name": "port", "value": "80"}, {"name": "tag", "value": "1234", "forceString": True}]},
        files({}),
    )
    assert values == {"port": 80, "tag": "1234"}


def test_a_comma_in_a_parameter_value_is_kept_as_text() -> None:
    """Argo CD escapes commas so `--set` does not split the value."""
    assert set_argument("a", "x,y") == "a=x\\,y"
    assert compose_values({"parameters": [{"name": "a", "value": "x,y"}]}, files({})) == {"a": "x,y"}


def test_a_braced_parameter_value_stays_a_list() -> None:
    assert compose_values({"parameters": [{"name": "ports", "value": "{80,443}"}]}, files({})) == {"ports": [80, 443]}


def test_missing_value_file_names_the_field() -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.helm\.valueFiles\[1\]: gone\.yaml: no such file"):
        compose_values({"valueFiles": ["v.yaml", "gone.yaml"]}, files({"v.yaml": "a: 1"}))


def test_missing_value_files_are_skipped_when_ignored() -> None:
    options = {"valueFiles": ["gone.yaml", "v.yaml"], "ignoreMissingValueFiles": True}
    assert compose_values(options, files({"v.yaml": "a: 1"})) == {"a": 1}


def test_a_yaml_error_in_a_value_file_names_the_file_and_line() -> None:
    with pytest.raises(RenderError, match=r"prod\.yaml: line 2, column 5: invalid YAML: mapping values"):
        compose_values({"valueFiles": ["prod.yaml"]}, files({"prod.yaml": "a: 1\nb: c: d\n"}))


def test_a_value_file_that_is_not_a_map_is_an_error() -> None:
    with pytest.raises(RenderError, match=r"prod\.yaml: values must be a mapping"):
        compose_values({"valueFiles": ["prod.yaml"]}, files({"prod.yaml": "- a\n"}))
