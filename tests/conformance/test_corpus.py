"""Manifests written for Argo Rollouts and Argo CD work unchanged: every document of the shared corpus
lints clean and comes back from parse → dump exactly as written.

The corpus lives outside the repository (``../shared/corpus``, or ``$ROLLOUTS_CORPUS_DIR``). ``seeds/``
holds the manifests the project's source documents show, all of which must be accepted as they are;
``argo-rollouts/`` holds Argo's own examples, of which the Rollout and analysis kinds are checked (the
example under ``expectedfailures`` fails at run time, against a Prometheus that does not exist, but is a
valid manifest).
"""

from __future__ import annotations

from typing import Any

import pytest

from cli.catalogue import kind_for
from kube.manifests import LoadedDocument, load_manifests
from tests.conformance.corpus import corpus_dir, corpus_missing_reason

_MISSING = corpus_missing_reason()
if _MISSING is not None:
    pytest.skip(_MISSING, allow_module_level=True)

CORPUS = corpus_dir()
ARGO_ROLLOUTS_KINDS = {"Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"}
# Argo examples this project refuses on purpose (docs/compatibility.md), each with the one finding it must report.
REFUSED_ON_PURPOSE: dict[str, list[str]] = {}


def _case_id(document: LoadedDocument) -> str:
    return f"{document.path.relative_to(CORPUS).as_posix()}#{document.doc_index}"


def _corpus_documents() -> list[Any]:
    cases = [pytest.param(document, id=_case_id(document)) for document in load_manifests([CORPUS / "seeds"])]
    for document in load_manifests([CORPUS / "argo-rollouts"]):
        # Unreadable documents are kept so that they fail loudly rather than drop out of the suite.
        if document.manifest is None or document.manifest["kind"] in ARGO_ROLLOUTS_KINDS:
            cases.append(pytest.param(document, id=_case_id(document)))
    return cases


DOCUMENTS = _corpus_documents()
MODELLED = [
    case
    for case in DOCUMENTS
    if case.values[0].manifest is not None
    and kind_for(case.values[0].manifest["apiVersion"], case.values[0].manifest["kind"]) is not None
]


def test_the_corpus_has_documents_to_check() -> None:
    assert len(DOCUMENTS) >= 20
    kinds = {case.values[0].manifest["kind"] for case in MODELLED}
    assert kinds >= ARGO_ROLLOUTS_KINDS


@pytest.mark.parametrize("document", DOCUMENTS)
def test_corpus_document_lints_clean(document: LoadedDocument) -> None:
    assert document.problem is None, str(document.problem)
    manifest = document.manifest
    assert manifest is not None
    spec = kind_for(manifest["apiVersion"], manifest["kind"])
    if spec is None:
        return  # a kind the project passes through (Service, Namespace, ExternalSecret, …)
    assert [str(issue) for issue in spec.check(manifest)] == REFUSED_ON_PURPOSE.get(_case_id(document), [])


@pytest.mark.parametrize("document", MODELLED)
def test_corpus_document_round_trips(document: LoadedDocument) -> None:
    manifest = document.manifest
    assert manifest is not None
    spec = kind_for(manifest["apiVersion"], manifest["kind"])
    assert spec is not None
    assert spec.model.from_dict(manifest).to_dict() == manifest
