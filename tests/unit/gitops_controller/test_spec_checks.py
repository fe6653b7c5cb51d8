"""An Application whose source cannot be rendered reports InvalidSpecError naming the field (the destination is
resolved against the known clusters elsewhere: see test_destination.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.clusters import LOCAL_SERVER
from gitops.controller.spec_checks import spec_problems


def app(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "a"}, "spec": spec}


SOURCE = {"repoURL": "file:///r", "path": "p"}
LOCAL = {"server": LOCAL_SERVER}


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"destination": LOCAL}, "spec.source"),
        ({"source": "file:///r", "destination": LOCAL}, "spec.source: must be an object"),
        ({"source": {"path": "p"}, "destination": LOCAL}, "spec.source.repoURL"),
    ],
)
def test_each_problem_names_the_field(spec: dict[str, Any], fragment: str) -> None:
    problems = spec_problems(app(**spec))
    assert len(problems) == 1 and fragment in problems[0]


@pytest.mark.parametrize("spec", [{"source": SOURCE, "destination": LOCAL},
                                  {"sources": [SOURCE], "destination": {"name": "anywhere"}}])
def test_a_source_with_a_repository_is_valid(spec: dict[str, Any]) -> None:
    assert spec_problems(app(**spec)) == []
