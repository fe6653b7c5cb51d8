"""Argo Rollout fields this controller does not carry out are refused, never silently accepted: `rollouts lint`
names the field, and the controller's InvalidSpec carries the same message and writes nothing else."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cli.crds  # a second command keeps `lint` a subcommand, as in the real CLI
import cli.lint  # noqa: F401  (registers the command)
from cli.main import app
from rollouts.kinds import ROLLOUT_KIND
from tests.unit.rollouts.builders import Cluster, rollout


def with_canary(**fields: Any) -> dict[str, Any]:
    manifest = rollout()
    manifest["spec"]["strategy"]["canary"].update(copy.deepcopy(fields))
    return manifest


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    (
        "replicaProgressThreshold step",
        with_canary(steps=[{"setWeight": 20}, {"replicaProgressThreshold": {"type": "Percent", "value": 90}}]),
        "spec.strategy.canary.steps[1].replicaProgressThreshold: is not supported yet",
    ),
    (
        "maxTrafficWeight with Istio",
        with_canary(trafficRouting={"istio": {"virtualService": {"name": "reviews"}}, "maxTrafficWeight": 1000}),
        "spec.strategy.canary.trafficRouting.maxTrafficWeight: is not supported yet with this router",
    ),
]


@pytest.mark.parametrize(("manifest", "message"), [case[1:] for case in REFUSED], ids=[c[0] for c in REFUSED])
def test_lint_names_the_field(manifest: dict[str, Any], message: str, tmp_path: Path) -> None:
    assert any(str(issue).startswith(message) for issue in ROLLOUT_KIND.check(manifest))
    path = tmp_path / "rollout.yaml"
    path.write_text(yaml.safe_dump(manifest))
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    assert message in result.stdout


@pytest.mark.parametrize(("manifest", "message"), [case[1:] for case in REFUSED], ids=[c[0] for c in REFUSED])
def test_the_controller_sets_invalid_spec_and_changes_nothing(manifest: dict[str, Any], message: str) -> None:
    cluster = Cluster(rollout=manifest)
    plan = cluster.reconcile()
    assert plan.writes == ()
    assert cluster.status["phase"] == "Degraded"
    assert message in cluster.status["message"]


def test_max_traffic_weight_with_nginx_is_carried_out_and_so_accepted() -> None:
    manifest = with_canary(
        trafficRouting={"nginx": {"stableIngress": "reviews"}, "maxTrafficWeight": 1000}, steps=[{"setWeight": 200}]
    )
    assert [str(issue) for issue in ROLLOUT_KIND.check(manifest)] == []
