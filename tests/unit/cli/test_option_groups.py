"""Option groups (`cli.option_groups`): a command takes options that belong together as one dataclass parameter,
and typer shows them as the options themselves, in that parameter's place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.testing import CliRunner

from cli.app_get import RefreshOptions
from cli.app_operations import REFRESH_ANNOTATION
from cli.cluster_options import ClusterOptions
from cli.option_groups import OptionGroup, with_option_groups
from cli.options import Cluster
from kube.resources import APPLICATIONS


@dataclass(frozen=True)
class Window(OptionGroup):
    """Two options that belong together, with defaults of their own."""

    start: int = 1
    end: int = 9

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {"start": Annotated[int, typer.Option("--start")], "end": Annotated[int, typer.Option("--end")]}


def command_app(received: list[Any]) -> typer.Typer:
    """A one-command app whose command records what it was called with."""
    app = typer.Typer()

    @app.command()
    @with_option_groups
    def show(
        label: Annotated[str, typer.Option("--label")] = "-",
        *,
        window: Window,
        cluster_options: ClusterOptions,
        verbose: Annotated[bool, typer.Option("--verbose")] = False,
    ) -> None:
        received.append((label, window, cluster_options, verbose))

    return app


def test_the_group_arrives_built_from_the_options_given() -> None:
    received: list[Any] = []
    result = CliRunner().invoke(command_app(received), ["--label", "x", "--end", "5", "-n", "shop", "--verbose"])
    assert result.exit_code == 0, result.output
    assert received == [("x", Window(start=1, end=5), ClusterOptions(namespace="shop"), True)]


def test_options_left_out_take_the_group_fields_defaults() -> None:
    received: list[Any] = []
    result = CliRunner().invoke(command_app(received), [])
    assert result.exit_code == 0, result.output
    assert received == [("-", Window(start=1, end=9), ClusterOptions(), False)]


def test_help_lists_a_groups_options_where_the_group_parameter_stands() -> None:
    result = CliRunner().invoke(command_app([]), ["--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    order = ["--label", "--start", "--end", "--namespace", "--kubeconfig", "--context", "--verbose"]
    positions = [result.output.index(option) for option in order]
    assert positions == sorted(positions), result.output


class RecordingClient:
    """A client whose Application loses the refresh annotation after ``reads_until_done`` reads (the controller's
    work), recording the patches it is sent."""

    def __init__(self, reads_until_done: int) -> None:
        self.reads_left = reads_until_done
        self.patches: list[Any] = []

    def patch(self, kind: Any, namespace: str, name: str, patch: Any, **_: Any) -> Any:
        self.patches.append((kind, namespace, name, patch))
        return {}

    def get(self, kind: Any, namespace: str, name: str) -> Any:
        self.reads_left -= 1
        annotations = {REFRESH_ANNOTATION: "normal"} if self.reads_left > 0 else {}
        return {"metadata": {"name": name, "annotations": annotations}}


def test_refresh_asks_the_controller_and_returns_the_application_once_it_removed_the_annotation() -> None:
    # Argo CD's refresh: the annotation is set to normal (hard with --hard-refresh), the controller removes it.
    client = RecordingClient(reads_until_done=2)
    app = RefreshOptions(refresh=True).read(Cluster(client, "argocd"), "guestbook")  # type: ignore[arg-type]
    assert client.patches == [
        (APPLICATIONS, "argocd", "guestbook", {"metadata": {"annotations": {REFRESH_ANNOTATION: "normal"}}})
    ]
    assert client.reads_left == 0 and REFRESH_ANNOTATION not in app["metadata"]["annotations"]


def test_hard_refresh_asks_for_a_hard_refresh() -> None:
    client = RecordingClient(reads_until_done=1)
    RefreshOptions(hard_refresh=True).read(Cluster(client, "argocd"), "guestbook")  # type: ignore[arg-type]
    assert client.patches[0][3] == {"metadata": {"annotations": {REFRESH_ANNOTATION: "hard"}}}


def test_without_refresh_the_application_is_read_as_it_is() -> None:
    client = RecordingClient(reads_until_done=5)
    RefreshOptions().read(Cluster(client, "argocd"), "guestbook")  # type: ignore[arg-type]
    assert client.patches == [] and client.reads_left == 4
