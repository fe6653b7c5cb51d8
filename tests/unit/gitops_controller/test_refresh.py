"""When an Application is refreshed (Argo CD: timeout.reconciliation 180 s, the argocd.argoproj.io/refresh annotation
normal|hard, webhooks, a changed spec) and how the annotation is removed afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.controller.refresh import (
    REFRESH_ANNOTATION,
    Depth,
    annotation_removal,
    poll_delay,
    refresh_need,
    source_fingerprint,
)


def app(annotation: str | None = None, path: str = "guestbook") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "a"}
    if annotation is not None:
        metadata["annotations"] = {REFRESH_ANNOTATION: annotation}
    return {"metadata": metadata, "spec": {"source": {"repoURL": "r", "path": path},
                                           "destination": {"namespace": "d"}}}


@pytest.mark.parametrize(
    ("application", "seconds", "pushed", "depth", "reason"),
    [
        (app("hard"), 1.0, False, Depth.HARD, "hard refresh requested"),
        (app("normal"), 1.0, False, Depth.NORMAL, "normal refresh requested"),
        (app("bogus"), 1.0, False, Depth.NONE, ""),  # not a request Argo CD knows
        (app(), 1.0, True, Depth.NORMAL, "push webhook"),
        (app(), 180.0, False, Depth.NORMAL, "periodic refresh"),
        (app(), 179.0, False, Depth.NONE, ""),
    ],
)
def test_refresh_need(application: dict[str, Any], seconds: float, pushed: bool, depth: Depth, reason: str) -> None:
    need = refresh_need(application, rendered_fingerprint=source_fingerprint(app()), seconds_since_render=seconds,
                        poll_seconds=180.0, pushed=pushed)
    assert (need.depth, need.reason) == (depth, reason)


def test_a_changed_source_is_rendered_again() -> None:
    need = refresh_need(app(path="other"), rendered_fingerprint=source_fingerprint(app()), seconds_since_render=1.0,
                        poll_seconds=180.0, pushed=False)
    assert need.reason == "source changed"


def test_the_first_pass_always_renders() -> None:
    assert refresh_need(app(), rendered_fingerprint=None, seconds_since_render=None, poll_seconds=0.0,
                        pushed=False).depth is Depth.NORMAL


def test_without_a_poll_period_only_requests_refresh() -> None:
    need = refresh_need(app(), rendered_fingerprint=source_fingerprint(app()), seconds_since_render=10_000.0,
                        poll_seconds=0.0, pushed=False)
    assert need.depth is Depth.NONE


def test_the_jitter_spreads_applications_but_keeps_each_one_steady() -> None:
    delays = {poll_delay(f"app-{i}", 180.0, 60.0) for i in range(50)}
    assert all(180.0 <= d <= 240.0 for d in delays)
    assert len(delays) > 40
    assert poll_delay("app-1", 180.0, 60.0) == poll_delay("app-1", 180.0, 60.0)
    assert poll_delay("app-1", 180.0, 0.0) == 180.0


def test_the_annotation_is_removed_with_a_null() -> None:
    assert annotation_removal(app("hard")) == {"metadata": {"annotations": {REFRESH_ANNOTATION: None}}}
    assert annotation_removal(app()) is None
