"""`rollouts controller`: a kubeconfig that cannot be used, or a cluster that does not answer, is one line on
stderr and exit status 1 — never a traceback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Importing a command module registers it; a second command keeps `controller` a subcommand, as in the real CLI.
import cli.controller
import cli.crds  # noqa: F401
from cli.main import app


@pytest.fixture(autouse=True)
def restored_logger_levels() -> Iterator[None]:
    # The command sets logger levels for the whole process (kopf.objects to WARNING, for one): put them back, or a
    # later test's kopf operator in this process logs nothing below WARNING and its log-based checks fail.
    loggers = logging.Logger.manager.loggerDict
    before = {name: logger.level for name, logger in loggers.items() if isinstance(logger, logging.Logger)}
    root_level = logging.getLogger().level
    yield
    for name, logger in list(loggers.items()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(before.get(name, logging.NOTSET))  # a logger first made by the command starts unset
    logging.getLogger().setLevel(root_level)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["controller", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("garbage: [", "is not a valid kubeconfig: not YAML"),
        ("[1, 2]", "is not a valid kubeconfig: unexpected structure"),
    ],
)
def test_an_unusable_kubeconfig_is_one_line_and_exit_1(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "kubeconfig"
    if content is not None:
        path.write_text(content)
    code, stderr = run("--kubeconfig", str(path), "--metrics-port", "0")
    assert code == 1
    assert stderr.startswith(f'rollouts controller: kubeconfig "{path}" {expected}')
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


def test_an_unknown_context_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1")
    code, stderr = run("--kubeconfig", str(path), "--context", "missing", "--metrics-port", "0")
    assert code == 1 and "missing" in stderr and stderr.count("\n") == 1


def test_an_unreachable_cluster_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")
    code, stderr = run("--kubeconfig", str(path), "--metrics-port", "0")
    assert code == 1
    assert stderr.startswith("rollouts controller: cannot reach the Kubernetes API at http://127.0.0.1:")
    assert stderr.count("\n") == 1


def test_namespace_and_all_namespaces_exclude_each_other() -> None:
    code, stderr = run("--namespace", "a", "--all-namespaces")
    assert code == 2 and "exclude each other" in stderr


def test_analysis_workers_cannot_be_negative() -> None:
    code, stderr = run("--analysis-workers", "-1")
    assert code == 2 and "--analysis-workers" in stderr


def controller_options_passed(monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, object]:
    """What `rollouts controller ARGS` hands run_controller (recorded, not run): its keyword arguments, and the
    Rollout controller's options as ``options``."""
    import rollouts.controller.run

    seen: dict[str, object] = {}

    def record(kubeconfig: object, context: object, options: object, **kwargs: object) -> None:
        seen.update(kwargs, options=options)

    monkeypatch.setattr(rollouts.controller.run, "run_controller", record)
    code, stderr = run(*args)
    assert code == 0, stderr
    return seen


def test_the_rollout_controller_options_are_what_the_flags_say(monkeypatch: pytest.MonkeyPatch) -> None:
    options = controller_options_passed(
        monkeypatch, "-n", "shop", "-n", "pay", "-n", "shop", "--workers", "3", "--analysis-workers", "0",
        "--resync-seconds", "60", "--metrics-port", "0",
    )["options"]
    assert (getattr(options, "namespaces", None), getattr(options, "workers", None),
            getattr(options, "analysis_workers", None), getattr(options, "experiment_workers", None),
            getattr(options, "resync_seconds", None), getattr(options, "metrics_port", None)) == (
        ("shop", "pay"), 3, 0, 10, 60.0, 0)  # each namespace once, in order; --experiment-workers' default


@pytest.mark.parametrize(
    ("args", "appsets_in"),
    [
        ((), "argocd"),  # on by default, in the Applications' namespace
        (("--app-namespace", "gitops"), "gitops"),
        (("--no-applicationsets",), None),
        (("--no-applications",), None),  # it reads Git through the Application controller's cache
    ],
)
def test_the_applicationset_controller_runs_beside_the_application_controller_unless_left_out(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], appsets_in: str | None
) -> None:
    passed = controller_options_passed(monkeypatch, *args)
    appsets = passed["application_sets"]
    if appsets_in is None:
        assert appsets is None
    else:
        assert getattr(appsets, "namespace", None) == appsets_in


