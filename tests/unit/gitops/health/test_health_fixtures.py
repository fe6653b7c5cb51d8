"""Built-in health checks, table-tested: every case in fixtures/*.yaml names the Argo CD rule it checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.health import resource_health

FIXTURES = Path(__file__).parent / "fixtures"


def _cases() -> list[Any]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            cases.append(pytest.param(document, id=document["case"]))
    return cases


@pytest.mark.parametrize("case", _cases())
def test_built_in_health(case: dict[str, Any]) -> None:
    health = resource_health(case["object"])
    expected = case["expect"]
    assert case["rule"], "every case cites the rule it checks"
    if expected is None:
        assert health is None
    else:
        assert health is not None
        assert (health.status, health.message) == (expected["status"], expected["message"])


def test_fixture_case_ids_are_unique() -> None:
    ids = [param.id for param in _cases()]
    assert len(ids) == len(set(ids))
