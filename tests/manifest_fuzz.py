"""Hostile variants of the project's own manifests, and the paths they take: lint and the controllers' decisions.

Seeds are the manifests of ``examples/`` and the valid fixtures of the validation tests — one or more of every kind
the project serves (Rollout, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun, Application, ApplicationSet,
AppProject) — and, when it is there, the shared corpus. A mutation changes one to three places of a seed: a value
replaced by a hostile one (int32 and int64 edges, NaN, huge and overflowing durations, control characters, the
wrong type, deep nesting), a field removed, an unknown field added, a value wrapped in a list.

Each path is run under bounds that do not depend on the machine's speed: the peak of memory Python allocated
(tracemalloc) and the number of function calls it made (a profile hook). Used by ``tests/unit/test_manifest_fuzz.py``
(a few hundred examples) and ``bench/fuzz.py`` (the larger run).
"""

from __future__ import annotations

import copy
import re
import sys
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from hypothesis import strategies as st

from analysis.runner.lifecycle import decide_run
from cli.catalogue import kind_for
from cli.lint import LintReport, lint_documents
from gitops.appset.desired_applications import GenerationError, Sources, desired_applications
from gitops.controller.spec_checks import spec_problems
from gitops.project.admission import find_project, sync_blocked
from gitops.project.admission import spec_problems as project_problems
from gitops.sources.errors import SourceError
from kube.json_data import JsonObject
from kube.manifests import load_manifests, load_text
from rollouts.controller.metrics import ControllerMetrics
from rollouts.reconcile import decide
from rollouts.snapshot import RolloutSnapshot, referenced_objects
from sandbox.emulator.schema_validation import admit

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 1, tzinfo=UTC)

SERVED_KINDS = (
    "Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun", "Application", "ApplicationSet",
    "AppProject",
)

MEMORY_BOUND = 64 * 2**20
"""The most memory one manifest may make lint or a decision allocate at its peak."""
CALL_BOUND = 1_000_000
"""The most function calls one manifest may cost one path (a seed costs hundreds to tens of thousands)."""

# A field path at the start of a finding: `spec.steps[0].pause.duration: …`, `metadata.name: …`.
FIELD_PATH = re.compile(r'^(?:[^\s:"\[\]]+|"(?:[^"\\]|\\.)*")(?:\[\d+\]|\.(?:[^\s:"\[\]]+|"(?:[^"\\]|\\.)*"))*: ')
# A YAML problem names its place in the file instead of a field.
YAML_PLACE = re.compile(r"^(line \d+(, column \d+)?: )?(invalid YAML: |document |(\w+ )?must be a string)")


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for level in range(levels):
        value = {"n": value} if level % 2 else [value]
    return value


HOSTILE_VALUES: tuple[Any, ...] = (
    2**31, 2**31 - 1, -(2**31) - 1, 2**63, -1, 0, 1.5, float("nan"), float("inf"), -float("inf"), 1e308,
    "", " ", "\x00", "\u202e", "x" * 5000, "9999999999999h", "2562048h", "0s", "-5m", "1e3s", "99999999999",
    "{{args.missing}}", "{{", "}}", "*", "../..", "25%", "101%", "-1%", "true", "null",
    None, True, False, [], {}, [1, 2], [None], {"a": {"b": {}}}, _deep(60),
)
MUTATIONS = ("replace", "replace", "replace", "delete", "unknown field", "wrap in a list")

Location = tuple[str | int, ...]


# --- seeds ----------------------------------------------------------------------------------------------------


def _is_served(manifest: JsonObject) -> bool:
    return (
        str(manifest.get("apiVersion", "")).startswith("argoproj.io/")
        and manifest.get("kind") in SERVED_KINDS
    )


def example_seeds() -> list[JsonObject]:
    """Every served manifest in ``examples/`` (plain files; Kustomize and Helm inputs are read as files too)."""
    return [
        document.manifest
        for document in load_manifests([REPO_ROOT / "examples"])
        if document.manifest is not None and _is_served(document.manifest)
    ]


