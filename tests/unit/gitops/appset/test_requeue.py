"""Which changes of an owned Application requeue its ApplicationSet: Argo CD's ``shouldRequeueForApplication``
(applicationset/controllers/applicationset_controller.go) — a change of what the ApplicationSet writes (spec, labels,
annotations, finalizers) or of what its status.resources reports (sync and health status, the operation's phase and
start), and nothing else; missing and empty maps are equal (cmpopts.EquateEmpty)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from gitops.appset.requeue import (
    application_change_requeues,
    appset_change_requeues,
    owned_fields_changed,
    status_requeue_delay,
)

BASE: dict[str, Any] = {
    "metadata": {"name": "guestbook", "resourceVersion": "7", "labels": {"team": "a"},
                 "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                 "ownerReferences": [{"kind": "ApplicationSet", "name": "set", "controller": True}]},
    "spec": {"project": "default", "source": {"repoURL": "https://git.example/r.git", "path": "guestbook"}},
    "status": {"sync": {"status": "OutOfSync", "revision": "a" * 40}, "health": {"status": "Missing"},
               "reconciledAt": "2026-01-01T00:00:00Z",
               "operationState": {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z", "message": "one"}},
}


def changed(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    app = copy.deepcopy(BASE)
    edit(app)
    return app


CASES = [
    ("the spec", lambda a: a["spec"].update(project="other"), True),
    ("a label", lambda a: a["metadata"]["labels"].update(env="prod"), True),
    ("an annotation", lambda a: a["metadata"].update(annotations={"argocd.argoproj.io/refresh": "hard"}), True),
    ("the finalizers", lambda a: a["metadata"].pop("finalizers"), True),
    ("the owner references", lambda a: a["metadata"].pop("ownerReferences"), True),
    ("the deletion timestamp", lambda a: a["metadata"].update(deletionTimestamp="2026-01-01T00:01:00Z"), True),
    ("the sync status", lambda a: a["status"]["sync"].update(status="Synced"), True),
    ("the health status", lambda a: a["status"]["health"].update(status="Healthy"), True),
    ("the operation's phase", lambda a: a["status"]["operationState"].update(phase="Succeeded"), True),
    ("the operation's start", lambda a: a["status"]["operationState"].update(startedAt="2026-01-01T00:02:00Z"), True),
    ("only the resourceVersion", lambda a: a["metadata"].update(resourceVersion="8"), False),
    ("only reconciledAt", lambda a: a["status"].update(reconciledAt="2026-01-01T00:03:00Z"), False),
    ("only the synced revision", lambda a: a["status"]["sync"].update(revision="b" * 40), False),
    ("only the operation's message", lambda a: a["status"]["operationState"].update(message="two"), False),
    ("only the health message", lambda a: a["status"]["health"].update(message="waiting"), False),
]


@pytest.mark.parametrize(("what", "edit", "requeues"), CASES, ids=[case[0] for case in CASES])
def test_a_change_requeues_the_applicationset_only_when_argo_cd_would(
    what: str, edit: Callable[[dict[str, Any]], object], requeues: bool
) -> None:
    assert application_change_requeues(BASE, changed(edit)) is requeues


def test_an_application_not_seen_before_requeues_its_applicationset() -> None:
    assert application_change_requeues(None, BASE) is True


def test_empty_and_missing_labels_are_equal_as_argo_cd_compares_them() -> None:
    with_empty = changed(lambda a: a["metadata"].update(labels={}))
    without = changed(lambda a: a["metadata"].pop("labels"))
    assert application_change_requeues(with_empty, without) is False


OWNED = {"the spec", "a label", "an annotation", "the finalizers", "the owner references", "the deletion timestamp"}


@pytest.mark.parametrize(("what", "edit", "requeues"), CASES, ids=[case[0] for case in CASES])
def test_only_what_the_applicationset_writes_or_decides_ownership_by_is_an_owned_field(
    what: str, edit: Callable[[dict[str, Any]], object], requeues: bool
) -> None:
    assert owned_fields_changed(BASE, changed(edit)) is (what in OWNED)


APPSET: dict[str, Any] = {
    "metadata": {"name": "set", "resourceVersion": "3", "generation": 1, "annotations": {"a": "1"}},
    "spec": {"generators": [{"list": {"elements": [{"cluster": "one"}]}}]},
    "status": {"resourcesCount": 1},
}


def test_the_applicationsets_own_status_change_does_not_requeue_it() -> None:
    """controller-runtime's GenerationChangedPredicate/AnnotationChangedPredicate: a status write is the echo."""
    after = copy.deepcopy(APPSET)
    after["status"] = {"resourcesCount": 2}
    after["metadata"]["resourceVersion"] = "4"
    assert appset_change_requeues(APPSET, after) is False


@pytest.mark.parametrize("edit", [
    lambda a: a["spec"].update(goTemplate=True),
    lambda a: a["metadata"]["annotations"].update({"argocd.argoproj.io/application-set-refresh": "true"}),
    lambda a: a["metadata"].update(deletionTimestamp="2026-01-01T00:00:00Z"),
], ids=["spec", "annotation", "deletion"])
def test_a_change_of_the_applicationset_beyond_its_status_requeues_it(edit: Callable[[dict[str, Any]], object]) -> None:
    after = copy.deepcopy(APPSET)
    edit(after)
    assert appset_change_requeues(APPSET, after) is True


@pytest.mark.parametrize(("minimum", "last_pass", "share", "delay"), [
    (2.0, None, 0.2, 2.0),   # no pass yet: the minimum
    (2.0, 0.1, 0.2, 2.0),    # a short pass: the minimum (0.1 s × 4 = 0.4 s is less)
    (2.0, 1.5, 0.2, 6.0),    # a 1.5 s pass with a 20 % share: 1.5 s of work per 7.5 s, so 6 s of waiting
    (2.0, 3.0, 0.5, 3.0),    # half the time: wait as long as the pass took
    (2.0, 3.0, 1.0, 2.0),    # a share that bounds nothing: the minimum
])
def test_a_status_only_change_waits_long_enough_to_bound_the_share_of_time_spent_on_such_passes(
    minimum: float, last_pass: float | None, share: float, delay: float
) -> None:
    assert status_requeue_delay(minimum, last_pass, share) == pytest.approx(delay)
