"""An Application that cannot be compared reports InvalidSpecError naming the field (Argo CD: "cluster '…' has not
been configured", "there are no clusters with this name")."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.controller.spec_checks import LOCAL_SERVER, spec_problems


def app(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "a"}, "spec": spec}


SOURCE = {"repoURL": "file:///r", "path": "p"}


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"destination": {"server": LOCAL_SERVER}}, "spec.source"),
        ({"source": {"path": "p"}, "destination": {"server": LOCAL_SERVER}}, "spec.source.repoURL"),
        ({"source": SOURCE, "destination": {"server": "https://elsewhere:6443"}}, "has not been configured"),
        ({"source": SOURCE, "destination": {"name": "prod"}}, "no clusters with this name: prod"),
        ({"source": SOURCE, "destination": {}}, "spec.destination"),
    ],
)
def test_each_problem_names_the_field(spec: dict[str, Any], fragment: str) -> None:
    problems = spec_problems(app(**spec))
    assert len(problems) == 1 and fragment in problems[0]


@pytest.mark.parametrize("destination", [{"server": LOCAL_SERVER}, {"server": LOCAL_SERVER + "/"},
                                         {"name": "in-cluster"}])
def test_the_local_cluster_by_url_or_name_is_valid(destination: dict[str, str]) -> None:
    assert spec_problems(app(source=SOURCE, destination=destination)) == []
