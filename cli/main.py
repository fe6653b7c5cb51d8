"""The `rollouts` / `kubectl-rollouts` command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="rollouts",
    help="Progressive delivery for Kubernetes, compatible with Argo Rollouts and Argo CD manifests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    # Each command lives in its own module and registers itself on `app`.
    from cli import (  # noqa: F401
        abort,
        app_create,
        app_delete,
        app_diff,
        app_get,
        app_history,
        app_list,
        app_sync,
        controller,
        crds,
        create,
        dashboard_command,
        demo_command,
        get,
        get_analysisrun,
        get_experiment,
        lint,
        listing,
        pause,
        proj,
        promote,
        restart,
        retry,
        sandbox,
        set_image,
        status,
        terminate,
        undo,
        version,
    )


def main() -> None:
    """Console-script entry point."""
    _register_commands()
    app()
