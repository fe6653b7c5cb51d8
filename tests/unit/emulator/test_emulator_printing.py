"""Pure pieces of the emulator's kubectl tables: ages as kubectl prints them, printer-column JSONPath and cells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kube.ages import age, human_duration
from sandbox.emulator.jsonpath import JsonPathError, evaluate
from sandbox.emulator.resources import CustomColumn
from sandbox.emulator.tables import custom_cell

# apimachinery's HumanDuration: seconds up to 2 minutes, minutes+seconds below 10 minutes, minutes below 3 hours,
# hours+minutes below 8 hours, hours below 2 days, days+hours below 8 days, days below 2 years, then years+days.
DURATIONS = [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (45, "45s"), (119, "119s"), (120, "2m"), (125, "2m5s"),
    (599, "9m59s"), (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 30 * 60, "3h30m"),
    (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (51 * 3600, "2d3h"), (10 * 86400, "10d"),
    (729 * 86400, "729d"), (800 * 86400, "2y70d"), (3 * 365 * 86400, "3y"), (9 * 365 * 86400, "9y"),
]


@pytest.mark.parametrize(("seconds", "expected"), DURATIONS)
def test_human_duration(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_age_of_a_missing_or_malformed_timestamp_is_unknown() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert age(None, now) == "<unknown>"
    assert age("yesterday", now) == "<unknown>"
    assert age("2024-12-31T23:59:00Z", now) == "60s"


OBJECT: dict[str, Any] = {
    "spec": {"hosts": ["a", "b"], "replicas": 3, "weird.key": "x"},
    "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]},
}

PATHS = [
    (".spec.replicas", [3]),
    ("{.spec.replicas}", [3]),
    ("$.spec.replicas", [3]),
    (".spec.hosts", [["a", "b"]]),
    (".spec.hosts[1]", ["b"]),
    (".spec.hosts[-1]", ["b"]),
    (".spec.hosts[*]", ["a", "b"]),
    (".spec.hosts[5]", []),
    (".spec['weird.key']", ["x"]),
    ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
    ('.status.conditions[?(@.type!="Ready")].type', ["Synced"]),
    (".status.missing.deeper", []),
]


@pytest.mark.parametrize(("path", "expected"), PATHS)
def test_jsonpath(path: str, expected: list[Any]) -> None:
    assert evaluate(path, OBJECT) == expected


def test_jsonpath_outside_the_subset_is_refused_naming_the_path() -> None:
    with pytest.raises(JsonPathError, match=r"\.spec\.hosts\[0:1\]"):
        evaluate(".spec.hosts[0:1]", OBJECT)


CELLS = [
    # (column type, value at the path, the cell) as apiextensions' table convertor types them.
    ("integer", 3, 3), ("integer", 3.7, 3), ("integer", "3", None), ("integer", True, None),
    ("number", 2.5, 2.5), ("number", "2.5", None),
    ("boolean", True, True), ("boolean", "true", None),
    ("string", "Healthy", "Healthy"), ("string", 7, "7"), ("string", ["a", "b"], '["a","b"]'),
    ("date", "2024-12-31T23:58:00Z", "2m"), ("date", "not a time", "<invalid>"), ("date", 5, None),
]


@pytest.mark.parametrize(("column_type", "value", "expected"), CELLS)
def test_custom_column_cells_are_typed_as_the_column_says(column_type: str, value: Any, expected: Any) -> None:
    column = CustomColumn(name="X", type=column_type, json_path=".spec.x")
    assert custom_cell(column, {"spec": {"x": value}}, datetime(2025, 1, 1, tzinfo=UTC)) == expected


def test_a_column_whose_path_finds_nothing_is_null() -> None:
    column = CustomColumn(name="X", type="string", json_path=".status.phase")
    assert custom_cell(column, {"spec": {}}, datetime(2025, 1, 1, tzinfo=UTC)) is None
