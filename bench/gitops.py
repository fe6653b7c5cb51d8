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

    .venv/bin/python -m bench.gitops --apps 1000 [--samples 20]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
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
    target_lines,
    write_results,
)
from kube.resources import APPLICATIONS
from sandbox.recorder import ChangeRecorder, Resource

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


def wait_until_quiet(harness: Harness, timeout: float, quiet: float = 3.0) -> float:
    """Seconds until the controller has made no write request for ``quiet`` seconds."""
    started = time.monotonic()
    while True:
        index = harness.request_index()
        time.sleep(quiet)
        if not controller_writes(harness.requests_since(index)):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError("the controller kept writing with nothing to do")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll", type=float, default=30.0, help="the controller's --app-resync-seconds")
    args = parser.parse_args()
    report = run(args.apps, args.samples, args.poll)
    paths = write_results(f"gitops-{args.apps}", report, markdown(report))
    print("\n".join(markdown(report)))
    print(f"written: {paths[0]} {paths[1]}")


if __name__ == "__main__":
    main()