def fixture_seeds() -> list[JsonObject]:
    """The valid manifests the validation tests start from."""
    from tests.unit.analysis.test_validation import metric, run, template
    from tests.unit.gitops.test_validation import APP_PROJECT, APPLICATION, APPLICATION_SET
    from tests.unit.rollouts.test_validation import VALID_BLUE_GREEN, VALID_CANARY

    analysis_template = template(
        [metric("rate", interval="30s", count=5, failureLimit=1, successCondition="result[0] >= 0.95")],
        args=[{"name": "service", "value": "reviews"}],
    )
    return [
        VALID_CANARY, VALID_BLUE_GREEN, analysis_template, template(kind="ClusterAnalysisTemplate"),
        run([metric("once")]), APPLICATION, APPLICATION_SET, APP_PROJECT,
        {**APPLICATION_SET, "spec": {**APPLICATION_SET["spec"], "generators": [
            {"list": {"elements": [{"path": "a", "path.basename": "a"}, {"path": "b", "path.basename": "b"}]}}
        ]}},
    ]


def corpus_seeds(corpus: Path) -> list[JsonObject]:
    """Every served manifest in the shared corpus at ``corpus``."""
    return [
        document.manifest
        for document in load_manifests([corpus])
        if document.manifest is not None and _is_served(document.manifest)
    ]


def project_seeds() -> list[JsonObject]:
    """The seeds the suite always has: the examples and the validation fixtures."""
    return [*example_seeds(), *fixture_seeds()]


# --- mutation -------------------------------------------------------------------------------------------------


def _locations(document: Any, *, keep_metadata: bool) -> list[Location]:
    """Every place in a document that can be changed, outermost first (apiVersion and kind stay: they choose the
    path the document takes; so does metadata when ``keep_metadata``, as the API server types it for controllers)."""
    kept = ("apiVersion", "kind", "metadata") if keep_metadata else ("apiVersion", "kind")
    found: list[Location] = []
    pending: list[tuple[Location, Any]] = [((), document)]
    while pending:
        location, value = pending.pop()
        if location:
            found.append(location)
        if isinstance(value, dict):
            pending.extend(
                ((*location, key), item)
                for key, item in value.items()
                if location or key not in kept
            )
        elif isinstance(value, list):
            pending.extend(((*location, index), item) for index, item in enumerate(value))
    return sorted(found, key=lambda place: (len(place), [str(part) for part in place]))


def _parent(document: Any, location: Location) -> Any:
    for part in location[:-1]:
        document = document[part]
    return document


@st.composite
def mutated(
    draw: st.DrawFn, seeds: Sequence[JsonObject], *, keep_metadata: bool = False
) -> tuple[JsonObject, list[str]]:
    """A seed with one to three hostile changes, and what was changed (for hypothesis events). A controller only
    ever sees metadata the API server typed: ``keep_metadata`` leaves it alone."""
    document = copy.deepcopy(draw(st.sampled_from(list(seeds))))
    changes: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        places = _locations(document, keep_metadata=keep_metadata)
        if not places:
            break
        location = draw(st.sampled_from(places))
        parent, key = _parent(document, location), location[-1]
        mutation = draw(st.sampled_from(MUTATIONS))
        if mutation == "delete":
            del parent[key]  # a list item or a mapping key alike
        elif mutation == "unknown field" and isinstance(parent[key], dict):
            name = draw(st.sampled_from(["progressDeadlineSecond", "x", "", "spec", "$ref"]))
            # A copy: a later change must not edit the shared value, or the next example starts elsewhere.
            parent[key][name] = copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
        elif mutation == "wrap in a list":
            parent[key] = [parent[key]]
        else:
            mutation = "replace"
            parent[key] = copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
        changes.append(mutation)
    return document, changes


