"""Every AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun in the shared corpus parses, round-trips
exactly, and validates as expected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from analysis.kinds import KINDS
from kube.kinds import KindSpec
from tests.conformance.corpus import corpus_dir, corpus_missing_reason

_missing = corpus_missing_reason()
if _missing is not None:
    pytest.skip(_missing, allow_module_level=True)

CORPUS = corpus_dir()
KIND_SPECS: dict[str, KindSpec] = {spec.kind: spec for spec in KINDS}


@dataclass(frozen=True)
class Document:
    file: str
    index: int
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        metadata = self.manifest.get("metadata") or {}
        return str(metadata.get("name") or metadata.get("generateName") or "")

    @property
    def id(self) -> str:
        return f"{self.file}#{self.index}:{self.manifest['kind']}/{self.name}"


def analysis_documents() -> list[Document]:
    found: list[Document] = []
    for path in sorted(CORPUS.rglob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        if not any(f"kind: {kind}" in text for kind in KIND_SPECS):
            continue
        relative = path.relative_to(CORPUS).as_posix()
        for index, manifest in enumerate(yaml.safe_load_all(text)):
            if isinstance(manifest, dict) and manifest.get("kind") in KIND_SPECS:
                found.append(Document(relative, index, manifest))
    return found


DOCUMENTS = analysis_documents()

# The documents this suite was written against; a corpus that loses one should fail loudly, not shrink the
# suite.
KNOWN = {
    ("seeds/analysistemplate-success-rate.yaml", "AnalysisTemplate", "success-rate"),
    ("argo-rollouts/examples__analysis-templates.yaml", "AnalysisTemplate", "pass"),
    ("argo-rollouts/examples__analysis-templates.yaml", "AnalysisTemplate", "random-fail"),
    ("argo-rollouts/examples__cluster-analysis-templates.yaml", "ClusterAnalysisTemplate", "always-pass"),
    ("argo-rollouts/examples__rollout-secret.yaml", "AnalysisTemplate", "analysis-secret"),
    ("argo-rollouts/examples__traffic-management__job.yaml", "AnalysisTemplate", "load-test"),
    (
        "argo-rollouts/test__e2e__expectedfailures__analysis-run-prometheus-bad-server.yaml",
        "AnalysisRun",
        "analysis-run-prometheus-bad-server-",
    ),
}

# Documents the validator must object to, by (file, name). None today: Argo's expected-failure run (no query)
# is valid as a manifest and fails at run time, with an Error measurement.
EXPECTED_ISSUES: dict[tuple[str, str], list[tuple[str, str]]] = {}


def test_the_corpus_holds_every_known_analysis_document() -> None:
    found = {(document.file, document.manifest["kind"], document.name) for document in DOCUMENTS}
    assert found >= KNOWN, sorted(KNOWN - found)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.id)
def test_document_round_trips_exactly(document: Document) -> None:
    model = KIND_SPECS[document.manifest["kind"]].model
    assert model.from_dict(document.manifest).to_dict() == document.manifest


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.id)
def test_document_validates_as_expected(document: Document) -> None:
    issues = KIND_SPECS[document.manifest["kind"]].check(document.manifest)
    expected = EXPECTED_ISSUES.get((document.file, document.name), [])
    assert [(issue.path, issue.message) for issue in issues] == expected
