"""`rollouts version [--short]`: which CLI this is, in the shape of Argo's plugin's `version`."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from cli.main import app

DISTRIBUTION = "argo-py-rollouts"
PROGRAM_NAMES = ("rollouts", "kubectl-rollouts")


def cli_version() -> str:
    try:
        return "v" + version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@app.command("version")
def version_command(
    short: Annotated[bool, typer.Option("--short", help="Print just the version number.")] = False,
) -> None:
    """Print the version of the CLI."""
    # Named as invoked: `kubectl rollouts version` runs kubectl-rollouts.
    program = Path(sys.argv[0]).name if Path(sys.argv[0]).name in PROGRAM_NAMES else PROGRAM_NAMES[0]
    typer.echo(f"{program}: {cli_version()}")
    if not short:
        typer.echo(f"  Python: {platform.python_version()} ({platform.python_implementation()})")
        typer.echo(f"  Platform: {sys.platform}/{platform.machine()}")
