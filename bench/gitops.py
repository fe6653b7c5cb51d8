"""GitOps: the Application controller inside the real `rollouts controller` process, against the sandbox, with
local Git repositories.

Measured:
- **push → applied**: one Application of 10 ConfigMaps; a commit changes all ten, a GitHub push webhook announces
  it; the time from the webhook request to the moment the sandbox stored the last of the ten (p50/p99 over the
  samples). Goal ≤ 2 s.
- **no-op refresh of N Applications** (10 objects each, one repository, one directory rendered into N namespaces):
  once all are Synced, every Application is refreshed by the periodic poll; the controller's CPU seconds and its
  write requests over one refresh round (goals ≤ 5 CPU-s and 0 writes for N = 1,000).
- **RSS** of the controller process with the N Applications synced (goal ≤ 500 MB).

Scenario ``appset`` (issue #12): one ApplicationSet whose git directory generator reads a repository of N
directories (each a ConfigMap and a one-replica Deployment, which becomes Healthy only once the sandbox's workload
simulator has made its pod ready), with automated sync into a namespace per directory. Measured from the moment the
ApplicationSet is stored: until all N Applications exist, until all are Synced, until all are Synced and Healthy;
the controller's peak RSS (VmHWM) and CPU seconds; its write requests; the load average along the way (goals for
N = 1,000: all Synced ≤ 120 s, RSS ≤ 800 MB).

    .venv/bin/python -m bench.gitops --apps 1000 [--samples 20]
    .venv/bin/python -m bench.gitops --scenario appset --dirs 1000
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Harness,
    Target,
    controller_writes,
    describe_machine,
    distribution,
    free_port,
    machine,
    markdown_table,
    process_stats,
    target_lines,
    wait_until_quiet,
    write_results,
)
from kube.resources import APPLICATIONS
from sandbox.recorder import Change, ChangeRecorder, Resource

PUSH_TARGET_SECONDS = 2.0
REFRESH_CPU_TARGET = 5.0
REFRESH_WRITES_TARGET = 0.0
RSS_TARGET_MB = 500.0
OBJECTS_PER_APP = 10
APP_NAMESPACE = "argocd"
CONFIGMAPS = Resource("", "v1", "configmaps")
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@localhost", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "b@localhost", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


class Repository:
    def __init__(self, root: Path) -> None:
        self.bare, self.work = root / "bench.git", root / "bench"
        git("init", "-q", "--bare", "-b", "main", str(self.bare))
        git("init", "-q", "-b", "main", str(self.work))
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit_configmaps(self, path: str, version: int) -> str:
        directory = self.work / path
        directory.mkdir(parents=True, exist_ok=True)
        for index in range(OBJECTS_PER_APP):
            (directory / f"cm-{index}.yaml").write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{index}\ndata:\n  version: \"{version}\"\n")
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", f"version {version}", cwd=self.work)
        git("push", "-q", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


def application(name: str, repo_url: str, path: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": APP_NAMESPACE},
        "spec": {"project": "default",
                 "source": {"repoURL": repo_url, "targetRevision": "main", "path": path},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                "syncOptions": ["CreateNamespace=true"]}},
    }


def post_push(port: int, repo_url: str, secret: str, after: str) -> None:
    body = json.dumps({"ref": "refs/heads/main", "after": after,
                       "repository": {"clone_url": repo_url, "default_branch": "main"}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/webhook", data=body, headers={
        "X-GitHub-Event": "push", "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def children_cpu_seconds(pid: int) -> float:
    """CPU seconds of the process's finished children (cutime + cstime): the `git` commands it ran."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def synced_count(harness: Harness) -> int:
    apps = harness.emulator.list_objects(APPLICATIONS.group, APPLICATIONS.version, APPLICATIONS.plural,
                                         APP_NAMESPACE)
    return sum(1 for app in apps if ((app.get("status") or {}).get("sync") or {}).get("status") == "Synced"
               and not app.get("operation"))


