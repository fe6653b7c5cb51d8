"""`rollouts sandbox`: run an emulated cluster on this machine until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from cli.main import app
from cli.option_groups import OptionGroup, with_option_groups

if TYPE_CHECKING:
    from sandbox.cluster import Sandbox
    from sandbox.emulator.faults import FaultPolicy
    from sandbox.mesh_traffic import VersionProfile

# cli/sandbox.py → the repository (or install) root, where `rollouts crds --out crds` writes.
DEFAULT_CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
API_WAIT_SECONDS = 10.0


def default_crd_dirs() -> list[Path]:
    return [DEFAULT_CRD_DIR] if DEFAULT_CRD_DIR.is_dir() else []


def _names_option(flag: str, metavar: str, help_text: str) -> Any:
    """A repeatable option whose values are comma-separated names."""
    return Annotated[list[str] | None, typer.Option(flag, metavar=metavar, help=help_text)]


@dataclass(frozen=True)
class FaultOptions(OptionGroup):
    """The `--fault-*` options: which API requests the sandbox makes fail, and how."""

    rate: float = 0.0
    verbs: list[str] | None = None
    resources: list[str] | None = None
    kinds: list[str] | None = None
    seed: int | None = None

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {
            "rate": Annotated[float, typer.Option(
                "--fault-rate", min=0.0, max=1.0,
                help="Share of API requests that fail (500, 409, 429 with Retry-After, slow, dropped watch).",
            )],
            "verbs": _names_option(
                "--fault-verbs", "VERB[,VERB]",
                "Only these verbs fail: get, list, watch, create, update, patch, delete, deletecollection.",
            ),
            "resources": _names_option(
                "--fault-resources", "PLURAL[.GROUP][,…]",
                "Only requests on these resources fail, e.g. rollouts,virtualservices.networking.istio.io.",
            ),
            "kinds": _names_option(
                "--fault-kinds", "KIND[,KIND]",
                "Which faults: error, conflict, throttle, slow, drop-watch (default: all).",
            ),
            "seed": Annotated[
                int | None, typer.Option("--fault-seed", help="Seed of the fault draws, for a reproducible run.")
            ],
        }

    def policy(self) -> FaultPolicy | None:
        """The options as the emulator's policy; None when no fault is asked for (a ValueError names a bad option)."""
        from sandbox.emulator.faults import FAULT_KINDS, FaultKind, FaultPolicy, parse_names

        if self.rate == 0.0:
            if self.verbs or self.resources or self.kinds:
                raise ValueError("--fault-verbs, --fault-resources and --fault-kinds need a --fault-rate above 0")
            return None
        chosen = parse_names(self.kinds or [])
        if unknown := sorted(chosen - set(FAULT_KINDS)):
            raise ValueError(f"--fault-kinds: {', '.join(unknown)} not among {', '.join(FAULT_KINDS)}")
        picked: tuple[FaultKind, ...] = tuple(kind for kind in FAULT_KINDS if kind in chosen) or FAULT_KINDS
        return FaultPolicy(rate=self.rate, verbs=parse_names(self.verbs or []),
                           resources=parse_names(self.resources or []), kinds=picked, seed=self.seed)


