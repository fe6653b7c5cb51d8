"""What the sync engine's integration tests, its e2e test and its benchmark share: real local Git repositories
(``file://`` and a ``git daemon`` on loopback), the Application controller on a thread of its own against the
sandbox, and waits on an Application's status that fail only when the awaited state never comes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops.controller.controller import AppController, AppControllerOptions
from kube.client import KubeClient
from kube.resources import APPLICATIONS
from tests.git_servers import free_port as free_port
from tests.git_servers import git_daemon as git_daemon

JsonObject = dict[str, Any]
REPO_ROOT = Path(__file__).resolve().parents[1]
CRDS_DIR = REPO_ROOT / "crds"
APP_NAMESPACE = "argocd"
LOGGERS = ("gitops", "kube")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@localhost",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
}


# -- Git ------------------------------------------------------------------------------------------------


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class GitRepo:
    """A working tree whose commits are pushed to a bare repository (the one Applications point at)."""

    work: Path
    bare: Path

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def write(self, files: Mapping[str, str | None]) -> None:
        """Write (or, with None, delete) files in the working tree."""
        for relative, text in files.items():
            path = self.work / relative
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")

    def commit(self, files: Mapping[str, str | None], message: str = "change") -> str:
        """Write ``files``, commit everything on main, push; the new commit's SHA."""
        self.write(files)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "-q", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def copy_tree(self, source: Path, into: str = "") -> None:
        """Copy a directory's files into the working tree (not committed yet)."""
        for path in sorted(source.rglob("*")):
            if path.is_file():
                target = self.work / into / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())


def make_repo(root: Path, files: Mapping[str, str | None] | None = None, name: str = "repo") -> GitRepo:
    """A new repository with one commit on main holding ``files`` (plus a README so it is never empty)."""
    bare = root / f"{name}.git"
    work = root / f"{name}-work"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("init", "-q", "-b", "main", str(work))
    git("remote", "add", "origin", str(bare), cwd=work)
    repo = GitRepo(work, bare)
    repo.commit({"README.md": "test repository\n", **(files or {})}, "initial")
    return repo


# -- Applications -----------------------------------------------------------------------------------------


def application(name: str, repo_url: str, path: str, *, namespace: str = "default", revision: str = "main",
                automated: bool | JsonObject = True, sync_options: list[str] | None = None,
                finalizer: bool = False, source: JsonObject | None = None) -> JsonObject:
    """An Application manifest in the controller's namespace."""
    spec: JsonObject = {
        "project": "default",
        "source": source or {"repoURL": repo_url, "targetRevision": revision, "path": path},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
    }
    policy: JsonObject = {}
    if automated:
        policy["automated"] = automated if isinstance(automated, dict) else {"prune": True, "selfHeal": True}
    if sync_options:
        policy["syncOptions"] = sync_options
    if policy:
        spec["syncPolicy"] = policy
    metadata: JsonObject = {"name": name, "namespace": APP_NAMESPACE}
    if finalizer:
        metadata["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": metadata, "spec": spec}


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` (and the last value) otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def app_status(client: KubeClient, name: str) -> JsonObject:
    app = client.get_or_none(APPLICATIONS, APP_NAMESPACE, name)
    return dict((app or {}).get("status") or {})


def wait_synced_healthy(client: KubeClient, name: str, timeout: float = 90.0) -> JsonObject:
    """The status once the Application is Synced and Healthy with no operation running."""

    def reached() -> JsonObject | None:
        app = client.get_or_none(APPLICATIONS, APP_NAMESPACE, name) or {}
        status = app.get("status") or {}
        running = (status.get("operationState") or {}).get("phase") == "Running" or app.get("operation")
        if (status.get("sync") or {}).get("status") == "Synced" and (status.get("health") or {}).get(
                "status") == "Healthy" and not running:
            return dict(status)
        return None

    try:
        result: JsonObject = wait_for(reached, f"application {name} Synced and Healthy", timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}\nstatus: {app_status(client, name)}") from None
    return result


class ApplicationEvents:
    """Every watch event of the Applications in the controller's namespace, in the API server's order, recorded on a
    thread from the moment it is made: (event type, name, status) — to check what happened before what."""

    def __init__(self, client: KubeClient, timeout_seconds: int = 180) -> None:
        self.events: list[tuple[str, str, JsonObject]] = []
        self._client = client
        version = client.list_page(APPLICATIONS, APP_NAMESPACE)[1]
        self._thread = threading.Thread(target=self._watch, args=(version, timeout_seconds), daemon=True)
        self._thread.start()

    def _watch(self, version: str, timeout_seconds: int) -> None:
        for event in self._client.watch(APPLICATIONS, APP_NAMESPACE, resource_version=version,
                                        timeout_seconds=timeout_seconds):
            obj: JsonObject = event.get("object") or {}
            self.events.append((str(event.get("type")), str((obj.get("metadata") or {}).get("name")),
                                dict(obj.get("status") or {})))

    def statuses(self, name: str) -> list[JsonObject]:
        """The statuses of ``name`` seen so far, oldest first."""
        return [status for _, seen, status in list(self.events) if seen == name]

    def status_of_when_first_seen(self, watched: str, appearing: str) -> JsonObject | None:
        """The last status of ``watched`` seen before ``appearing``'s first event ({} if none); None before that."""
        last: JsonObject = {}
        for _, name, status in list(self.events):
            if name == appearing:
                return last
            if name == watched:
                last = status
        return None


# -- the controller ---------------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Every record at ERROR or above (a logged exception), so a test can fail on a controller that hid one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" + (f" ({r.exc_info[1]!r})" if r.exc_info else "")
                for r in self.records]


@dataclass
class AppControllerThread:
    """The Application controller alone (no kopf, no Rollout controller), on a thread and event loop of its own."""

    kubeconfig: Path
    options: AppControllerOptions
    controller: AppController | None = None
    errors: ErrorLog = field(default_factory=ErrorLog)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _failure: BaseException | None = None

    def start(self, timeout: float = 30.0) -> AppControllerThread:
        # The engine's own loggers and kube's (the runner logs a pass that raised there, with its traceback).
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self.errors)
        self._thread = threading.Thread(target=self._run, name="app-controller", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._failure is not None:
            raise RuntimeError(f"the application controller did not start: {self._failure!r}")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self.errors)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # handed to start()
            self._failure = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        client = KubeClient.from_kubeconfig(str(self.kubeconfig))
        self.controller = AppController(client, self.options)
        try:
            await self.controller.start()
            self._ready.set()
            await self._stop.wait()
        finally:
            await self.controller.stop()
            client.close()


def controller_options(cache_dir: Path, **changes: Any) -> AppControllerOptions:
    """Options for tests: no webhook port unless asked, a short poll so a missed event is caught soon."""
    settings: dict[str, Any] = {"namespace": APP_NAMESPACE, "workers": 4, "poll_seconds": 30.0,
                                "webhook_port": 0, "cache_dir": cache_dir}
    settings.update(changes)
    return AppControllerOptions(**settings)