def run(apps: int, samples: int, poll_seconds: float) -> dict[str, Any]:
    webhook_port = free_port()
    secret = "bench-secret"
    with tempfile.TemporaryDirectory(prefix="rollouts-bench-git-") as root, Harness(controller_args=[
        "--webhook-port", str(webhook_port), "--app-resync-seconds", f"{poll_seconds:g}",
        "--analysis-workers", "0", "--no-leader-elect",
    ]) as harness:
        harness.emulator.create_object("", "v1", "namespaces", {"metadata": {"name": APP_NAMESPACE}})
        harness.emulator.create_object("", "v1", "secrets", {
            "metadata": {"name": "argocd-secret"}, "stringData": {"webhook.github.secret": secret}}, APP_NAMESPACE)
        repo = Repository(Path(root))
        repo.commit_configmaps("push", 0)
        repo.commit_configmaps("fleet", 0)
        harness.start_controller()

        # -- push → applied ------------------------------------------------------------------------------
        harness.emulator.create_object(APPLICATIONS.group, APPLICATIONS.version, APPLICATIONS.plural,
                                       application("push", repo.url, "push", "push-target"), APP_NAMESPACE)
        harness.wait(lambda: synced_count(harness) >= 1, 120, "the push Application Synced")
        latencies: list[float] = []
        with ChangeRecorder(harness.emulator, [CONFIGMAPS]) as recorder:
            for version in range(1, samples + 1):
                after = repo.commit_configmaps("push", version)
                index = len(recorder)
                sent = time.time()
                post_push(webhook_port, repo.url, secret, after)
                seen: dict[str, float] = {}
                deadline = time.monotonic() + 60
                while len(seen) < OBJECTS_PER_APP and time.monotonic() < deadline:
                    recorder.wait(index, 0.2)
                    changes = recorder.changes_since(index)
                    index += len(changes)
                    for change in changes:
                        if change.namespace == "push-target" and (change.object.get("data") or {}).get(
                                "version") == str(version):
                            seen.setdefault(change.name, change.at)
                latencies.append(max(seen.values()) - sent if len(seen) == OBJECTS_PER_APP else float("inf"))
        push = distribution([s for s in latencies if s != float("inf")])

        # -- N Applications: initial sync, then a no-op refresh round ---------------------------------------
        started = time.monotonic()
        for index in range(apps):
            harness.emulator.create_object(APPLICATIONS.group, APPLICATIONS.version, APPLICATIONS.plural,
                                           application(f"app-{index:04d}", repo.url, "fleet", f"fleet-{index:04d}"),
                                           APP_NAMESPACE)
        harness.wait(lambda: synced_count(harness) >= apps + 1, 120 + apps * 1.5, f"{apps} Applications Synced",
                     poll=2.0)
        initial_seconds = time.monotonic() - started
        # The initial sync's Events are posted in the background and may trail it by a minute with N = 1,000.
        settle_seconds = wait_until_quiet(harness, timeout=120 + apps * 0.5)
        passes_before = harness.metric_sum("argocd_app_reconcile_count")
        before = harness.controller_stats()
        assert harness.controller is not None
        git_before = children_cpu_seconds(harness.controller.pid)
        requests_from = harness.request_index()
        # One full poll period: every Application is refreshed once (the jitter is off).
        time.sleep(poll_seconds + 5)
        after_stats = harness.controller_stats()
        git_cpu = children_cpu_seconds(harness.controller.pid) - git_before
        passes = harness.metric_sum("argocd_app_reconcile_count") - passes_before
        writes = controller_writes(harness.requests_since(requests_from))
        refresh_cpu = after_stats.cpu_seconds - before.cpu_seconds
        rss_mb = after_stats.peak_rss_mb

    targets = [
        Target("push webhook → 10 objects applied, p50", push.get("p50"), PUSH_TARGET_SECONDS, " s"),
        Target("push webhook → 10 objects applied, p99", push.get("p99"), PUSH_TARGET_SECONDS, " s"),
        Target(f"no-op refresh of {apps} Applications: controller CPU", refresh_cpu, REFRESH_CPU_TARGET, " s"),
        Target(f"no-op refresh of {apps} Applications: write requests", float(sum(writes.values())),
               REFRESH_WRITES_TARGET),
        Target(f"controller RSS with {apps} Applications", rss_mb, RSS_TARGET_MB, " MB"),
    ]
    return {
        "benchmark": "gitops",
        "applications": apps,
        "objects_per_application": OBJECTS_PER_APP,
        "push_samples": samples,
        "push_latency_seconds": push,
        "push_missed": sum(1 for s in latencies if s == float("inf")),
        "initial_sync_seconds": initial_seconds,
        "settle_seconds": settle_seconds,
        "refresh_window_seconds": poll_seconds + 5,
        "refresh_passes": passes,
        "refresh_cpu_seconds": refresh_cpu,
        "refresh_git_cpu_seconds": git_cpu,
        "refresh_writes": dict(writes),
        "peak_rss_mb": rss_mb,
        "targets": [t.as_dict() for t in targets],
        "machine": machine(),
    }


