"""load_api_client: every kubeconfig that cannot be used is a ConfigError naming the file (and context), never a
parser's exception with a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kube.client import load_api_client
from kube.errors import ConfigError

GOOD = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://203.0.113.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts:
- {name: dev, context: {cluster: c, user: u}}
- {name: prod, context: {cluster: c, user: u}}
current-context: dev
"""


def write(tmp_path: Path, content: str) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(content)
    return str(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("apiVersion: v1\nclusters: [\n  - {name: a\n: :\n", "not YAML ("),
        ("garbage: [", "not YAML ("),
        ("- a\n- list\n", "unexpected structure (TypeError: "),
        ("just a string\n", "unexpected structure (TypeError: "),
        ("clusters: 5\ncontexts: [1]\ncurrent-context: 1\n", "unexpected structure ("),
    ],
    ids=["garbage", "unclosed", "list", "scalar", "wrong-types"],
)
def test_a_kubeconfig_that_is_not_one_is_a_config_error(tmp_path: Path, content: str, reason: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_api_client(path)
    message = str(caught.value)
    assert message.startswith(f'kubeconfig "{path}" is not a valid kubeconfig: {reason}'), message
    assert "\n" not in message
    assert caught.value.__cause__ is not None  # the parser's error stays reachable for debugging


def test_yaml_errors_say_where(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: v1\nclusters: [\n  - {name: a\n: :\n")
    with pytest.raises(ConfigError, match=r"at line \d+, column \d+\)$"):
        load_api_client(path)


def test_a_binary_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match=r'kubeconfig ".*" is not a valid kubeconfig: not text'):
        load_api_client(str(path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="^" + f'kubeconfig "{path}" does not exist' + "$"):
        load_api_client(path)


def test_a_list_of_files_needs_only_one_to_exist(tmp_path: Path) -> None:
    # As kubectl treats $KUBECONFIG: missing entries are skipped; none at all is an error naming the list.
    good = write(tmp_path, GOOD)
    client = load_api_client(os.pathsep.join([str(tmp_path / "missing"), good]))
    assert client.configuration.host == "https://203.0.113.1:6443"
    both_missing = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    with pytest.raises(ConfigError, match="does not exist"):
        load_api_client(both_missing)


def test_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f'^cannot read kubeconfig "{tmp_path}": '):
        load_api_client(str(tmp_path))


def test_a_missing_context_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_api_client(path, "staging")
    assert str(caught.value) == f'context "staging" not found in kubeconfig "{path}" (its contexts: dev, prod)'


def test_a_missing_context_without_a_current_one_still_names_file_and_context(tmp_path: Path) -> None:
    # The package cannot list contexts without a current-context; its own message, prefixed, must do.
    path = write(tmp_path, GOOD.replace("current-context: dev\n", ""))
    with pytest.raises(ConfigError) as caught:
        load_api_client(path, "staging")
    message = str(caught.value)
    assert message.startswith(f'cannot use context "staging" of kubeconfig "{path}": ')
    assert "staging" in message.split(": ", 1)[1]


def test_a_well_formed_kubeconfig_without_contexts_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: v1\nkind: Config\n")
    with pytest.raises(ConfigError, match=f'^cannot use kubeconfig "{path}": Invalid kube-config'):
        load_api_client(path)


def test_a_good_kubeconfig_and_context_load(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    client = load_api_client(path, "prod")
    assert client.configuration.host == "https://203.0.113.1:6443"


def test_a_broken_default_kubeconfig_is_reported_not_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With nothing asked for, a missing kubeconfig falls back to in-cluster config; a broken one is a mistake to show.
    import kubernetes.config.kube_config

    path = write(tmp_path, "- a list\n")
    monkeypatch.setattr(kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", path)
    with pytest.raises(ConfigError, match=f'^kubeconfig "{path}" is not a valid kubeconfig: '):
        load_api_client()
