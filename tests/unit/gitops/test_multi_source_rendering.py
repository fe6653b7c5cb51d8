"""Rendering every source of a multi-source Application (Argo CD: user-guide/multiple_sources.md — each source
rendered separately and the manifests combined; a ref-only source renders nothing; the last source to produce a
resource wins), against a recording stand-in for the repo server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gitops.compare.comparison import compare_app
from gitops.controller.multi_source import combined, generate_sources
from gitops.controller.spec_checks import spec_problems
from gitops.repo_server import Manifests, RenderError, SourceError
from gitops.resources import JsonObject

CHART = {"repoURL": "https://git.example/charts.git", "path": "web", "targetRevision": "main",
         "helm": {"valueFiles": ["$values/envs/prod.yaml"]}}
VALUES = {"repoURL": "https://git.example/values.git", "targetRevision": "main", "ref": "values"}
PLAIN = {"repoURL": "https://git.example/extra.git", "path": "extra", "targetRevision": "v1"}
HEADS = {"https://git.example/charts.git": "a" * 40, "https://git.example/values.git": "b" * 40,
         "https://git.example/extra.git": "c" * 40}


def configmap(name: str, colour: str) -> JsonObject:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "demo"},
            "data": {"colour": colour}}


class RecordingRepoServer:
    """Renders each repository to what ``rendered`` says and records every call."""

    def __init__(self, rendered: Mapping[str, list[JsonObject]], failing: str = "") -> None:
        self.rendered = rendered
        self.failing = failing
        self.calls: list[dict[str, Any]] = []

    def generate_manifests(self, source: JsonObject, *, app_name: str, namespace: str, revision: str | None = None,
                           hard_refresh: bool = False,
                           ref_sources: Mapping[str, JsonObject] | None = None) -> Manifests:
        self.calls.append({"repo": source["repoURL"], "revision": revision, "refs": dict(ref_sources or {})})
        if source["repoURL"] == self.failing:
            raise RenderError("web/templates/cm.yaml:3: bad indentation")
        return Manifests(str(revision), list(self.rendered[source["repoURL"]]), "Helm" if "helm" in source
                         else "Directory")


def resolve(source: Mapping[str, Any], pinned: str | None) -> str:
    return pinned or HEADS[str(source["repoURL"])]


def test_every_source_is_resolved_and_only_the_ones_with_manifests_are_rendered() -> None:
    repo = RecordingRepoServer({CHART["repoURL"]: [configmap("web", "blue")]})
    result = generate_sources(repo, [CHART, VALUES], app_name="web", namespace="demo", pinned=[None, None],
                              resolve=resolve, hard=False)
    assert result.revisions == ("a" * 40, "b" * 40)
    assert result.source_types == ("Helm", "")
    assert result.manifests == [configmap("web", "blue")]
    assert [call["repo"] for call in repo.calls] == [CHART["repoURL"]]


def test_value_files_are_read_from_the_ref_source_at_its_resolved_commit() -> None:
    repo = RecordingRepoServer({CHART["repoURL"]: []})
    generate_sources(repo, [CHART, VALUES], app_name="web", namespace="demo", pinned=[None, None],
                     resolve=resolve, hard=False)
    assert repo.calls[0]["refs"] == {"values": {**VALUES, "targetRevision": "b" * 40}}


def test_pinned_revisions_are_rendered_as_given() -> None:
    """A rollback to a history entry renders each source at the revision the entry recorded."""
    repo = RecordingRepoServer({CHART["repoURL"]: []})
    result = generate_sources(repo, [CHART, VALUES], app_name="web", namespace="demo", pinned=["1" * 40, "2" * 40],
                              resolve=resolve, hard=False)
    assert result.revisions == ("1" * 40, "2" * 40)
    assert repo.calls[0]["revision"] == "1" * 40
    assert repo.calls[0]["refs"]["values"]["targetRevision"] == "2" * 40


def test_manifests_of_all_sources_are_combined() -> None:
    repo = RecordingRepoServer({CHART["repoURL"]: [configmap("web", "blue")], PLAIN["repoURL"]: [
        configmap("extra", "red")]})
    result = generate_sources(repo, [CHART, VALUES, PLAIN], app_name="web", namespace="demo",
                              pinned=[None, None, None], resolve=resolve, hard=False)
    assert sorted(m["metadata"]["name"] for m in result.manifests) == ["extra", "web"]
    assert result.revision == ",".join(["a" * 40, "b" * 40, "c" * 40])


def test_the_last_source_to_produce_a_resource_wins_with_a_repeated_resource_warning() -> None:
    targets = combined([[configmap("web", "from-first")], [configmap("web", "from-second")]])
    comparison = compare_app({"metadata": {"name": "web"}, "spec": {}}, targets, {})
    (resource,) = comparison.resources
    assert resource.target is not None and resource.target["data"] == {"colour": "from-second"}
    assert [c["type"] for c in comparison.conditions] == ["RepeatedResourceWarning"]


def test_a_failing_source_is_named_in_the_error() -> None:
    repo = RecordingRepoServer({CHART["repoURL"]: []}, failing=CHART["repoURL"])
    with pytest.raises(RenderError, match=r"^spec\.sources\[0\]: web/templates/cm\.yaml:3: bad indentation$"):
        generate_sources(repo, [CHART, VALUES], app_name="web", namespace="demo", pinned=[None, None],
                         resolve=resolve, hard=False)


def test_an_unresolvable_source_is_named_in_the_error() -> None:
    def unreachable(source: Mapping[str, Any], pinned: str | None) -> str:
        if source["repoURL"] == VALUES["repoURL"]:
            raise SourceError(str(source["repoURL"]), "repository not found")
        return resolve(source, pinned)

    with pytest.raises(RenderError, match=r"^spec\.sources\[1\]: https://git\.example/values\.git: repository not"):
        generate_sources(RecordingRepoServer({}), [CHART, VALUES], app_name="web", namespace="demo",
                         pinned=[None, None], resolve=unreachable, hard=False)


def test_revisions_must_match_the_sources() -> None:
    with pytest.raises(RenderError, match=r"operation\.sync\.revisions: 1 revisions given for 2 sources"):
        generate_sources(RecordingRepoServer({}), [CHART, VALUES], app_name="web", namespace="demo",
                         pinned=["1" * 40], resolve=resolve, hard=False)


def test_a_source_without_repository_is_an_invalid_spec_naming_it() -> None:
    app = {"spec": {"sources": [CHART, {"ref": "values"}, "values"],
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "demo"}}}
    assert spec_problems(app) == ["spec.sources[1].repoURL is required", "spec.sources[2]: must be an object"]