TEXT_SNIPPETS: tuple[str, ...] = (
    "\x00", "\x07", "\t", "\ufeff", "[" * 300, "{" * 300, "*undefined", "&a x", "!!binary AAAA", "!!set {a}",
    "!custom x", "? [a, b]\n: c", "<<: *a", "%YAML 1.1\n---\n", "'", '"', "- - -", "9" * 5000, "\n---\n",
    "key: value\nkey: again\n", "a: &l [x, x, x, x, x, x, x, x, x]\nb: &m [*l, *l, *l, *l, *l, *l, *l, *l, *l]\n"
    "c: &n [*m, *m, *m, *m, *m, *m, *m, *m, *m]\nd: [*n, *n, *n, *n, *n, *n, *n, *n, *n]\n",
)


@st.composite
def hostile_text(draw: st.DrawFn, seeds: Sequence[JsonObject]) -> str:
    """A seed written as YAML with a hostile snippet spliced in at some position: what a file may hold."""
    text = as_yaml(draw(st.sampled_from(list(seeds))))
    position = draw(st.integers(0, len(text)))
    return text[:position] + draw(st.sampled_from(TEXT_SNIPPETS)) + text[position:]


# --- bounds ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounded:
    """What one path cost: its peak allocation and the function calls it made."""

    peak_bytes: int
    calls: int


class CallBudgetExceeded(Exception):
    """A path made more function calls than its budget: it would not end in bounded time."""


def run_bounded(path: Callable[[], T], *, call_budget: int = CALL_BOUND) -> tuple[T, Bounded]:
    """Run ``path``, counting its function calls (stopped at ``call_budget``) and its peak allocation."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1
            if calls > call_budget:
                sys.setprofile(None)
                raise CallBudgetExceeded(f"more than {call_budget} function calls")

    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    previous = sys.getprofile()
    sys.setprofile(count)
    try:
        result = path()
    finally:
        sys.setprofile(previous)
        peak = tracemalloc.get_traced_memory()[1] - baseline
        if started_tracing:
            tracemalloc.stop()
    return result, Bounded(peak, calls)


# --- the paths ------------------------------------------------------------------------------------------------


def lint_text(text: str) -> list[str]:
    """What `rollouts lint` prints for a file holding ``text`` (its findings, without the file and position)."""
    report = LintReport()
    lint_documents(load_text(text, "fuzz.yaml"), kind_for, report)
    return [finding.message for finding in report.findings]


def as_yaml(manifest: JsonObject) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)


def names_a_field_or_place(message: str) -> bool:
    """Whether a finding says where: a field path, or for YAML the line and column."""
    return bool(FIELD_PATH.match(message) or YAML_PLACE.match(message))


@dataclass(frozen=True)
class ControllerOutcome:
    """What the controller's decision made of a manifest: refused (with its message) or accepted.

    ``by_field``: the refusal is a spec error, so its message must name the field. An AppProject's verdict on an
    Application (Argo CD's "… is not permitted in project …") is a policy decision about the whole object.
    """

    refused: bool
    message: str
    by_field: bool = True


def _crd_schemas() -> dict[str, JsonObject]:
    """The committed CRDs' schemas by kind: what the API server admits a custom resource against."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schemas: dict[str, JsonObject] = {}
    for path in sorted((REPO_ROOT / "crds").glob("argoproj.io_*.yaml")):
        crd = yaml.load(path.read_text(), Loader=loader)
        schemas[crd["spec"]["names"]["kind"]] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schemas


# Read once, outside any bounded path: reading the CRDs is not what a manifest costs.
CRD_SCHEMAS = _crd_schemas()


# The Rollout and analysis controllers take a manifest as it is (a CRD installed without a schema, an older one, a
# direct call): their decisions must refuse anything by field. The Application, ApplicationSet and AppProject
# controllers read what the API server admitted under the CRD's schema, so they are given only that.
RAW_KINDS = frozenset({"Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"})


def controller_outcome(manifest: JsonObject) -> ControllerOutcome:
    """The controller's first decision on a manifest, by kind, as its pure core makes it."""
    kind = str(manifest.get("kind"))
    if kind == "Rollout":
        return _rollout_outcome(manifest)
    if kind in RAW_KINDS:
        return _analysis_outcome(manifest)
    admission = admit(CRD_SCHEMAS[kind], manifest)
    if admission.errors:
        return ControllerOutcome(True, str(admission.errors[0]))
    manifest = admission.value
    if kind == "Application":
        return _application_outcome(manifest)
    if kind == "ApplicationSet":
        return _application_set_outcome(manifest)
    return _project_outcome(manifest)


def _rollout_outcome(manifest: JsonObject) -> ControllerOutcome:
    from tests.unit.rollouts.builders import service

    # The cache indexes every Rollout it sees, valid or not; the Services it names exist, so a valid one proceeds.
    references = referenced_objects(manifest)
    services = {name: service(name, managed=False) for name in references.services}
    plan = decide(RolloutSnapshot(rollout=manifest, now=NOW, services=services))
    ControllerMetrics().observe_rollout(manifest, plan.status or {})
    message = str((plan.status or {}).get("message") or "")
    refused = message.startswith("InvalidSpec: ")
    assert not (refused and plan.writes), "an invalid Rollout must not be acted on"
    return ControllerOutcome(refused, message.removeprefix("InvalidSpec: "))


def _analysis_outcome(manifest: JsonObject) -> ControllerOutcome:
    # A template reaches the runner as the spec of a run created from it.
    run = {**manifest, "kind": "AnalysisRun", "metadata": {"name": "fuzz", "namespace": "default", "uid": "u"}}
    decision = decide_run(run, NOW)
    status = decision.status or {}
    message = str(status.get("message") or "")
    refused = status.get("phase") == "Error" and message.startswith("Analysis spec invalid: ")
    return ControllerOutcome(refused, message.removeprefix("Analysis spec invalid: "))


DEFAULT_PROJECT: JsonObject = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "default", "namespace": "argocd"},
    "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]},
}


