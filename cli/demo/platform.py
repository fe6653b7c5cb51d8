"""`rollouts demo --scenario platform`: a platform team's GitOps layout, from one root Application.

``examples/gitops-platform/make-repos.sh`` builds the two repositories of the example (the platform repository:
an AppProject, an ApplicationSet with a Git directory generator over ``apps/*`` of the apps repository, and the
podinfo Helm chart's Applications per environment; the apps repository: the guestbook's plain manifests and the
podinfo chart with its value files). The real `rollouts controller` process runs the Application and ApplicationSet
controllers; a second sandbox, which checks a bearer token, is a second cluster named ``edge``, declared by the
example's cluster Secret (``cluster-edge.yaml``, with that sandbox's URL and token); then only the root Application
is applied. The demo then shows, from what the clusters hold:

1. every Application created (the App of Apps' children, the ApplicationSet's) and each Synced and Healthy — and
   ``podinfo-edge``'s Deployment on the second cluster only;
2. a manual edit of a synced ConfigMap reverted by self-heal;
3. a folder pushed to ``apps/`` (announced by the push webhook) → a new Application, synced;
4. that folder removed → its Application deleted, and its resources with it (the cascade finalizer);
5. ``preserveResourcesOnDeletion: true`` committed to the platform repository, then the guestbook's folder
   removed → its Application deleted, its resources kept.

Exit status 0 when every step happened and the controller logged no error.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from cli.demo.display import Reporter, verdict_line
from cli.demo.environment import DemoEnvironment, DemoEnvironmentError
from cli.demo.gitops import GIT_ENV, free_port, push_webhook
from cli.demo.manifests import EXAMPLES_DIR
from cli.demo.run import CONTROLLER_READY_SECONDS
from kube.json_data import JsonObject
from kube.resources import APP_PROJECTS, APPLICATION_SETS, APPLICATIONS, CONFIGMAPS, DEPLOYMENTS, SECRETS, ResourceKind
from sandbox.cluster import SandboxThread


@dataclass(frozen=True)
class SecondCluster:
    """The example's second cluster: its name (in its cluster Secret, and as the destination name of the Application
    Git puts there), the file of that Secret, and that Application and its namespace."""

    name: str
    secret_file: str
    app: str
    namespace: str


PLATFORM_EXAMPLE: Final = EXAMPLES_DIR / "gitops-platform"
APP_NAMESPACE: Final = "argocd"
ROOT_APP: Final = "platform-root"
APPSET: Final = "team-a-apps"
APPSET_FILE: Final = "applicationsets/team-a-apps.yaml"
EDGE: Final = SecondCluster(
    name="edge", secret_file="cluster-edge.yaml", app="podinfo-edge", namespace="team-a-podinfo-edge"
)
# What the root Application brings, directly (its children) and through the ApplicationSet (one per apps/ folder).
EXPECTED_APPS: Final = (ROOT_APP, "guestbook", EDGE.app, "podinfo-production", "podinfo-staging")
NEW_FOLDER: Final = "inventory"
STEP_SECONDS: Final = 90.0


@dataclass(frozen=True)
class Check:
    """One thing the demo set out to show, and whether it did."""

    what: str
    passed: bool


def app_summary(app: Mapping[str, Any]) -> str:
    """``Synced, Healthy`` — the sync and health columns of `rollouts app list`."""
    status = app.get("status") or {}
    sync = (status.get("sync") or {}).get("status", "Unknown")
    return f"{sync}, {(status.get('health') or {}).get('status', 'Unknown')}"


def app_changes(previous: Mapping[str, str], apps: Sequence[Mapping[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """The lines saying which Applications appeared, changed status or went since ``previous`` (name → summary),
    and the new name → summary map."""
    current = {str(app["metadata"]["name"]): app_summary(app) for app in apps}
    lines: list[str] = []
    for name, summary in sorted(current.items()):
        if name not in previous:
            lines.append(f"Application {name} created: {summary}")
        elif previous[name] != summary:
            lines.append(f"Application {name}: {summary}")
    lines.extend(f"Application {name} deleted" for name in sorted(set(previous) - set(current)))
    return lines, current


class WorkTree:
    """A clone of one of the example's bare repositories, to commit and push to it as a developer would."""

    def __init__(self, bare: Path, work: Path) -> None:
        self.bare = bare
        self.work = work
        self._git("clone", "-q", str(bare), str(work), cwd=None)

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def _git(self, *args: str, cwd: Path | None) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise DemoEnvironmentError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def head(self) -> str:
        return self._git("rev-parse", "HEAD", cwd=self.work)

    def commit_and_push(self, message: str) -> tuple[str, str, list[str]]:
        """Commit every change of the work tree and push it; (before, after, the paths changed)."""
        before = self.head()
        self._git("add", "-A", cwd=self.work)
        self._git("commit", "-q", "-m", message, cwd=self.work)
        self._git("push", "-q", "origin", "HEAD:main", cwd=self.work)
        after = self.head()
        changed = self._git("diff", "--name-only", before, after, cwd=self.work).splitlines()
        return before, after, changed