def markdown(report: dict[str, Any]) -> list[str]:
    targets = [Target(t["target"], t["measured"], t["limit"], t["unit"]) for t in report["targets"]]
    push = report["push_latency_seconds"]
    return [
        f"# GitOps: {report['applications']} Applications of {report['objects_per_application']} objects",
        "",
        describe_machine(report["machine"]),
        "",
        *target_lines(targets),
        "",
        *markdown_table(["measure", "value"], [
            ["push samples (missed)", f"{report['push_samples']} ({report['push_missed']})"],
            ["push → applied p50 / p99 / max", f"{push.get('p50')} / {push.get('p99')} / {push.get('max')} s"],
            ["initial sync of all Applications", f"{report['initial_sync_seconds']:.1f} s"],
            ["until the controller wrote nothing for 3 s (its Events trailing)", f"{report['settle_seconds']:.1f} s"],
            ["refresh window / passes counted", f"{report['refresh_window_seconds']:g} s / "
                                                f"{report['refresh_passes']:g}"],
            ["writes during the refresh round", json.dumps(report["refresh_writes"]) or "none"],
            ["CPU of the `git ls-remote` processes of the refresh round (not in the target above)",
             f"{report['refresh_git_cpu_seconds']:.2f} s"],
        ]),
    ]


# ------------------------------------------------------------------------------- scenario appset (issue #12)

APPSET_SYNCED_TARGET_SECONDS = 120.0
APPSET_RSS_TARGET_MB = 800.0
APPSET_NAME = "bench-dirs"
APPLICATION_SETS = Resource("argoproj.io", "v1alpha1", "applicationsets")
APPLICATIONS_RESOURCE = Resource(APPLICATIONS.group, APPLICATIONS.version, APPLICATIONS.plural)
APP_PROJECTS = Resource("argoproj.io", "v1alpha1", "appprojects")


def directory_app_files(name: str) -> dict[str, str]:
    """One directory of the repository: a ConfigMap and a one-replica Deployment (Healthy once its pod is)."""
    return {
        "configmap.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\n"
                          f"data:\n  app: {name}\n",
        "deployment.yaml": f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
                           f"  replicas: 1\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
                           f"    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n"
                           f"      - name: app\n        image: app:v1\n",
    }


def commit_directories(repo: Repository, dirs: int) -> str:
    """``apps/app-0000`` … in one commit, pushed; its SHA."""
    for index in range(dirs):
        name = f"app-{index:04d}"
        directory = repo.work / "apps" / name
        directory.mkdir(parents=True, exist_ok=True)
        for filename, text in directory_app_files(name).items():
            (directory / filename).write_text(text)
    git("add", "-A", cwd=repo.work)
    git("commit", "-q", "-m", f"{dirs} directories", cwd=repo.work)
    git("push", "-q", "origin", "main", cwd=repo.work)
    return git("rev-parse", "HEAD", cwd=repo.work)


def directory_application_set(repo_url: str) -> dict[str, Any]:
    """A git directory generator over ``apps/*``: one automated Application per directory, in its own namespace."""
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": APPSET_NAME, "namespace": APP_NAMESPACE},
        "spec": {
            "generators": [{"git": {"repoURL": repo_url, "revision": "main",
                                    "directories": [{"path": "apps/*"}]}}],
            "template": {
                "metadata": {"name": "{{path.basename}}"},
                "spec": {"project": "default",
                         "source": {"repoURL": repo_url, "targetRevision": "main", "path": "{{path}}"},
                         "destination": {"server": "https://kubernetes.default.svc",
                                         "namespace": "{{path.basename}}"},
                         "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                        "syncOptions": ["CreateNamespace=true"]}},
            },
        },
    }


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


