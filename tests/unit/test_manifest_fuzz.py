"""The manifest fuzz suite (issue #15): hostile variants of every kind the project serves, through `rollouts lint`
and through the controllers' decisions — no exception, memory and work bounded, and every rejection naming the
field (or, for YAML, the line) it is about.

Sized for CI: a few hundred examples in all. ``python -m bench.fuzz`` runs the same properties at length and
records its figures in ``bench/results/fuzz.md``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings

from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.manifest_fuzz import (
    CALL_BOUND,
    MEMORY_BOUND,
    SERVED_KINDS,
    as_yaml,
    controller_outcome,
    corpus_seeds,
    hostile_text,
    lint_text,
    mutated,
    names_a_field_or_place,
    project_seeds,
    run_bounded,
)
from tests.property_coverage import asserting, guarded

SEEDS = project_seeds()
CORPUS_MISSING = corpus_missing_reason()
CORPUS_SEEDS = [] if CORPUS_MISSING else corpus_seeds(corpus_dir())

FUZZ = settings(
    max_examples=80,
    deadline=None,  # no wall-clock bound: the work is bounded by counting calls instead
    derandomize=True,  # CI runs the same examples every time; bench/fuzz.py explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_seeds_cover_every_kind_the_project_serves() -> None:
    assert {seed["kind"] for seed in SEEDS} == set(SERVED_KINDS)


def _check_lint(text: str) -> list[str]:
    findings, cost = run_bounded(lambda: lint_text(text))
    asserting("lint ended within its bounds")
    assert cost.peak_bytes < MEMORY_BOUND, cost
    assert cost.calls < CALL_BOUND, cost
    for finding in findings:
        assert names_a_field_or_place(finding), finding
    return findings


@guarded(min_share=0.95)
@FUZZ
@given(mutated(SEEDS))
def test_lint_refuses_hostile_manifests_by_field_without_an_exception(
    case: tuple[dict[str, object], list[str]],
) -> None:
    manifest, changes = case
    for change in changes:
        event(f"mutation: {change}")
    findings = _check_lint(as_yaml(manifest))
    event(f"{manifest['kind']}: {'refused' if findings else 'accepted'}")


@guarded(min_share=0.95)
@settings(FUZZ, max_examples=60)
@given(hostile_text(SEEDS))
def test_lint_reports_hostile_yaml_text_by_place_without_an_exception(text: str) -> None:
    findings = _check_lint(text)
    event("refused" if findings else "accepted")


@guarded(min_share=0.95)
@FUZZ
@given(mutated(SEEDS, keep_metadata=True))
def test_the_controllers_refuse_hostile_manifests_by_field_without_an_exception(
    case: tuple[dict[str, object], list[str]],
) -> None:
    manifest, _ = case
    outcome, cost = run_bounded(lambda: controller_outcome(manifest))
    asserting("the controller's decision ended within its bounds")
    assert cost.peak_bytes < MEMORY_BOUND, cost
    assert cost.calls < CALL_BOUND, cost
    event(f"{manifest['kind']}: {'refused' if outcome.refused else 'accepted'}")
    if outcome.refused:
        assert outcome.message.strip(), "a refusal must say why"
        if outcome.by_field:
            asserting("a refusal names the field")
            assert names_a_field_or_place(outcome.message), outcome.message


@pytest.mark.skipif(CORPUS_MISSING is not None, reason=CORPUS_MISSING or "")
@guarded(min_share=0.95)
@settings(FUZZ, max_examples=30)
@given(mutated(CORPUS_SEEDS or SEEDS, keep_metadata=True))
def test_hostile_variants_of_the_corpus_pass_lint_and_the_controllers_without_an_exception(
    case: tuple[dict[str, object], list[str]],
) -> None:
    manifest, _ = case
    _check_lint(as_yaml(manifest))
    _, cost = run_bounded(lambda: controller_outcome(manifest))
    assert cost.peak_bytes < MEMORY_BOUND and cost.calls < CALL_BOUND, cost