@app.command("sandbox")
@with_option_groups
def sandbox_command(
    kubeconfig: Annotated[
        Path,
        typer.Option(
            "--kubeconfig",
            dir_okay=False,
            help="Where to write the kubeconfig for the sandbox, once its API answers.",
        ),
    ],
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="API port; 0 picks a free one.")] = 0,
    ready_delay: Annotated[
        float, typer.Option("--ready-delay", min=0.0, help="Seconds a pod takes to become Ready.")
    ] = 0.5,
    nodes: Annotated[
        int, typer.Option("--nodes", min=1, help="Simulated nodes; a DaemonSet runs one pod on each.")
    ] = 1,
    crds: Annotated[
        list[Path] | None,
        typer.Option(
            "--crds",
            file_okay=False,
            help="Load the CRDs in this directory's *.yaml files (repeatable; default: the project's crds/)",
        ),
    ] = None,
    mesh: Annotated[
        bool,
        typer.Option(
            "--mesh",
            help="Simulate an Istio mesh: traffic along every VirtualService, served as Istio's metrics.",
        ),
    ] = False,
    prometheus: Annotated[
        bool,
        typer.Option(
            "--prometheus",
            help="Run a real Prometheus scraping the simulated mesh (implies --mesh; needs the prometheus binary).",
        ),
    ] = False,
    mesh_profiles: Annotated[
        list[str] | None,
        typer.Option(
            "--mesh-profile",
            metavar="IMAGE=ERROR_RATE[,LATENCY_MS]",
            help="How pods of an image behave in the mesh, e.g. reviews:v2=0.4 for 40% errors (repeatable).",
        ),
    ] = None,
    *,
    fault_options: FaultOptions,
    outage: Annotated[
        str | None,
        typer.Option("--outage", metavar="SECONDS@AFTER",
                     help="Refuse every request (503) for SECONDS, starting AFTER seconds from start, e.g. 30@60."),
    ] = None,
) -> None:
    """Run an emulated Kubernetes cluster (API, Istio CRDs, simulated controllers and kubelet) until Ctrl-C."""
    try:
        _check_writable(kubeconfig)
        profiles = _parse_profiles(mesh_profiles or [])
        fault_policy = fault_options.policy()
        outage_window = _parse_outage(outage)
    except (OSError, ValueError) as error:
        typer.echo(f"rollouts sandbox: {error}", err=True)
        raise typer.Exit(1) from None
    # Imported here: the emulator pulls in aiohttp and kmock, which no other command needs to load.
    from sandbox.cluster import Sandbox, SandboxError
    from sandbox.prometheus import PrometheusNotInstalled, PrometheusStartError

    crd_dirs = list(crds) if crds else default_crd_dirs()
    try:
        cluster = Sandbox(
            port=port,
            ready_delay=ready_delay,
            nodes=nodes,
            crd_dirs=crd_dirs,
            mesh=mesh or prometheus or bool(profiles),
            mesh_profiles=profiles,
            prometheus=prometheus,
            faults=fault_policy,
        )
        asyncio.run(_serve(cluster, kubeconfig, crd_dirs, outage_window))
    except (SandboxError, OSError, PrometheusNotInstalled, PrometheusStartError) as error:
        typer.echo(f"rollouts sandbox: {_describe(error, port)}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        # Interrupted while starting, before the signal handlers were in place: still a requested stop.
        typer.echo("sandbox stopped", err=True)


async def _serve(cluster: Sandbox, kubeconfig: Path, crd_dirs: list[Path],
                 outage: tuple[float, float] | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with cluster:
        await _wait_for_api(cluster.url)
        cluster.write_kubeconfig(kubeconfig)
        written = kubeconfig.read_bytes()
        _print_usage(cluster.url, kubeconfig, crd_dirs, _observability_lines(cluster))
        if outage is not None:
            seconds, after = outage
            loop.call_later(after, cluster.emulator.outage, seconds)
        try:
            await stop.wait()
        finally:
            # The file names a port that is about to close; leave it only if someone replaced it meanwhile.
            with contextlib.suppress(OSError):
                if kubeconfig.read_bytes() == written:
                    kubeconfig.unlink()
    typer.echo("sandbox stopped", err=True)


async def _wait_for_api(url: str) -> None:
    """The kubeconfig is the signal that the sandbox is up, so write it only once the API answers."""
    deadline = asyncio.get_running_loop().time() + API_WAIT_SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=2.0) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/api/v1/namespaces/default")).status_code == 200:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise OSError(f"the API at {url} did not answer within {API_WAIT_SECONDS:g}s")
            await asyncio.sleep(0.05)


def _observability_lines(cluster: Sandbox) -> list[str]:
    lines = []
    if cluster.simulate_mesh:
        lines.append(f"Mesh metrics (Istio's) at {cluster.mesh.metrics_url}")
    if cluster.run_prometheus:
        lines.append(f"Prometheus at {cluster.prometheus.url}")
    return lines


def _parse_profiles(values: list[str]) -> dict[str, VersionProfile]:
    """`IMAGE=ERROR_RATE[,LATENCY_MS]` options; an image reference never contains '='."""
    from sandbox.mesh_traffic import VersionProfile

    profiles: dict[str, VersionProfile] = {}
    for value in values:
        image, _, behaviour = value.partition("=")
        error_rate, _, latency = behaviour.partition(",")
        try:
            if not image or not error_rate:
                raise ValueError("missing IMAGE or ERROR_RATE")
            latency_ms = float(latency) if latency else VersionProfile.latency_ms
            profiles[image] = VersionProfile(error_rate=float(error_rate), latency_ms=latency_ms)
        except ValueError as error:
            raise ValueError(f"--mesh-profile {value!r}: expected IMAGE=ERROR_RATE[,LATENCY_MS] ({error})") from None
    return profiles


def _parse_outage(value: str | None) -> tuple[float, float] | None:
    """`SECONDS@AFTER` → (seconds, after)."""
    if value is None:
        return None
    seconds, at, after = value.partition("@")
    try:
        window = (float(seconds), float(after) if at else 0.0)
    except ValueError:
        window = (-1.0, -1.0)
    if min(window) < 0:
        raise ValueError(f"--outage {value!r}: expected SECONDS@AFTER, two non-negative numbers such as 30@60")
    return window


def _print_usage(url: str, kubeconfig: Path, crd_dirs: list[Path], extra: list[str]) -> None:
    path = kubeconfig.resolve()
    crd_note = ", ".join(str(d) for d in crd_dirs) or "none"
    typer.echo(
        f"Sandbox API at {url} (Istio CRDs; project CRDs from: {crd_note})\n"
        + "".join(f"{line}\n" for line in extra)
        + f"Kubeconfig written to {path}\n"
        f"\n"
        f"  export KUBECONFIG={path}\n"
        f"  kubectl get ns\n"
        f"  rollouts controller --kubeconfig {path}\n"
        f"\n"
        f"Press Ctrl-C to stop."
    )
    sys.stdout.flush()


def _check_writable(kubeconfig: Path) -> None:
    """Fail before starting anything if the kubeconfig cannot be written where asked."""
    parent = kubeconfig.parent
    if not parent.is_dir():
        raise OSError(f"cannot write the kubeconfig {kubeconfig}: directory {parent} does not exist")
    if kubeconfig.is_dir():
        raise OSError(f"cannot write the kubeconfig {kubeconfig}: it is a directory")
    if not os.access(parent, os.W_OK | os.X_OK) or (kubeconfig.exists() and not os.access(kubeconfig, os.W_OK)):
        raise OSError(f"cannot write the kubeconfig {kubeconfig}: permission denied")


def _describe(error: BaseException, port: int) -> str:
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return f"cannot listen on 127.0.0.1:{port}: the port is in use (choose another with --port, or 0)"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)
