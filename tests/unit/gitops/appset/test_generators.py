"""ApplicationSet generators against Argo CD's documented examples (operator-manual/applicationset/Generators-*)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gitops.appset.desired_applications import Sources, generator_params
from gitops.appset.fast_template import render as fast_render
from gitops.appset.generators.git import selected_directories
from gitops.appset.generators.list_generator import GeneratorError
from gitops.clusters import clusters_from_secrets
from gitops.patterns import path_match


class FakeRepository:
    """A repository as the git generator reads it: directories and files at any revision."""

    def __init__(self, directories: list[str] | None = None, files: dict[str, str] | None = None) -> None:
        self.directories = directories or []
        self.files = {path: text.encode() for path, text in (files or {}).items()}
        self.reads: list[tuple[str, str]] = []

    def list_directories(self, repo_url: str, revision: str) -> list[str]:
        self.reads.append((repo_url, revision))
        return list(self.directories)

    def read_files(self, repo_url: str, revision: str, pattern: str) -> dict[str, bytes]:
        self.reads.append((repo_url, revision))
        return dict(self.files)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cluster_secret(name: str, server: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"cluster-{name}", "labels": {"argocd.argoproj.io/secret-type": "cluster", **labels}},
        "data": {"name": b64(name), "server": b64(server), "config": b64("{}")},
    }


REPO = "https://github.com/argoproj/argo-cd.git"
ADDONS = FakeRepository(
    directories=[
        "applicationset", "applicationset/examples", "applicationset/examples/git-generator-directory",
        "applicationset/examples/git-generator-directory/cluster-addons",
        "applicationset/examples/git-generator-directory/cluster-addons/argo-workflows",
        "applicationset/examples/git-generator-directory/cluster-addons/prometheus-operator",
        "applicationset/examples/git-generator-directory/cluster-addons/exclude-me",
        "applicationset/examples/git-generator-directory/cluster-addons/.hidden",
        "applicationset/examples/git-generator-directory/cluster-addons/prometheus-operator/charts",
    ],
)
ADDONS_PATH = "applicationset/examples/git-generator-directory/cluster-addons"


def params(generator: dict[str, Any], *, go: bool = False, repo: FakeRepository = ADDONS,
           secrets: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return generator_params(generator, Sources(git=repo, clusters=clusters_from_secrets(secrets or [])), go=go)


def test_list_elements_become_parameter_sets() -> None:
    generator = {"list": {"elements": [
        {"cluster": "engineering-dev", "url": "https://1.2.3.4"},
        {"cluster": "engineering-prod", "url": "https://2.4.6.8", "values": {"tier": "gold"}},
    ]}}
    assert params(generator) == [
        {"cluster": "engineering-dev", "url": "https://1.2.3.4"},
        {"cluster": "engineering-prod", "url": "https://2.4.6.8", "values.tier": "gold"},
    ]


def test_list_values_must_be_strings_unless_go_template() -> None:
    generator = {"list": {"elements": [{"cluster": "a", "replicas": 3}]}}
    with pytest.raises(GeneratorError, match=r"elements\[0\]\.replicas: error parsing value as string"):
        params(generator)
    assert params(generator, go=True) == [{"cluster": "a", "replicas": 3}]


def test_git_directories_with_an_exclusion() -> None:
    """Argo docs: `cluster-addons/*` minus `exclude: true` entries; dot-directories are skipped; `*` is one level."""
    generator = {"git": {"repoURL": REPO, "revision": "HEAD", "directories": [
        {"path": f"{ADDONS_PATH}/exclude-me", "exclude": True},
        {"path": f"{ADDONS_PATH}/*"},
    ]}}
    found = params(generator)
    assert [item["path.basename"] for item in found] == ["argo-workflows", "prometheus-operator"]
    first = found[0]
    assert first["path"] == f"{ADDONS_PATH}/argo-workflows"
    assert first["path[0]"] == "applicationset"
    assert first["path[3]"] == "cluster-addons"
    assert first["path[4]"] == "argo-workflows"
    assert first["path.basenameNormalized"] == "argo-workflows"
    assert ADDONS.reads[-1] == (REPO, "HEAD")


def test_git_directories_in_go_template_mode() -> None:
    generator = {"git": {"repoURL": REPO, "directories": [{"path": f"{ADDONS_PATH}/*"}]}}
    first = params(generator, go=True)[0]
    assert first["path"]["basename"] == "argo-workflows"
    assert first["path"]["segments"][-1] == "argo-workflows"
    assert first["path"]["basenameNormalized"] == "argo-workflows"


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("apps/*", "apps/web", True),
        ("apps/*", "apps/web/sub", False),  # Go's path.Match: * stays within a segment
        ("*/*", "apps/web", True),
        ("apps/?eb", "apps/web", True),
        ("apps/[wx]eb", "apps/web", True),
    ],
)
def test_directory_patterns_follow_go_path_match(pattern: str, path: str, matched: bool) -> None:
    assert path_match(pattern, path) is matched


def test_an_exclusion_wins_whatever_the_order() -> None:
    dirs = ["apps/a", "apps/b"]
    assert selected_directories([{"path": "apps/*"}, {"path": "apps/b", "exclude": True}], dirs) == ["apps/a"]
    assert selected_directories([{"path": "apps/b", "exclude": True}, {"path": "apps/*"}], dirs) == ["apps/a"]


CONFIG = {
    "aws_account": "123456",
    "asset_id": "11223344",
    "cluster": {"owner": "cluster-admin@company.com", "name": "engineering-dev", "address": "https://1.2.3.4"},
}
FILES = FakeRepository(files={
    "applicationset/examples/git-generator-files-discovery/cluster-config/engineering/dev/config.json":
        json.dumps(CONFIG),
    "applicationset/examples/git-generator-files-discovery/cluster-config/engineering/prod/config.json":
        json.dumps({**CONFIG, "cluster": {**CONFIG["cluster"], "name": "engineering-prod"}}),
    "applicationset/examples/git-generator-files-discovery/README.md": "not matched",
})


def test_git_files_flatten_their_content_and_describe_their_path() -> None:
    """Argo docs (Generators-Git, files): `cluster.name`, `path`, `path[0]`, `path.basename`, `path.filename`."""
    generator = {"git": {"repoURL": REPO, "revision": "HEAD", "files": [
        {"path": "applicationset/examples/git-generator-files-discovery/cluster-config/**/config.json"},
    ]}}
    found = params(generator, repo=FILES)
    assert [item["cluster.name"] for item in found] == ["engineering-dev", "engineering-prod"]
    dev = found[0]
    assert dev["aws_account"] == "123456"
    assert dev["cluster.address"] == "https://1.2.3.4"
    assert dev["path"] == "applicationset/examples/git-generator-files-discovery/cluster-config/engineering/dev"
    assert dev["path[0]"] == "applicationset"
    assert dev["path.basename"] == "dev"
    assert dev["path.filename"] == "config.json"


def test_git_files_in_go_template_mode_keep_nesting() -> None:
    generator = {"git": {"repoURL": REPO, "files": [{"path": "**/config.json"}]}}
    dev = params(generator, go=True, repo=FILES)[0]
    assert dev["cluster"]["name"] == "engineering-dev"
    assert dev["path"]["filename"] == "config.json"
    assert dev["path"]["basename"] == "dev"


def test_a_file_holding_a_list_gives_one_set_per_item() -> None:
    repo = FakeRepository(files={"envs/list.yaml": "- env: dev\n- env: prod\n"})
    found = params({"git": {"repoURL": REPO, "files": [{"path": "envs/*.yaml"}]}}, repo=repo)
    assert [item["env"] for item in found] == ["dev", "prod"]


def test_a_malformed_file_is_named() -> None:
    repo = FakeRepository(files={"envs/bad.json": "{not json"})
    with pytest.raises(GeneratorError, match=r"envs/bad\.json"):
        params({"git": {"repoURL": REPO, "files": [{"path": "envs/*.json"}]}}, repo=repo)


SECRETS = [
    cluster_secret("staging", "https://1.2.3.4", env="staging"),
    cluster_secret("prod", "https://5.6.7.8", env="prod"),
]


def test_clusters_include_the_local_cluster_without_a_selector() -> None:
    found = params({"clusters": {}}, secrets=SECRETS)
    assert [(item["name"], item["server"]) for item in found] == [
        ("in-cluster", "https://kubernetes.default.svc"),
        ("prod", "https://5.6.7.8"),
        ("staging", "https://1.2.3.4"),
    ]
    assert found[2]["metadata.labels.env"] == "staging"


def test_a_cluster_selector_leaves_out_the_local_cluster_and_the_others() -> None:
    found = params({"clusters": {"selector": {"matchLabels": {"env": "staging"}}}}, secrets=SECRETS)
    assert [item["name"] for item in found] == ["staging"]


def test_cluster_values_are_rendered_with_the_clusters_parameters() -> None:
    found = params({"clusters": {"selector": {"matchLabels": {"env": "prod"}},
                                 "values": {"revision": "release-{{name}}"}}}, secrets=SECRETS)
    assert found[0]["values.revision"] == "release-prod"


def test_matrix_pairs_every_set_of_both_children() -> None:
    """Argo docs (Generators-Matrix): git directories × clusters."""
    generator = {"matrix": {"generators": [
        {"git": {"repoURL": REPO, "directories": [{"path": f"{ADDONS_PATH}/*"}]}},
        {"clusters": {"selector": {"matchLabels": {"env": "staging"}}}},
    ]}}
    found = params(generator, secrets=SECRETS)
    assert [(item["path.basename"], item["name"]) for item in found] == [
        ("argo-workflows", "staging"), ("exclude-me", "staging"), ("prometheus-operator", "staging"),
    ]


def test_the_second_matrix_child_is_parameterised_by_the_first() -> None:
    repo = FakeRepository(files={
        "apps/web/config.json": json.dumps({"replicas": "2"}),
        "apps/api/config.json": json.dumps({"replicas": "5"}),
    })
    generator = {"matrix": {"generators": [
        {"list": {"elements": [{"app": "web"}, {"app": "api"}]}},
        {"git": {"repoURL": REPO, "files": [{"path": "apps/{{app}}/config.json"}]}},
    ]}}
    found = params(generator, repo=repo)
    assert [(item["app"], item["replicas"]) for item in found] == [("web", "2"), ("api", "5")]


def test_merge_overrides_base_sets_that_share_the_merge_keys() -> None:
    """Argo docs (Generators-Merge): clusters as the base, a list overriding one cluster by `server`."""
    generator = {"merge": {"mergeKeys": ["server"], "generators": [
        {"clusters": {"values": {"kafka": "true", "redis": "false"}}},
        {"list": {"elements": [{"server": "https://5.6.7.8", "values.redis": "true"}]}},
    ]}}
    found = {item["name"]: item for item in params(generator, secrets=SECRETS)}
    assert found["prod"]["values.redis"] == "true"
    assert found["staging"]["values.redis"] == "false"
    assert found["prod"]["values.kafka"] == "true"


def test_a_generator_selector_filters_parameter_sets() -> None:
    generator = {"list": {"elements": [{"env": "dev"}, {"env": "prod"}]},
                 "selector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}}
    assert params(generator) == [{"env": "prod"}]


def test_fast_template_keys_are_trimmed_and_unknown_ones_kept() -> None:
    assert fast_render("{{ path.basename }}-{{nope}}", {"path.basename": "web"}) == "web-{{nope}}"