def _application_outcome(manifest: JsonObject) -> ControllerOutcome:
    problems = spec_problems(manifest)
    if problems:
        return ControllerOutcome(True, problems[0])
    project = find_project(manifest, {"default": DEFAULT_PROJECT})
    if isinstance(project, str):
        return ControllerOutcome(True, project, by_field=False)
    policy = project_problems(manifest, project, "argocd")
    sync_blocked(manifest, project, NOW, manual=False)
    return ControllerOutcome(bool(policy), policy[0] if policy else "", by_field=False)


class _NoGit:
    """Generators that read Git get nothing: the fuzz suite reads no repository."""

    def list_directories(self, repo_url: str, revision: str) -> list[str]:
        return []

    def read_files(self, repo_url: str, revision: str, pattern: str) -> dict[str, bytes]:
        return {}


def _application_set_outcome(manifest: JsonObject) -> ControllerOutcome:
    try:
        desired_applications(manifest, Sources(git=_NoGit()))
    except (GenerationError, SourceError) as error:
        # A generator's own failure names it (`generators[0]: …`); a duplicate name across generators names both.
        return ControllerOutcome(True, str(error), by_field="duplicate name" not in str(error))
    return ControllerOutcome(False, "")


def _project_outcome(manifest: JsonObject) -> ControllerOutcome:
    application = {"metadata": {"name": "web", "namespace": "argocd"}, "spec": {
        "project": "default", "source": {"repoURL": "https://github.com/org/repo.git", "path": "web"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
    }}
    problems = project_problems(application, manifest, "argocd")
    sync_blocked(application, manifest, NOW, manual=False)
    return ControllerOutcome(bool(problems), problems[0] if problems else "", by_field=False)


def iter_kinds(seeds: Sequence[JsonObject]) -> Iterator[str]:
    """The kinds among ``seeds``, each once."""
    yield from dict.fromkeys(str(seed["kind"]) for seed in seeds)
