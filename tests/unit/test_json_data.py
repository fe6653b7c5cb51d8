"""``kube.json_data.decoded_json_object``: the JSON object an annotation holds, or None."""

from __future__ import annotations

from typing import Any

import pytest

from kube.json_data import decoded_json_object


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"labels": {"role": "active"}}', {"labels": {"role": "active"}}),
        ("{}", {}),
    ],
)
def test_a_string_holding_a_json_object_decodes_to_it(text: str, expected: dict[str, Any]) -> None:
    assert decoded_json_object(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (None, "an absent annotation"),
        ("", "an empty annotation is not JSON"),
        ('{"labels": ', "truncated JSON"),
        ("[1, 2]", "an array is not an object"),
        ('"text"', "a JSON string is not an object"),
        ("null", "JSON null is not an object"),
        (42, "not a string at all"),
    ],
)
def test_anything_else_is_none(text: Any, why: str) -> None:
    assert decoded_json_object(text) is None, why
