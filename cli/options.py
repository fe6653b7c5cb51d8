"""What every cluster command shares: `-n/--namespace`, `--kubeconfig`, `--context`, the client they build, the
lookups and patches that say what is missing, and the one error handler that turns every expected failure into one
line on stderr and exit 1.

Commands take the three options as one ``cli.cluster_options.ClusterOptions`` parameter, then::

    with cluster_options.connected() as cluster:  # reported_errors() around connect()
        rollout = get_rollout(cluster, name)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from kube.errors import ApiError, KubeError, NotFound
from kube.resources import NAMESPACES, ROLLOUTS, ResourceKind
from rollouts.status import label_selector_string

if TYPE_CHECKING:
    from kube.client import KubeClient
    from kube.json_data import JsonObject

DEFAULT_NAMESPACE = "default"
# Where a pod finds its own namespace when the CLI runs in-cluster without a kubeconfig.
IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

NamespaceOption = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        help="Namespace of the rollout (default: the kubeconfig context's namespace, else 'default').",
        show_default=False,
    ),
]
KubeconfigOption = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        help="Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster).",
        show_default=False,
    ),
]
ContextOption = Annotated[
    str | None,
    typer.Option("--context", help="Kubeconfig context to use (default: its current-context).", show_default=False),
]


class CliError(Exception):
    """An expected failure: reported as one line on stderr, then the command exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        """1, or 2 for input the command cannot use (an option's value, a ``--local`` path, a sync operation) and
        for any error of ``app diff``, whose 1 means that something differs."""


@dataclass(frozen=True)
class Cluster:
    """A connected client and the namespace the command works in."""

    client: KubeClient
    namespace: str


def fail(message: str, exit_code: int = 1) -> NoReturn:
    # One line whatever the message: the server's, or a parser's, may span several.
    one_line = "; ".join(line.strip() for line in message.splitlines() if line.strip())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(exit_code)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Report expected failures as one stderr line and a non-zero exit, never as a traceback."""
    try:
        yield
    except CliError as error:
        fail(str(error), error.exit_code)
    except KubeError as error:
        # ConfigError, Unreachable and ApiError already carry messages written for people.
        fail(str(error))
    except KeyboardInterrupt:
        # Ctrl-C during a watch is how people stop it; 130 is what shells report for SIGINT.
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (`rollouts list rollouts -A | head`): stop quietly, as `ls | head` does. Point
        # stdout at /dev/null so that the interpreter's final flush does not complain about the pipe again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(141) from None


def connect(namespace: str | None, kubeconfig: str | None, context: str | None) -> Cluster:
    """A client for the kubeconfig and context, and the namespace to use (-n, else the context's, else default)."""
    config_path = kubeconfig or os.environ.get("KUBECONFIG") or None
    if kubeconfig is not None:
        # Stricter than the client, which (as kubectl does for $KUBECONFIG) needs only one file of a list: every
        # file named on the command line must exist.
        for path in kubeconfig.split(os.pathsep):
            if path and not Path(path).expanduser().is_file():
                raise CliError(f'kubeconfig "{path}" does not exist')
    # Imported here: the kubernetes package takes most of a second to load, which `--help` and `version` need not pay.
    from kube.client import KubeClient

    # A kubeconfig that is not one, or lacks the context, is a ConfigError naming it: reported_errors() prints it.
    client = KubeClient.from_kubeconfig(config_path, context)
    return Cluster(client, namespace or context_namespace(config_path, context) or DEFAULT_NAMESPACE)


def _kubeconfig_contexts(config_path: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The kubeconfig's contexts and its current one; raises whatever the kubernetes package raises."""
    import kubernetes.config

    contexts, active = kubernetes.config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
        config_file=config_path
    )
    return list(contexts or []), active


def context_namespace(config_path: str | None, context: str | None) -> str | None:
    """The namespace set on the chosen kubeconfig context, or the pod's own namespace when in-cluster."""
    try:
        contexts, active = _kubeconfig_contexts(config_path)
    except Exception:  # no readable kubeconfig: connect() has already settled on in-cluster config
        return _in_cluster_namespace()
    chosen: dict[str, Any] | None = active
    if context is not None:
        chosen = next((entry for entry in contexts or [] if entry.get("name") == context), None)
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else None


def _in_cluster_namespace() -> str | None:
    try:
        return IN_CLUSTER_NAMESPACE_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def get_rollout(cluster: Cluster, name: str) -> JsonObject:
    """The Rollout, or a CliError saying whether the rollout, its namespace or the Rollout kind is missing."""
    return get_object(cluster, ROLLOUTS, name)


def missing_object_message(cluster: Cluster, kind: ResourceKind, name: str) -> str:
    """Why a lookup of one of our kinds found nothing: a wrong namespace or a missing CRD, told apart from a
    wrong name (``analysisrun "x" not found in namespace "shop"``)."""
    noun = kind.kind.lower()
    # Extra requests only on the failure path, so the common case stays one GET.
    if kind.namespaced:
        try:
            if cluster.client.get_or_none(NAMESPACES, None, cluster.namespace) is None:
                return f'namespace "{cluster.namespace}" not found ({noun} "{name}")'
        except ApiError:
            pass  # not allowed to read namespaces: say what we know
    try:
        cluster.client.list_page(kind, cluster.namespace if kind.namespaced else None)
    except NotFound:
        return (
            f"the {kind.kind} kind ({kind.plural}.{kind.group}) is not installed on this cluster; "
            "install the CRDs first (rollouts crds | kubectl apply -f -)"
        )
    except ApiError:
        pass
    if not kind.namespaced:
        return f'{noun} "{name}" not found'
    return f'{noun} "{name}" not found in namespace "{cluster.namespace}"'


def get_object(cluster: Cluster, kind: ResourceKind, name: str) -> JsonObject:
    """One object of ``kind`` in the command's namespace (or cluster-wide), or a CliError saying what is missing."""
    try:
        return cluster.client.get(kind, cluster.namespace if kind.namespaced else None, name)
    except NotFound:
        raise CliError(missing_object_message(cluster, kind, name)) from None


def patch_object(
    cluster: Cluster, kind: ResourceKind, name: str, patch: JsonObject, *, subresource: str | None = None
) -> JsonObject:
    """A JSON merge patch on one object of ``kind`` in the command's namespace; a CliError saying what is missing."""
    try:
        return cluster.client.patch(kind, cluster.namespace, name, patch, subresource=subresource)
    except NotFound:
        raise CliError(missing_object_message(cluster, kind, name)) from None


def patch_rollout(cluster: Cluster, name: str, patch: JsonObject, *, status: bool = False) -> JsonObject:
    """A JSON merge patch on the Rollout (on its /status subresource with ``status=True``), as Argo's plugin sends."""
    return patch_object(cluster, ROLLOUTS, name, patch, subresource="status" if status else None)


def label_selector(selector: Any) -> str | None:
    """A LabelSelector object (matchLabels, matchExpressions) in query-string form; None when it selects all."""
    if not isinstance(selector, dict):
        return None
    return label_selector_string(selector) or None


def wants_color(no_color: bool) -> bool:
    """Colour only for a person at a terminal: not with --no-color, $NO_COLOR, TERM=dumb, or output to a pipe/file."""
    if no_color or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()