class AppProgress:
    """The Applications' states folded from the recorder's changes, and the moment each milestone was reached:
    all created, all Synced, all Synced and Healthy (the stored change that completed it, wall clock)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.states: dict[str, tuple[bool, bool]] = {}  # name → (Synced, Healthy)
        self.created_at: float | None = None
        self.synced_at: float | None = None
        self.healthy_at: float | None = None

    def fold(self, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.plural != APPLICATIONS.plural:
                continue
            if change.type == "DELETED":
                self.states.pop(change.name, None)
                continue
            status = change.object.get("status") or {}
            synced = ((status.get("sync") or {}).get("status") == "Synced"
                      and not change.object.get("operation"))
            healthy = (status.get("health") or {}).get("status") == "Healthy"
            self.states[change.name] = (synced, healthy)
            if self.created_at is None and len(self.states) >= self.expected:
                self.created_at = change.at
            if self.synced_at is None and self.synced >= self.expected:
                self.synced_at = change.at
            if self.healthy_at is None and self.synced_and_healthy >= self.expected:
                self.healthy_at = change.at

    @property
    def synced(self) -> int:
        return sum(1 for synced, _ in self.states.values() if synced)

    @property
    def synced_and_healthy(self) -> int:
        return sum(1 for synced, healthy in self.states.values() if synced and healthy)


class ProcessSampler:
    """Samples a process's RSS (and the load average) on a thread, so that the peak and the course are known."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float, float]] = []  # (time.time(), RSS MB, 1-min load)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> ProcessSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.time(), process_stats(self.pid).rss_mb, load_average()[0]))
            except (OSError, ValueError, IndexError):
                return  # the process is gone
            self._stop.wait(self.every)

    def rss_at(self, moment: float | None) -> float | None:
        """The RSS sampled last before ``moment``."""
        if moment is None:
            return None
        before = [rss for at, rss, _ in self.samples if at <= moment]
        return before[-1] if before else None

    def peak_load(self) -> float | None:
        return max((load for _, _, load in self.samples), default=None)


def run_appset(dirs: int, *, timeout: float | None = None, profile: Path | None = None) -> dict[str, Any]:
    """The ApplicationSet scenario with ``dirs`` directories; the report (nothing written)."""
    timeout = timeout if timeout is not None else 120 + dirs * 0.6
    with tempfile.TemporaryDirectory(prefix="rollouts-bench-appset-") as root, Harness(controller_args=[
        "--webhook-port", str(free_port()), "--analysis-workers", "0", "--no-leader-elect",
        "--repo-cache-dir", str(Path(root) / "repo-cache"),
    ]) as harness:
        harness.emulator.create_object("", "v1", "namespaces", {"metadata": {"name": APP_NAMESPACE}})
        repo = Repository(Path(root))
        revision = commit_directories(repo, dirs)
        harness.start_controller()
        assert harness.controller is not None
        pid = harness.controller.pid
        # The Application controller creates the default AppProject once its workers run: from then on it acts.
        harness.wait(lambda: bool(harness.emulator.list_objects(APP_PROJECTS.group, APP_PROJECTS.version,
                                                                APP_PROJECTS.plural, APP_NAMESPACE)),
                     120, "the controller's workers started")
        before = harness.controller_stats()
        git_before = children_cpu_seconds(pid)
        requests_from = harness.request_index()
        load_start = load_average()
        progress = AppProgress(dirs)
        profiler = None
        if profile is not None:
            profiler = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                                         "--format", "raw", "--rate", "50", "--output", str(profile), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with ChangeRecorder(harness.emulator, [APPLICATIONS_RESOURCE]) as recorder, \
                ProcessSampler(pid) as sampler:
            started = time.time()
            harness.emulator.create_object(APPLICATION_SETS.group, APPLICATION_SETS.version,
                                           APPLICATION_SETS.plural, directory_application_set(repo.url),
                                           APP_NAMESPACE)
            index = 0
            while progress.healthy_at is None and time.time() - started < timeout:
                recorder.wait(index, 1.0)
                changes = recorder.changes_since(index)
                index += len(changes)
                progress.fold(changes)
                harness.check_controller()
        ended = time.time()
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(60)
        after = harness.controller_stats()
        git_cpu = children_cpu_seconds(pid) - git_before
        writes = controller_writes(harness.requests_since(requests_from))
        appset = harness.emulator.get_object(APPLICATION_SETS.group, APPLICATION_SETS.version,
                                             APPLICATION_SETS.plural, APP_NAMESPACE, APPSET_NAME)
        load_end = load_average()

    def since_start(moment: float | None) -> float | None:
        return None if moment is None else round(moment - started, 2)

    targets = [
        Target(f"ApplicationSet over {dirs} directories: all Applications Synced", since_start(progress.synced_at),
               APPSET_SYNCED_TARGET_SECONDS, " s"),
        Target(f"controller peak RSS with {dirs} generated Applications", after.peak_rss_mb, APPSET_RSS_TARGET_MB,
               " MB"),
    ]
    return {
        "benchmark": "gitops-appset",
        "directories": dirs,
        "revision": revision,
        "applications_created": len(progress.states),
        "applications_synced": progress.synced,
        "applications_synced_and_healthy": progress.synced_and_healthy,
        "all_created_seconds": since_start(progress.created_at),
        "all_synced_seconds": since_start(progress.synced_at),
        "all_synced_and_healthy_seconds": since_start(progress.healthy_at),
        "observed_seconds": round(ended - started, 1),
        "appset_resources_count": (appset.get("status") or {}).get("resourcesCount"),
        "controller_cpu_seconds": round(after.cpu_seconds - before.cpu_seconds, 1),
        "controller_git_cpu_seconds": round(git_cpu, 2),
        "peak_rss_mb": after.peak_rss_mb,
        "rss_at_all_created_mb": sampler.rss_at(progress.created_at),
        "rss_at_all_synced_mb": sampler.rss_at(progress.synced_at),
        "controller_writes": dict(writes.most_common()),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "peak_1min_load": sampler.peak_load(),
        "targets": [t.as_dict() for t in targets],
        "machine": machine(),
    }


