"""A Rollout is parsed and validated once per resourceVersion: the controller's passes over one version share the
parse, and the decision core uses it only for the manifest it was made from."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.controller.parsed_rollouts import ParsedRollouts
from rollouts.kinds import ROLLOUT_KIND
from rollouts.parsed import parse_rollout
from rollouts.reconcile import decide
from rollouts.snapshot import RolloutSnapshot

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def manifest(version: str = "7", *, image: str = "reviews:v2", uid: str = "ro-1") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "reviews", "namespace": "shop", "uid": uid, "resourceVersion": version, "generation": 1},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "reviews"}},
            "template": {
                "metadata": {"labels": {"app": "reviews"}},
                "spec": {"containers": [{"name": "reviews", "image": image}]},
            },
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
        },
    }


def invalid() -> dict[str, Any]:
    broken = manifest()
    broken["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 120}]
    return broken


def unparsable() -> dict[str, Any]:
    broken = manifest()
    broken["spec"]["replicas"] = "three"
    return broken


@pytest.mark.parametrize("case", [manifest, invalid, unparsable], ids=["valid", "invalid", "unparsable"])
def test_parse_reports_what_the_kind_check_reports(case: Any) -> None:
    document = case()
    parsed = parse_rollout(document)
    assert list(parsed.issues) == ROLLOUT_KIND.check(document)
    assert (parsed.rollout is None) == (case is unparsable)


def test_a_version_seen_before_is_not_parsed_again() -> None:
    parsed = ParsedRollouts()
    first = parsed.parsed(manifest("7"))
    # The same version as another dict: the answer to our own write, then its watch event.
    again = parsed.parsed(manifest("7"))
    assert (parsed.hits, parsed.misses) == (1, 1)
    assert again.rollout is first.rollout


def test_a_new_version_is_parsed_afresh() -> None:
    parsed = ParsedRollouts()
    parsed.parsed(manifest("7"))
    newer = parsed.parsed(manifest("8", image="reviews:v3"))
    assert parsed.misses == 2
    assert newer.rollout is not None and newer.rollout.spec.template is not None
    assert newer.rollout.to_dict()["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v3"


def test_the_parse_handed_out_is_of_the_manifest_asked_about() -> None:
    parsed = ParsedRollouts()
    parsed.parsed(manifest("7"))
    asked = manifest("7")
    assert parsed.parsed(asked).manifest is asked


def test_a_manifest_without_a_version_is_never_cached() -> None:
    parsed = ParsedRollouts()
    document = manifest()
    del document["metadata"]["resourceVersion"]
    parsed.parsed(document)
    parsed.parsed(document)
    assert (parsed.hits, parsed.misses) == (0, 2)


def test_the_least_recently_used_parse_leaves_first() -> None:
    parsed = ParsedRollouts(capacity=2)
    parsed.parsed(manifest("1", uid="a"))
    parsed.parsed(manifest("1", uid="b"))
    parsed.parsed(manifest("1", uid="a"))  # a used again: b is now the oldest
    parsed.parsed(manifest("1", uid="c"))
    parsed.parsed(manifest("1", uid="a"))
    parsed.parsed(manifest("1", uid="b"))
    assert (parsed.hits, parsed.misses) == (2, 4)


def test_decide_ignores_a_parse_of_another_manifest() -> None:
    """A snapshot whose rollout was swapped (``dataclasses.replace``) must not be decided from the old parse."""
    stale = parse_rollout(invalid())
    valid = manifest()
    plan = decide(RolloutSnapshot(rollout=valid, now=NOW, parsed=stale))
    assert plan == decide(RolloutSnapshot(rollout=valid, now=NOW))


def test_decide_from_a_cached_parse_is_the_decision_from_the_manifest() -> None:
    document = manifest()
    fresh = decide(RolloutSnapshot(rollout=copy.deepcopy(document), now=NOW))
    cached = ParsedRollouts().parsed(document)
    assert decide(RolloutSnapshot(rollout=document, now=NOW, parsed=cached)) == fresh


def test_only_the_latest_version_of_a_rollout_is_kept() -> None:
    parsed = ParsedRollouts()
    parsed.parsed(manifest("7"))
    parsed.parsed(manifest("8"))
    parsed.parsed(manifest("7"))  # an old version again (a late event): parsed afresh, not kept beside the new
    assert (parsed.hits, parsed.misses) == (0, 3)
    assert len(parsed) == 1


def test_a_discarded_parse_is_parsed_again() -> None:
    parsed = ParsedRollouts()
    parsed.parsed(manifest("7"))
    parsed.discard(manifest("7"))
    parsed.parsed(manifest("7"))
    assert (parsed.hits, parsed.misses, len(parsed)) == (0, 2, 1)
