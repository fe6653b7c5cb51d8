"""`rollouts demo`: the whole product on this machine — sandbox, controllers, mesh simulator and Prometheus — taking
an Istio canary with analysis through a good version (promoted) and a bad one (rolled back automatically)."""

from __future__ import annotations

import os
import signal
import sys
from enum import StrEnum
from types import FrameType
from typing import Annotated

import typer

from cli.main import app


class ScenarioChoice(StrEnum):
    good = "good"
    bad = "bad"
    gitops = "gitops"
    platform = "platform"
    all = "all"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # As Ctrl-C: unwinds through the demo's clean-up, which stops every process it started.
    raise KeyboardInterrupt


@app.command("demo")
def demo_command(
    scenario: Annotated[
        ScenarioChoice,
        typer.Option("--scenario", help="good: a version promoted through every step; bad: a version failing 40 % "
                     "of its requests, aborted by its analysis; gitops: the canary delivered from Git (sync waves, "
                     "hooks, a push webhook, a good and a bad commit); platform: an App of Apps with an ApplicationSet "
                     "over a second repository (folders pushed and removed, self-heal); all: the four, in that "
                     "order."),
    ] = ScenarioChoice.all,
    speed: Annotated[
        float,
        typer.Option("--speed", min=0.1, max=20.0, help="Divide pauses and analysis intervals by this (4: four times "
                     "faster); Prometheus's 1 s scrape sets a floor."),
    ] = 1.0,
    plain: Annotated[
        bool, typer.Option("--plain", help="Print one line per event even on a terminal (the default elsewhere).")
    ] = False,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Serve the web dashboard on loopback while the demo runs, and print "
                           "its address.")
    ] = False,
    dashboard_port: Annotated[
        int, typer.Option("--dashboard-port", min=0, max=65535, help="The dashboard's port (with --dashboard).")
    ] = 3100,
) -> None:
    """Run the demo: sandbox, controllers and Prometheus; a good version promoted, a bad one rolled back."""
    # Imported here: the sandbox pulls in aiohttp and kmock, which no other command but `sandbox` needs.
    from rich.console import Console

    from cli.demo.display import LiveReporter, PlainReporter, Reporter
    from cli.demo.environment import DemoEnvironmentError
    from cli.demo.gitops import run_gitops_demo
    from cli.demo.manifests import DemoManifestError
    from cli.demo.platform import run_platform_demo
    from cli.demo.run import DemoOptions, run_demo
    from cli.demo.scenarios import scenarios_named
    from sandbox.cluster import SandboxError
    from sandbox.prometheus import PrometheusNotInstalled, PrometheusStartError

    live = not plain and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"

    def reporter() -> Reporter:
        return LiveReporter(Console()) if live else PlainReporter(sys.stdout)

    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        code = 0
        port = dashboard_port if dashboard else None
        if scenario not in (ScenarioChoice.gitops, ScenarioChoice.platform):
            code = run_demo(DemoOptions(scenarios=scenarios_named(scenario.value), speed=speed, dashboard_port=port),
                            reporter())
        if scenario in (ScenarioChoice.gitops, ScenarioChoice.all):
            code = max(code, run_gitops_demo(speed, reporter(), dashboard_port=port))
        if scenario in (ScenarioChoice.platform, ScenarioChoice.all):
            code = max(code, run_platform_demo(reporter(), dashboard_port=port))
    except KeyboardInterrupt:
        typer.echo("rollouts demo: interrupted; everything it started is stopped", err=True)
        raise typer.Exit(130) from None
    except (DemoEnvironmentError, DemoManifestError, SandboxError, PrometheusNotInstalled, PrometheusStartError,
            OSError) as error:
        typer.echo(f"rollouts demo: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)
