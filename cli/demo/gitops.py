"""`rollouts demo --scenario gitops`: the same canary, delivered from Git.

The example of ``examples/gitops/`` (the canary of ``examples/canary-analysis/`` plus a PreSync migration Job, a
ConfigMap in wave -1 and a PostSync smoke-test Job) is committed into a local Git repository, and its Application
is created; the controller (the real `rollouts controller` process, which runs the Application controller beside
the Rollout and analysis controllers) syncs it — the demo shows each hook and wave as the controller records it.
Then a new image is committed and announced with a push webhook: the sync applies it, and the Rollout steps through
its canary. Last, a bad image is committed: its analysis aborts the Rollout, the sync fails before its PostSync
smoke test (a Degraded resource fails a sync that has hooks after it), and the Application shows Degraded.
Exit status 0 when every step ended as expected.
"""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final

import yaml

from cli.demo.display import Reporter
from cli.demo.environment import NAMESPACE, DemoEnvironment, DemoEnvironmentError
from cli.demo.manifests import DEMO_EXAMPLE, EXAMPLES_DIR, load_documents, prepare, rollout_of, rollout_shape
from cli.demo.run import CONTROLLER_READY_SECONDS, run_scenario
from cli.demo.scenarios import SCENARIOS, ScenarioProgress, SummaryRow, summary_row
from kube.json_data import JsonObject
from kube.resources import APPLICATIONS, ROLLOUTS

GITOPS_EXAMPLE: Final = EXAMPLES_DIR / "gitops"
APP_NAMESPACE: Final = "argocd"
APP_PATH: Final = "reviews"
SYNC_SECONDS: Final = 90.0
GIT_ENV: Final = {"GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@localhost", "GIT_COMMITTER_NAME": "demo",
                  "GIT_COMMITTER_EMAIL": "demo@localhost", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}


class ExampleRepository:
    """The demo's Git repository: a bare repository (what the Application points at) and a working tree."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "gitops-example.git"
        self.work = root / "gitops-example"

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        import os

        done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise DemoEnvironmentError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def create(self, documents: list[JsonObject]) -> str:
        """Commit ``documents`` as ``reviews/<kind>-<name>.yaml`` on main; the commit's SHA."""
        self._git("init", "-q", "--bare", "-b", "main", str(self.bare))
        self._git("init", "-q", "-b", "main", str(self.work))
        self._git("remote", "add", "origin", str(self.bare), cwd=self.work)
        return self.commit(documents, "reviews: the canary, its analysis, a migration and a smoke test")

    def commit(self, documents: list[JsonObject], message: str) -> str:
        directory = self.work / APP_PATH
        directory.mkdir(parents=True, exist_ok=True)
        for document in documents:
            metadata = document.get("metadata") or {}
            name = metadata.get("name") or str(metadata.get("generateName", "")).rstrip("-")
            path = directory / f"{str(document['kind']).lower()}-{name}.yaml"
            path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        self._git("add", "-A", cwd=self.work)
        self._git("commit", "-q", "-m", message, cwd=self.work)
        self._git("push", "-q", "origin", "main", cwd=self.work)
        return self._git("rev-parse", "HEAD", cwd=self.work)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def push_webhook(port: int, repo_url: str, before: str, after: str, changed: list[str]) -> str:
    """POST a GitHub push event for ``repo_url`` to the controller's webhook; its answer."""
    body = json.dumps({
        "ref": "refs/heads/main", "before": before, "after": after,
        "repository": {"clone_url": repo_url, "html_url": repo_url, "default_branch": "main"},
        "commits": [{"id": after, "added": [], "removed": [], "modified": changed}],
    }).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/webhook", data=body, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(json.loads(response.read()).get("message", ""))
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DemoEnvironmentError(f"the push webhook on port {port} did not answer: {error}") from None


def application_manifest(repo_url: str) -> JsonObject:
    """examples/gitops/application.yaml pointed at the demo's repository."""
    app = yaml.safe_load((GITOPS_EXAMPLE / "application.yaml").read_text(encoding="utf-8"))
    app["spec"]["source"]["repoURL"] = repo_url
    return dict(app)


class SyncFollower:
    """Prints each resource result of the Application's sync operations as the controller records it."""

    def __init__(self, environment: DemoEnvironment, name: str, say: Callable[[str], None]) -> None:
        self._environment = environment
        self._name = name
        self._say = say
        self._seen: dict[tuple[str, ...], str] = {}

    def app(self) -> JsonObject:
        return self._environment.get(APPLICATIONS, self._name, APP_NAMESPACE) or {}

    def poll(self) -> JsonObject:
        app = self.app()
        state = (app.get("status") or {}).get("operationState") or {}
        for result in (state.get("syncResult") or {}).get("resources") or []:
            key = tuple(str(result.get(f) or "") for f in ("syncPhase", "kind", "name", "hookType"))
            shown = str(result.get("hookPhase") or result.get("status") or "")
            if self._seen.get(key) != shown:
                self._seen[key] = shown
                hook = f" hook {result['hookType']}" if result.get("hookType") else ""
                self._say(f"sync {result.get('syncPhase', '')}: {result.get('kind')} {result.get('name')}{hook} "
                          f"{shown}: {result.get('message', '')}")
        return app

    def wait_operation(self, revision: str, timeout: float = SYNC_SECONDS) -> str:
        """Follow until a sync to ``revision`` has finished; its phase."""
        deadline = time.monotonic() + timeout
        while True:
            app = self.poll()
            state = (app.get("status") or {}).get("operationState") or {}
            synced = ((state.get("syncResult") or {}).get("revision") or "")
            if not app.get("operation") and synced == revision and state.get("phase") in (
                    "Succeeded", "Failed", "Error"):
                self._say(f"operation {state['phase']}: {state.get('message', '')}")
                return str(state["phase"])
            self._environment.check_controller()
            if time.monotonic() > deadline:
                raise DemoEnvironmentError(f"the sync to {revision[:7]} did not finish within {timeout:g}s; the "
                                           f"controller's log:\n{self._environment.controller_log_tail()}")
            time.sleep(0.1)


