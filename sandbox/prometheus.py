"""A real Prometheus server for the sandbox: Debian's `prometheus` binary on a loopback port, one per owner.

It scrapes the given targets every second, keeps its data in a temporary directory, and counts as started
only once every target has been scraped successfully (`up == 1`): Prometheus applies targets on a 5-second
cycle, so the first sample becomes queryable about 6 seconds after launch. There is a blocking and an asyncio
interface; the asyncio one never blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Self
from urllib.parse import urlsplit

import httpx
import yaml
from prometheus_api_client import PrometheusConnect

from sandbox.background import BlockingBackground, started_part

INSTALL_HINT: Final = "install it with `sudo apt-get install prometheus` (or run the project's scripts/bootstrap.sh)"
POLL_INTERVAL: Final = 0.1
LOG_TAIL_LINES: Final = 30
_NOT_STARTED: Final = "PrometheusServer is not started"


class PrometheusNotInstalled(RuntimeError):
    """The prometheus binary is not where PROMETHEUS_BIN says, nor on PATH."""


class PrometheusStartError(RuntimeError):
    """Prometheus did not become ready, or its targets did not come up, in time."""


@dataclass(frozen=True)
class ScrapeTarget:
    """One endpoint to scrape: `host:port` plus the metrics path; each gets its own scrape job."""

    address: str
    metrics_path: str = "/metrics"
    job: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str | ScrapeTarget) -> ScrapeTarget:
        """Accept `host:port`, `host:port/path` or `http://host:port/path`."""
        if isinstance(value, ScrapeTarget):
            return value
        text = value if "://" in value else f"http://{value}"
        parts = urlsplit(text)
        if not parts.hostname or parts.port is None:
            raise ValueError(f"scrape target {value!r} is not host:port[/path]")
        return cls(address=parts.netloc, metrics_path=parts.path or "/metrics")

    @property
    def job_name(self) -> str:
        if self.job:
            return self.job
        return self.address if self.metrics_path == "/metrics" else f"{self.address}{self.metrics_path}"


def find_prometheus_binary() -> str:
    """PROMETHEUS_BIN if set (it must exist), else `prometheus` on PATH."""
    configured = os.environ.get("PROMETHEUS_BIN")
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise PrometheusNotInstalled(
            f"PROMETHEUS_BIN={configured} is not an executable file; point it at prometheus or unset it "
            f"to use the one on PATH; to get one, {INSTALL_HINT}"
        )
    found = shutil.which("prometheus")
    if found is None:
        raise PrometheusNotInstalled(f"the prometheus binary is not on PATH; {INSTALL_HINT}")
    return found


def prometheus_config(
    targets: Iterable[str | ScrapeTarget],
    *,
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
) -> dict[str, Any]:
    """The prometheus.yml contents: fast global intervals and one scrape job per target."""
    jobs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for target in map(ScrapeTarget.parse, targets):
        if target.job_name in seen:
            raise ValueError(f"two scrape targets share the job name {target.job_name!r}; name them apart")
        seen.add(target.job_name)
        static: dict[str, Any] = {"targets": [target.address]}
        if target.labels:
            static["labels"] = dict(target.labels)
        jobs.append(
            {
                "job_name": target.job_name,
                "metrics_path": target.metrics_path,
                "scrape_interval": scrape_interval,
                # A timeout may not exceed the interval; the sandbox's endpoints answer in milliseconds.
                "scrape_timeout": scrape_interval,
                "static_configs": [static],
            }
        )
    return {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval,
        },
        "scrape_configs": jobs,
    }


def render_prometheus_config(targets: Iterable[str | ScrapeTarget], **intervals: str) -> str:
    return yaml.safe_dump(prometheus_config(targets, **intervals), sort_keys=False)


def targets_not_up(query_response: Mapping[str, Any], targets: Sequence[ScrapeTarget]) -> list[ScrapeTarget]:
    """The targets that the answer to the instant query `up` does not show as 1."""
    up: set[tuple[str, str]] = set()
    for sample in (query_response.get("data") or {}).get("result") or ():
        metric, value = sample.get("metric") or {}, sample.get("value") or (None, None)
        if value[1] == "1":
            up.add((metric.get("job", ""), metric.get("instance", "")))
    return [t for t in targets if (t.job_name, t.address) not in up]


def free_loopback_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class PrometheusServer(BlockingBackground):
    """A Prometheus process scraping `targets`; a context manager, blocking (`with`) or not (`async with`).

    `url` is its base URL once started. `port=None` picks a free loopback port. `wait_for_targets=False`
    returns as soon as the server is ready, before the first scrape.
    """

    def __init__(
        self,
        targets: Iterable[str | ScrapeTarget] = (),
        *,
        binary: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        scrape_interval: str = "1s",
        enable_lifecycle: bool = False,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        wait_for_targets: bool = True,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.targets: list[ScrapeTarget] = [ScrapeTarget.parse(t) for t in targets]
        prometheus_config(self.targets)  # duplicate job names fail here, not in the child process
        self._binary = binary
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._scrape_interval = scrape_interval
        self._enable_lifecycle = enable_lifecycle
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._wait_for_targets = wait_for_targets
        self._extra_args = tuple(extra_args)
        self._directory: Path | None = None
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._async_process: asyncio.subprocess.Process | None = None

    # -- properties --

    @property
    def url(self) -> str:
        return f"http://{self._host}:{started_part(self._port, _NOT_STARTED)}"

    @property
    def pid(self) -> int | None:
        process = self._process or self._async_process
        return process.pid if process is not None else None

    @property
    def config_path(self) -> Path:
        return self._workdir / "prometheus.yml"

    @property
    def log_path(self) -> Path:
        return self._workdir / "prometheus.log"

    @property
    def _workdir(self) -> Path:
        return started_part(self._directory, _NOT_STARTED)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- blocking interface --

    def start(self) -> None:
        binary = self._prepare()
        try:
            deadline = time.monotonic() + self._startup_timeout
            for command in self._attempts(binary):
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                )
                with httpx.Client(base_url=self.url, timeout=2.0) as client:
                    if self._wait_ready(client, deadline):
                        if self._wait_for_targets:
                            self._wait_targets(client, deadline)
                        return
                self._process.wait()
            raise self._start_error("the port stayed busy")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after `stop_timeout`; removes the data directory. Idempotent.

        Stop a server started with `start_async` with `stop_async`: its process is reaped by the event loop.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._async_process is not None and self._async_process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._async_process.terminate()  # best effort: only its event loop can reap it
        self._cleanup()

    def wait_for_targets(self, timeout: float | None = None) -> None:
        """Block until every target reports up == 1 (after `replace_targets`, say)."""
        deadline = time.monotonic() + (self._startup_timeout if timeout is None else timeout)
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            self._wait_targets(client, deadline)

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The result vector of an instant query, through prometheus-api-client: a blocking client suits this
        loopback server (the controller's providers use their own async client, whose deadline ends a request)."""
        with PrometheusConnect(url=self.url, disable_ssl=True, timeout=5) as client:
            return list(client.custom_query(promql))

    def replace_targets(self, targets: Iterable[str | ScrapeTarget]) -> None:
        """Rewrite the configuration and have Prometheus reload it (SIGHUP); returns without waiting."""
        new_targets = [ScrapeTarget.parse(t) for t in targets]
        self._write_config(new_targets)
        self.targets = new_targets
        os.kill(started_part(self.pid, _NOT_STARTED), signal.SIGHUP)

    # -- asyncio interface --

    async def start_async(self) -> None:
        binary = self._prepare()
        try:
            deadline = time.monotonic() + self._startup_timeout
            for command in self._attempts(binary):
                self._async_process = await asyncio.create_subprocess_exec(
                    *command,
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                )
                async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as client:
                    if await self._wait_ready_async(client, deadline):
                        if self._wait_for_targets:
                            await self._wait_targets_async(client, deadline)
                        return
                await self._async_process.wait()
            raise self._start_error("the port stayed busy")
        except BaseException:
            await self.stop_async()
            raise

    async def stop_async(self) -> None:
        process, self._async_process = self._async_process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), self._stop_timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        # A server started with the blocking interface may be stopped from async code too.
        if self._process is not None:
            await asyncio.to_thread(self.stop)
        await asyncio.to_thread(self._cleanup)

    async def wait_for_targets_async(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (self._startup_timeout if timeout is None else timeout)
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as client:
            await self._wait_targets_async(client, deadline)

    async def __aenter__(self) -> Self:
        await self.start_async()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop_async()

    # -- shared steps --

    def _prepare(self) -> str:
        if self._directory is not None:
            raise RuntimeError("PrometheusServer is already started")
        binary = self._binary or find_prometheus_binary()
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise PrometheusNotInstalled(f"{binary} is not an executable file; {INSTALL_HINT}")
        self._directory = Path(tempfile.mkdtemp(prefix="sandbox-prometheus-"))
        self._write_config(self.targets)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - held open for the child's lifetime
        return binary

    def _write_config(self, targets: Sequence[ScrapeTarget]) -> None:
        text = render_prometheus_config(targets, scrape_interval=self._scrape_interval)
        temporary = self.config_path.with_suffix(".tmp")
        temporary.write_text(text)
        # Atomic, so a reload never reads half a file.
        temporary.replace(self.config_path)

    def _command(self, binary: str) -> list[str]:
        command = [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self._workdir / 'data'}",
            f"--web.listen-address={self._host}:{self._port}",
            "--log.level=info",
        ]
        if self._enable_lifecycle:
            command.append("--web.enable-lifecycle")
        return [*command, *self._extra_args]

    def _attempts(self, binary: str) -> Iterator[list[str]]:
        """The command of each attempt to start, its port chosen and the log emptied before it is yielded."""
        # A free port can be taken between choosing it and Prometheus binding it; try a few then.
        if self._requested_port is not None:
            ports = [self._requested_port]
        else:
            ports = [free_loopback_port(self._host) for _ in range(3)]
        for port in ports:
            self._port = port
            self._truncate_log()
            yield self._command(binary)

    def _truncate_log(self) -> None:
        # One attempt's log only: an earlier "address already in use" must not explain a later failure.
        assert self._log is not None
        self._log.seek(0)
        self._log.truncate()

    def _returncode(self) -> int | None:
        if self._process is not None:
            return self._process.poll()
        if self._async_process is not None:
            return self._async_process.returncode
        return None

    def _exited_early(self, deadline: float) -> bool | None:
        """None: keep waiting. False: the port was busy, try another. Raises on any other failure."""
        returncode = self._returncode()
        if returncode is not None:
            if "address already in use" in self.log_tail() and self._requested_port is None:
                return False
            raise self._start_error(f"it exited with code {returncode}")
        if time.monotonic() > deadline:
            raise self._start_error(f"/-/ready did not answer within {self._startup_timeout:g}s")
        return None

    def _wait_ready(self, client: httpx.Client, deadline: float) -> bool:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/-/ready").status_code == 200:
                    return True
            if self._exited_early(deadline) is False:
                return False
            time.sleep(POLL_INTERVAL)

    async def _wait_ready_async(self, client: httpx.AsyncClient, deadline: float) -> bool:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/-/ready")).status_code == 200:
                    return True
            if self._exited_early(deadline) is False:
                return False
            await asyncio.sleep(POLL_INTERVAL)

    def _check_targets(self, response: httpx.Response | None, deadline: float) -> bool:
        missing = self.targets
        if response is not None and response.status_code == 200:
            missing = targets_not_up(response.json(), self.targets)
        if not missing:
            return True
        returncode = self._returncode()
        if returncode is not None:
            raise self._start_error(f"it exited with code {returncode}")
        if time.monotonic() > deadline:
            names = ", ".join(f"{t.address}{t.metrics_path}" for t in missing)
            raise self._start_error(f"targets not up after {self._startup_timeout:g}s: {names}")
        return False

    def _wait_targets(self, client: httpx.Client, deadline: float) -> None:
        while True:
            response = None
            with contextlib.suppress(httpx.HTTPError):
                response = client.get("/api/v1/query", params={"query": "up"})
            if self._check_targets(response, deadline):
                return
            time.sleep(POLL_INTERVAL)

    async def _wait_targets_async(self, client: httpx.AsyncClient, deadline: float) -> None:
        while True:
            response = None
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get("/api/v1/query", params={"query": "up"})
            if self._check_targets(response, deadline):
                return
            await asyncio.sleep(POLL_INTERVAL)

    def _start_error(self, reason: str) -> PrometheusStartError:
        tail = self.log_tail()
        where = f" at {self._host}:{self._port}" if self._port else ""
        message = f"prometheus{where} failed to start: {reason}"
        if tail:
            message += f"\n--- the last lines prometheus logged ---\n{tail}"
        return PrometheusStartError(message)

    def _cleanup(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
        self._port = None
