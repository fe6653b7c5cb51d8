"""The metadata a controller writes into what it creates (``kube.object_meta``): the controller ownerReference
and the names tried when the first one is taken."""

from __future__ import annotations

from itertools import islice

import pytest

from kube.object_meta import candidate_names, controller_owner_reference, controller_uid


def test_a_controller_owner_reference_marks_its_owner_as_the_controller_and_blocks_foreground_deletion() -> None:
    # The Kubernetes garbage collector's contract: controller=true names the managing owner, and
    # blockOwnerDeletion=true makes a foreground deletion of the owner wait for the dependent.
    reference = controller_owner_reference(api_version="argoproj.io/v1alpha1", kind="Rollout", name="web", uid="u-1")
    assert reference == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_an_object_carrying_a_controller_owner_reference_is_read_back_as_owned_by_it() -> None:
    reference = controller_owner_reference(api_version="argoproj.io/v1alpha1", kind="Experiment", name="e", uid="u-2")
    child = {"metadata": {"name": "e-baseline", "ownerReferences": [reference]}}
    assert controller_uid(child, "Experiment") == "u-2"
    assert controller_uid(child, "Rollout") is None


@pytest.mark.parametrize(
    ("base", "separator", "expected"),
    [
        # Argo's AnalysisRun names on a collision: <rollout>-<hash>-<revision>.1, .2, …
        ("web-6f8b9c-3", ".", ["web-6f8b9c-3", "web-6f8b9c-3.1", "web-6f8b9c-3.2", "web-6f8b9c-3.3"]),
        # Argo's Experiment names of a canary step on a collision: <base>-1, -2, …
        ("web-6f8b9c-3-2", "-", ["web-6f8b9c-3-2", "web-6f8b9c-3-2-1", "web-6f8b9c-3-2-2", "web-6f8b9c-3-2-3"]),
    ],
)
def test_candidate_names_try_the_base_first_then_count_up_from_one(
    base: str, separator: str, expected: list[str]
) -> None:
    assert list(islice(candidate_names(base, separator), len(expected))) == expected