def run_gitops_demo(speed: float, reporter: Reporter, *, ready_delay: float = 0.2,
                    dashboard_port: int | None = None) -> int:
    """The GitOps scenario end to end; 0 when the sync, the good update and the bad one all ended as expected."""
    good, bad = SCENARIOS
    documents = load_documents(DEMO_EXAMPLE) + load_documents(GITOPS_EXAMPLE / "repo" / APP_PATH)
    port = free_port()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rollouts-gitops-demo-") as work:
        root = Path(work)
        environment = DemoEnvironment(
            root, error_rates={bad.image: bad.error_rate}, ready_delay=ready_delay,
            controller_args=["--webhook-port", str(port), "--app-namespace", APP_NAMESPACE],
            namespaces=(NAMESPACE, APP_NAMESPACE), dashboard_port=dashboard_port,
        )
        try:
            environment.start(reporter.stage)
            prepared = prepare(documents, speed=speed, prometheus_url=environment.prometheus_url)
            shape = rollout_shape(rollout_of(prepared))
            repo = ExampleRepository(root)
            first = repo.create(prepared)
            reporter.stage(f"committed examples/gitops/ to {repo.url} ({first[:7]}): Rollout {shape.name}, "
                           "ConfigMap reviews-settings (wave -1), Jobs reviews-migrate (PreSync) and "
                           "reviews-smoke-test (PostSync)")
            environment.create(APPLICATIONS, APP_NAMESPACE, application_manifest(repo.url))
            reporter.stage(f"created Application reviews in {APP_NAMESPACE}: automated sync of {APP_PATH}/ to "
                           f"namespace {NAMESPACE}")
            follower = SyncFollower(environment, "reviews", reporter.stage)
            phases = [follower.wait_operation(first, CONTROLLER_READY_SECONDS + SYNC_SECONDS)]
            environment.wait_for(lambda: _rollout_phase(environment, shape.name) == "Healthy", SYNC_SECONDS,
                                 f"{shape.name} Healthy")
            reporter.stage(f"{shape.name} is Healthy with {shape.image}; the Application is "
                           f"{_app_summary(follower.app())}")
            rows: list[SummaryRow] = []
            revision = first
            for scenario in (good, bad):
                rollout = dict(rollout_of(prepared))
                container = rollout["spec"]["template"]["spec"]["containers"][0]
                container["image"] = scenario.image
                prepared = [rollout if d.get("kind") == "Rollout" else d for d in prepared]
                commits: list[str] = []
                change = functools.partial(_commit_and_push, repo, port, reporter, rollout, revision, commits)
                progress: ScenarioProgress = run_scenario(environment, reporter, scenario, shape, change)
                revision = commits[-1] if commits else revision
                phases.append(follower.wait_operation(revision))
                rows.append(summary_row(progress, time.time()))
            degraded = _wait_app_health(environment, follower, "Degraded")
            reporter.stage(f"the Application after the bad commit: {_app_summary(follower.app())}")
            # The bad commit's sync fails: its Rollout turns Degraded while the sync waits for it to be healthy
            # before the PostSync smoke test, as Argo CD's does — the smoke test never runs against a bad version.
            expected_phases = ["Succeeded", "Succeeded", "Failed"]
            if phases != expected_phases:
                reporter.stage(f"sync operations ended {phases}, expected {expected_phases}")
            errors = environment.controller_errors()
            for line in errors[:10]:
                reporter.stage(f"the controller logged: {line}")
            all_expected = (all(r.verdict == "expected" for r in rows) and degraded and phases == expected_phases
                            and not errors)
            reporter.summary(rows, all_expected)
            reporter.stage(f"the GitOps demo took {time.monotonic() - started:.1f} s")
            return 0 if all_expected else 1
        finally:
            reporter.close()
            environment.stop()


def _commit_and_push(repo: ExampleRepository, port: int, reporter: Reporter, rollout: JsonObject, previous: str,
                     commits: list[str]) -> None:
    """Commit the Rollout with its new image and announce the push, as a forge would."""
    image = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
    after = repo.commit([rollout], f"reviews: image {image}")
    commits.append(after)
    name = rollout["metadata"]["name"]
    answer = push_webhook(port, repo.url, previous, after, [f"{APP_PATH}/rollout-{name}.yaml"])
    reporter.stage(f"git commit {after[:7]} (image {image}); push webhook: {answer}")


def _rollout_phase(environment: DemoEnvironment, name: str) -> str | None:
    phase = ((environment.get(ROLLOUTS, name) or {}).get("status") or {}).get("phase")
    return str(phase) if phase is not None else None


def _app_summary(app: JsonObject) -> str:
    status = app.get("status") or {}
    return (f"{(status.get('sync') or {}).get('status', 'Unknown')}, "
            f"{(status.get('health') or {}).get('status', 'Unknown')}")


def _wait_app_health(environment: DemoEnvironment, follower: SyncFollower, health: str,
                     timeout: float = SYNC_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ((follower.app().get("status") or {}).get("health") or {}).get("status") == health:
            return True
        environment.check_controller()
        time.sleep(0.1)
    return False