def edge_cluster_secret(server: str, token: str) -> JsonObject:
    """The example's cluster Secret for the second cluster, naming ``server`` and authenticating with ``token``."""
    secret: JsonObject = yaml.safe_load((PLATFORM_EXAMPLE / EDGE.secret_file).read_text(encoding="utf-8"))
    config = json.loads(secret["stringData"]["config"])
    config["bearerToken"] = token
    config["tlsClientConfig"] = {"insecure": True}  # the sandbox serves plain HTTP
    secret["stringData"] = {**secret["stringData"], "server": server, "config": json.dumps(config)}
    return secret


def build_repositories(root: Path) -> Path:
    """Run the example's make-repos.sh into ``root``; the root Application manifest it wrote."""
    script = PLATFORM_EXAMPLE / "make-repos.sh"
    done = subprocess.run(["sh", str(script), str(root)], env={**os.environ, **GIT_ENV}, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise DemoEnvironmentError(f"{script} failed: {done.stderr.strip()}")
    return Path(done.stdout.strip())


@dataclass
class PlatformDemo:
    """The steps, over a started environment and the two work trees."""

    environment: DemoEnvironment
    reporter: Reporter
    port: int
    platform: WorkTree
    apps: WorkTree
    edge: SandboxThread
    _seen: dict[str, str] = field(default_factory=dict, init=False)

    # -- observation ---------------------------------------------------------------------------------------

    def poll(self) -> dict[str, JsonObject]:
        """The Applications now, printing what changed since the last poll."""
        apps = self.environment.list_objects(APPLICATIONS, APP_NAMESPACE)
        lines, self._seen = app_changes(self._seen, apps)
        for line in lines:
            self.reporter.stage(line)
        return {str(app["metadata"]["name"]): app for app in apps}

    def wait(self, check: Callable[[dict[str, JsonObject]], bool], what: str, timeout: float = STEP_SECONDS) -> bool:
        """Poll until ``check`` holds over the Applications; False (said) when it never did."""
        deadline = time.monotonic() + timeout
        while True:
            if check(self.poll()):
                return True
            self.environment.check_controller()
            if time.monotonic() > deadline:
                self.reporter.stage(f"gave up after {timeout:g}s waiting for {what}")
                return False
            time.sleep(0.1)

    def _get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        return self.environment.get(kind, name, namespace)

    def push(self, tree: WorkTree, message: str) -> None:
        before, after, changed = tree.commit_and_push(message)
        answer = push_webhook(self.port, tree.url, before, after, changed)
        self.reporter.stage(f"git push {tree.bare.name} {after[:7]} ({message}); push webhook: {answer}")

    # -- the steps -----------------------------------------------------------------------------------------

    def everything_synced(self) -> Check:
        def done(apps: dict[str, JsonObject]) -> bool:
            return all(name in apps and app_summary(apps[name]) == "Synced, Healthy" for name in EXPECTED_APPS)

        synced = self.wait(done, "every Application Synced and Healthy", CONTROLLER_READY_SECONDS + STEP_SECONDS)
        project = self._get(APP_PROJECTS, APP_NAMESPACE, "team-a") is not None
        appset = self._get(APPLICATION_SETS, APP_NAMESPACE, APPSET) is not None
        replicas = {env: ((self._get(DEPLOYMENTS, f"team-a-podinfo-{env}", "podinfo") or {}).get("spec") or {})
                    .get("replicas") for env in ("staging", "production")}
        self.reporter.stage(f"AppProject team-a: {'present' if project else 'missing'}; ApplicationSet {APPSET}: "
                            f"{'present' if appset else 'missing'}; podinfo replicas per environment (values-<env>"
                            f".yaml): {replicas}")
        return Check("the root Application brought every Application, each Synced and Healthy, with the values of "
                     "its environment", synced and project and appset and replicas == {"staging": 1,
                                                                                       "production": 2})

    def second_cluster(self) -> Check:
        """podinfo-edge's objects are on the second cluster, and only there."""
        on_edge = self.edge.emulator.get_object("apps", "v1", "deployments", EDGE.namespace, "podinfo")
        on_hub = self._get(DEPLOYMENTS, EDGE.namespace, "podinfo")
        ready = ((on_edge or {}).get("status") or {}).get("readyReplicas")
        self.reporter.stage(f"Application {EDGE.app} (destination name: {EDGE.name}): Deployment podinfo in "
                            f"{EDGE.namespace} on cluster {EDGE.name} ({self.edge.url}): "
                            f"{f'{ready} ready' if on_edge else 'missing'}; on the local cluster: "
                            f"{'present' if on_hub else 'none'}")
        return Check(f"the second cluster ({EDGE.name}, a second sandbox) got its Application's objects, and "
                     "the local cluster did not", on_edge is not None and bool(ready) and on_hub is None)

    def self_heal(self) -> Check:
        namespace, name = "team-a-guestbook", "guestbook-settings"
        wanted = ((self._get(CONFIGMAPS, namespace, name) or {}).get("data") or {}).get("greeting")
        self.environment.patch(CONFIGMAPS, namespace, name, {"data": {"greeting": "edited by hand"}})
        self.reporter.stage(f"kubectl -n {namespace} patch configmap {name}: greeting 'edited by hand' (Git says "
                            f"{wanted!r})")

        def healed(_: dict[str, JsonObject]) -> bool:
            data = (self._get(CONFIGMAPS, namespace, name) or {}).get("data") or {}
            return wanted is not None and data.get("greeting") == wanted

        reverted = self.wait(healed, "self-heal to revert the edit")
        if reverted:
            self.reporter.stage(f"self-heal put {name} back: greeting {wanted!r}")
        return Check("a manual edit was reverted by self-heal", reverted)

    def folder_added(self) -> Check:
        shutil.copytree(self.apps.work / "apps" / "guestbook", self.apps.work / "apps" / NEW_FOLDER)
        self.push(self.apps, f"apps/{NEW_FOLDER}: a new application")

        def synced(apps: dict[str, JsonObject]) -> bool:
            return NEW_FOLDER in apps and app_summary(apps[NEW_FOLDER]) == "Synced, Healthy"

        appeared = self.wait(synced, f"Application {NEW_FOLDER} Synced and Healthy")
        deployed = self._get(DEPLOYMENTS, f"team-a-{NEW_FOLDER}", "guestbook") is not None
        return Check(f"a pushed folder apps/{NEW_FOLDER} became an Application, synced into team-a-{NEW_FOLDER}",
                     appeared and deployed)

    def folder_removed(self) -> Check:
        shutil.rmtree(self.apps.work / "apps" / NEW_FOLDER)
        self.push(self.apps, f"apps/{NEW_FOLDER} removed")
        namespace = f"team-a-{NEW_FOLDER}"

        def gone(apps: dict[str, JsonObject]) -> bool:
            return NEW_FOLDER not in apps and self._get(DEPLOYMENTS, namespace, "guestbook") is None

        deleted = self.wait(gone, f"Application {NEW_FOLDER} and its Deployment deleted")
        if deleted:
            self.reporter.stage(f"Deployment guestbook in {namespace}: deleted with its Application")
        return Check("the removed folder's Application and its resources were deleted", deleted)

    def folder_removed_preserving_resources(self) -> Check:
        path = self.platform.work / APPSET_FILE
        appset = yaml.safe_load(path.read_text(encoding="utf-8"))
        appset["spec"].setdefault("syncPolicy", {})["preserveResourcesOnDeletion"] = True
        path.write_text(yaml.safe_dump(appset, sort_keys=False), encoding="utf-8")
        self.push(self.platform, f"{APPSET}: preserveResourcesOnDeletion")

        def preserving(apps: dict[str, JsonObject]) -> bool:
            live = self._get(APPLICATION_SETS, APP_NAMESPACE, APPSET) or {}
            guestbook = apps.get("guestbook") or {}
            return bool(((live.get("spec") or {}).get("syncPolicy") or {}).get("preserveResourcesOnDeletion")) and (
                not (guestbook.get("metadata") or {}).get("finalizers"))

        # The root Application syncs the ApplicationSet; the ApplicationSet controller drops the cascade finalizer.
        updated = self.wait(preserving, "the ApplicationSet synced and the guestbook's cascade finalizer dropped")
        if updated:
            self.reporter.stage(f"ApplicationSet {APPSET} now preserves resources: Application guestbook has no "
                                "cascade finalizer")
        shutil.rmtree(self.apps.work / "apps" / "guestbook")
        self.push(self.apps, "apps/guestbook removed")
        deleted = updated and self.wait(lambda apps: "guestbook" not in apps, "Application guestbook deleted")
        kept = [kind.kind for kind, name in ((DEPLOYMENTS, "guestbook"), (CONFIGMAPS, "guestbook-settings"))
                if self._get(kind, "team-a-guestbook", name) is not None]
        if deleted:
            self.reporter.stage(f"Application guestbook deleted; kept in team-a-guestbook: {', '.join(kept) or 'none'}")
        return Check("with preserveResourcesOnDeletion the removed folder's Application was deleted and its "
                     "resources kept", deleted and kept == ["Deployment", "ConfigMap"])


def run_platform_demo(reporter: Reporter, *, ready_delay: float = 0.2, dashboard_port: int | None = None) -> int:
    """The platform scenario end to end; 0 when every step happened and the controller logged no error."""
    port = free_port()
    started = time.monotonic()
    edge_holder: list[SandboxThread] = []
    with tempfile.TemporaryDirectory(prefix="rollouts-platform-demo-") as work:
        root = Path(work)
        environment = DemoEnvironment(
            root, error_rates={}, ready_delay=ready_delay, prometheus=False,
            controller_args=["--webhook-port", str(port), "--app-namespace", APP_NAMESPACE],
            namespaces=("default", APP_NAMESPACE), dashboard_port=dashboard_port,
        )
        try:
            root_manifest = build_repositories(root / "repositories")
            platform = WorkTree(root / "repositories" / "platform.git", root / "platform")
            apps = WorkTree(root / "repositories" / "apps.git", root / "apps")
            reporter.stage(f"made the platform repository {platform.url} (AppProject team-a, ApplicationSet "
                           f"{APPSET} over apps/*, podinfo per environment) and the apps repository {apps.url} "
                           "(apps/guestbook, charts/podinfo)")
            environment.start(reporter.stage)
            token = secrets.token_urlsafe(24)
            reporter.stage(f"starting a second sandbox: the cluster {EDGE.name}, which checks a bearer token")
            edge = SandboxThread(namespaces=("default",), ready_delay=ready_delay, bearer_token=token)
            edge.start()
            edge_holder.append(edge)
            environment.create(SECRETS, APP_NAMESPACE, edge_cluster_secret(edge.url, token))
            reporter.stage(f"created Secret cluster-edge in {APP_NAMESPACE} ({EDGE.secret_file}: "
                           f"argocd.argoproj.io/secret-type: cluster, name {EDGE.name}, server {edge.url}, "
                           "a bearer token)")
            root_app = yaml.safe_load(root_manifest.read_text(encoding="utf-8"))
            environment.create(APPLICATIONS, APP_NAMESPACE, root_app)
            reporter.stage(f"created Application {ROOT_APP} in {APP_NAMESPACE} (the only manifest applied by hand): "
                           "the whole platform repository, automated sync with prune and self-heal")
            demo = PlatformDemo(environment, reporter, port, platform, apps, edge)
            checks = [demo.everything_synced()]
            if checks[0].passed:
                for step in (demo.second_cluster, demo.self_heal, demo.folder_added, demo.folder_removed,
                             demo.folder_removed_preserving_resources):
                    checks.append(step())
            errors = environment.controller_errors()
            for line in errors[:10]:
                reporter.stage(f"the controller logged: {line}")
            checks.append(Check("the controller logged no error", not errors))
            for check in checks:
                reporter.stage(f"{'ok  ' if check.passed else 'FAIL'} {check.what}")
            all_expected = len(checks) == 7 and all(check.passed for check in checks)
            reporter.stage(verdict_line(all_expected))
            reporter.stage(f"the platform demo took {time.monotonic() - started:.1f} s")
            return 0 if all_expected else 1
        finally:
            reporter.close()
            environment.stop()
            for edge in edge_holder:
                edge.stop()
