"""Repository-wide test set-up: a test marked ``kubectl`` or ``prometheus`` fails (never skips) when that binary
is missing, naming the command that installs it; property tests run without hypothesis' per-example deadline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.required_tools import require_tool

# Hypothesis fails an example that takes longer than 200 ms by default: a wall-clock bound, which a loaded 2-core CI
# machine breaks while the property holds. Properties are bounded by their example counts instead.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for tool in ("kubectl", "prometheus"):
        if item.get_closest_marker(tool) is not None:
            require_tool(tool)


@pytest.fixture(autouse=True)
def _controllers_stay_healthy(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test during which a running controller logged an exception or counted a failed pass, even if it
    recovered; a test that provokes such failures on purpose says so with ``@pytest.mark.controller_errors``."""
    from tests.rollout_harness import RUNNING_CLUSTERS

    marks = [(cluster, cluster.health_mark()) for cluster in RUNNING_CLUSTERS]
    yield
    if request.node.get_closest_marker("controller_errors") is not None:
        return
    marks += [(cluster, (0, 0)) for cluster in RUNNING_CLUSTERS if cluster not in {c for c, _ in marks}]
    problems = [problem for cluster, mark in marks for problem in cluster.problems_since(mark)]
    if problems:
        pytest.fail("the controller failed while the test ran:\n  " + "\n  ".join(problems), pytrace=False)