@pytest.mark.parametrize(
    ("args", "configuration_in"),
    [
        ((), "controllers"),  # on by default, beside the controller: $POD_NAMESPACE
        (("--notifications-namespace", "ops"), "ops"),
        (("--no-notifications",), None),
    ],
)
def test_the_notification_controllers_read_their_configuration_where_asked_unless_left_out(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], configuration_in: str | None
) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "controllers")
    notifications = controller_options_passed(monkeypatch, *args)["notifications"]
    if configuration_in is None:
        assert notifications is None
    else:
        assert getattr(notifications, "namespace", None) == configuration_in


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param([], False, id="off-by-default-as-argo-cd"),
        pytest.param(["--application-health"], True, id="on"),
        pytest.param(["--no-application-health"], False, id="off"),
    ],
)
def test_application_health_flag_reaches_the_application_controller(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], expected: bool
) -> None:
    import rollouts.controller.run
    from gitops.controller.controller import AppControllerOptions

    seen: list[AppControllerOptions] = []

    def capture(*args: object, applications: AppControllerOptions, **kwargs: object) -> None:
        seen.append(applications)

    monkeypatch.setattr(rollouts.controller.run, "run_controller", capture)
    code, _ = run(*flags)
    assert code == 0
    assert [options.application_health for options in seen] == [expected]


@pytest.mark.parametrize(("args", "promote"), [((), False), (("--promote-on-background-analysis-errors",), True)])
def test_background_analysis_errors_hold_promotion_unless_argo_behaviour_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], promote: bool
) -> None:
    """Issue #15 item 9: the default holds; the flag restores Argo Rollouts' behaviour."""
    options = controller_options_passed(monkeypatch, *args)["options"]
    assert getattr(options, "promote_on_background_analysis_errors", None) is promote


# --- where the controller listens (issue #15 item 10) ----------------------------------------------------------


@pytest.fixture
def captured_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The arguments `rollouts controller` starts the controller with, instead of starting it."""
    import rollouts.controller.run

    seen: dict[str, object] = {}

    def run_controller(kubeconfig: object, context: object, options: object, **kwargs: object) -> None:
        seen.update(kwargs, options=options)

    monkeypatch.setattr(rollouts.controller.run, "run_controller", run_controller)
    return seen


def test_metrics_and_webhook_listen_on_every_interface_by_default_as_a_pod_needs(
    captured_run: dict[str, object],
) -> None:
    code, stderr = run("--no-leader-elect")
    assert code == 0, stderr
    assert getattr(captured_run["options"], "metrics_address", None) == "0.0.0.0"
    applications = captured_run["applications"]
    assert getattr(applications, "webhook_address", None) == "0.0.0.0"


def test_metrics_address_and_webhook_address_choose_where_they_listen(captured_run: dict[str, object]) -> None:
    code, stderr = run("--no-leader-elect", "--metrics-address", "127.0.0.1", "--webhook-address", "::1")
    assert code == 0, stderr
    assert getattr(captured_run["options"], "metrics_address", None) == "127.0.0.1"
    assert getattr(captured_run["applications"], "webhook_address", None) == "::1"


def test_an_empty_address_is_refused_before_starting(captured_run: dict[str, object]) -> None:
    code, stderr = run("--no-leader-elect", "--metrics-address", " ")
    assert code == 2
    assert "--metrics-address must name an address to listen on" in stderr
    assert captured_run == {}


# --- sharding (issue #13 item 6) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "shards"), [((), 1), (("--shards", "3", "--no-applications", "--no-notifications"), 3)]
)
def test_shards_reach_the_controller_and_default_to_one(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], shards: int
) -> None:
    assert controller_options_passed(monkeypatch, *args)["shards"] == shards


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(("--shards", "2", "--no-applications", "--no-leader-elect"), "--shards needs leader election",
                     id="shards are Leases"),
        pytest.param(("--shards", "2"), "add --no-applications", id="the Application controllers do not shard"),
        pytest.param(("--shards", "2", "--no-applications"), "add --no-notifications",
                     id="the notification controllers do not shard"),
        pytest.param(("--shards", "0"), "--shards", id="at least one"),
        pytest.param(("--shards", "65"), "--shards", id="at most 64"),
    ],
)
def test_a_sharding_that_cannot_run_is_a_usage_error_naming_the_flag(args: tuple[str, ...], reason: str) -> None:
    code, stderr = run(*args)
    assert code == 2 and reason in stderr