def appset_markdown(report: dict[str, Any], command: str) -> list[str]:
    targets = [Target(t["target"], t["measured"], t["limit"], t["unit"]) for t in report["targets"]]

    def seconds(value: float | None) -> str:
        return "not reached" if value is None else f"{value:.1f} s"

    load = "/".join(f"{x:g}" for x in report["load_average_start"])
    return [
        f"# GitOps: one ApplicationSet over {report['directories']} directories",
        "",
        f"`{command}`",
        "",
        describe_machine(report["machine"]),
        f"(load average {load} at the start; peak 1-min load while it ran {report['peak_1min_load']})",
        "",
        *target_lines(targets),
        "",
        *markdown_table(["measure", "value"], [
            ["Applications created / Synced / Synced and Healthy",
             f"{report['applications_created']} / {report['applications_synced']} / "
             f"{report['applications_synced_and_healthy']}"],
            ["ApplicationSet stored → all Applications created", seconds(report["all_created_seconds"])],
            ["ApplicationSet stored → all Synced", seconds(report["all_synced_seconds"])],
            ["ApplicationSet stored → all Synced and Healthy", seconds(report["all_synced_and_healthy_seconds"])],
            ["ApplicationSet status.resourcesCount", report["appset_resources_count"]],
            ["controller CPU seconds (its `git` children apart)",
             f"{report['controller_cpu_seconds']} s ({report['controller_git_cpu_seconds']} s)"],
            ["controller RSS at all created / at all Synced / peak (VmHWM)",
             f"{report['rss_at_all_created_mb']} / {report['rss_at_all_synced_mb']} / {report['peak_rss_mb']} MB"],
            ["controller write requests", json.dumps(report["controller_writes"])],
        ]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("apps", "appset"), default="apps",
                        help="apps: N Applications and a push webhook; appset: one ApplicationSet over N directories")
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll", type=float, default=30.0, help="the controller's --app-resync-seconds")
    parser.add_argument("--dirs", type=int, default=1000, help="directories of the appset scenario")
    parser.add_argument("--profile", type=Path, help="appset: record the controller with py-spy (raw) into this file")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()
    if args.scenario == "appset":
        command = f"python -m bench.gitops --scenario appset --dirs {args.dirs}"
        report = run_appset(args.dirs, profile=args.profile)
        lines = appset_markdown(report, command)
        name = f"gitops-appset-{args.dirs}"
    else:
        report = run(args.apps, args.samples, args.poll)
        lines = markdown(report)
        name = f"gitops-{args.apps}"
    print("\n".join(lines))
    if not args.no_write:
        paths = write_results(name, report, lines)
        print(f"written: {paths[0]} {paths[1]}")


if __name__ == "__main__":
    main()
