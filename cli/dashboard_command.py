"""`rollouts dashboard [--port 3100] [--address 127.0.0.1] [--token T | --token-file F]`: the web UI, served until
Ctrl-C, acting with the kubeconfig given (never with more). Listening on anything but loopback needs a token."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.main import app
from cli.options import CliError, ContextOption, KubeconfigOption, connect, reported_errors


@app.command("dashboard")
def dashboard_command(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free one).")] = 3100,
    address: Annotated[
        str, typer.Option("--address", help="Address to listen on; anything but loopback needs a token.")
    ] = "127.0.0.1",
    token: Annotated[
        str | None, typer.Option("--token", help="Token every request must present (visible in `ps`: prefer "
                                 "--token-file).", show_default=False)
    ] = None,
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help="File holding the token.", show_default=False)
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Show only this namespace (default: all).",
                                 show_default=False)
    ] = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Serve the web dashboard: Rollouts and Applications, live, with their buttons."""
    from dashboard.access import AccessError, read_token_file
    from dashboard.access_guard import DashboardSettings
    from dashboard.server import DashboardServer

    with reported_errors():
        if token is not None and token_file is not None:
            raise CliError("give --token or --token-file, not both")
        if token_file is not None:
            try:
                token = read_token_file(token_file)
            except AccessError as error:
                raise CliError(str(error)) from None
        settings = DashboardSettings(address=address, port=port, token=token)  # refuses a bind it must not make
        cluster = connect(None, kubeconfig, context)
        try:
            server = DashboardServer(settings, cluster.client, namespace)
        except OSError as error:
            raise CliError(str(error)) from None
        hint = " (open it once with ?token=<your token>; the page keeps it in a cookie)" if token else ""
        server.run(lambda url: typer.echo(f"dashboard: serving on {url}{hint} (Ctrl-C to stop)"))
