"""What the controller benchmarks share: the sandbox with the real controller as a separate process, the fleet's
objects, the emulator's own PATCH round trip (the floor every latency is compared with), process statistics from
/proc, percentiles, and writing results with the machine's description.

Measuring points:
- **When a write happened**: `sandbox.recorder.ChangeRecorder` timestamps every stored change of Rollouts,
  VirtualServices and AnalysisRuns as the emulator stores it (in-process, no watch latency), with the object as
  stored — so a weight change is known with its value and its moment.
- **How many writes**: the emulator's request log (`emulator.requests`), every HTTP request with its verb and
  resource. The workload simulator writes over HTTP too (pods, ReplicaSet status); `controller_writes` leaves those
  out. The benchmark's own set-up writes are in-process and never appear there.
- **The controller's cost**: its peak RSS (`VmHWM` in /proc/PID/status) and CPU seconds (utime + stime in
  /proc/PID/stat), read from outside the process.
"""

from __future__ import annotations

import collections
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kube.durations import parse_duration
from kube.json_data import JsonObject
from kube.resources import ANALYSIS_RUNS, ROLLOUTS, VIRTUAL_SERVICES
from kube.timestamps import parse_time
from sandbox.cluster import SandboxThread
from sandbox.emulator.server import RequestRecord
from sandbox.recorder import Change, ChangeRecorder, Resource

REPO: Final = Path(__file__).resolve().parents[1]
RESULTS: Final = REPO / "bench" / "results"
CRD_DIR: Final = REPO / "crds"
NAMESPACE: Final = "fleet"
WRITE_VERBS: Final = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# Written over HTTP by the sandbox's workload simulator (kubelet, ReplicaSet controller), not by ours.
SIMULATOR_WRITES: Final = frozenset({("pods", None), ("pods", "status"), ("replicasets", "status"),
                                     ("deployments", "status")})
# Leader election renews its Lease every 2 s whatever the cluster holds: counted apart from the Rollouts' work.
ELECTION_RESOURCES: Final = frozenset({"leases"})
FLOOR_SAMPLES: Final = 300
# A controller that has written nothing for this long has settled (its last Events may trickle until then).
QUIET_SECONDS: Final = 3.0
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------- the machine


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, Python, OS and the date of the run."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        load = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        load = []
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Other work on the machine skews every figure; the load average at the end of the run says how much.
        "load_average_1_5_15m": load,
    }


def describe_machine(m: Mapping[str, Any]) -> str:
    load = "/".join(f"{x:g}" for x in m.get("load_average_1_5_15m") or [])
    return (f"{m['cpu_model']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['python']}, {m['platform']}; "
            f"run {m['date']}, load average {load or 'unknown'} (1/5/15 min) at the end")


# ------------------------------------------------------------------------------------------------ process stats


@dataclass(frozen=True)
class ProcessStats:
    cpu_seconds: float
    rss_mb: float
    peak_rss_mb: float


def process_stats(pid: int) -> ProcessStats:
    """CPU seconds (user + system) and resident memory, now and at its peak, of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    rss = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return ProcessStats(round(cpu, 2), round(rss, 1), round(peak, 1))


# ------------------------------------------------------------------------------------------------- statistics


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def distribution(samples: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50, p90, p99, max and mean of latencies in seconds (None without samples)."""
    if not samples:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "count": len(samples),
        "p50": round(percentile(samples, 0.50), 4),
        "p90": round(percentile(samples, 0.90), 4),
        "p99": round(percentile(samples, 0.99), 4),
        "max": round(max(samples), 4),
        "mean": round(statistics.fmean(samples), 4),
    }


# ---------------------------------------------------------------------------------------------------- requests


def controller_writes(records: Iterable[RequestRecord], *, election: bool = False) -> collections.Counter[str]:
    """The controller's write requests about Rollouts and their objects (or, with `election`, its Lease renewals),
    counted by `verb resource[/subresource]`."""
    counts: collections.Counter[str] = collections.Counter()
    for record in records:
        if record.verb not in WRITE_VERBS or (record.resource, record.subresource) in SIMULATOR_WRITES:
            continue
        if (record.resource in ELECTION_RESOURCES) != election:
            continue
        resource = record.resource + (f"/{record.subresource}" if record.subresource else "")
        counts[f"{record.verb} {resource}"] += 1
    return counts


def event_reasons(emulator: Any) -> dict[str, int]:
    """Events posted in the fleet's namespace, by reason (an Event's `count` includes its repeats)."""
    counts: collections.Counter[str] = collections.Counter()
    for event in emulator.list_objects("", "v1", "events", NAMESPACE):
        counts[str(event.get("reason", ""))] += int(event.get("count") or 1)
    return dict(counts.most_common())


# ------------------------------------------------------------------------------------------------ the objects


def weight_steps(pause: str) -> list[JsonObject]:
    """Three weight steps, each followed by a timed pause."""
    steps: list[JsonObject] = []
    for weight in (20, 50, 80):
        steps += [{"setWeight": weight}, {"pause": {"duration": pause}}]
    return steps


def fleet_objects(
    index: int,
    *,
    image: str = "app:v1",
    steps: Sequence[JsonObject],
    analysis: JsonObject | None = None,
    replicas: int = 1,
    routed: bool = True,
) -> list[tuple[Resource, JsonObject]]:
    """A canary Rollout through Istio with its two Services and VirtualService: one of the fleet (without
    ``routed``, the Rollout alone, its canary weights made by replica counts)."""
    name = rollout_name(index)
    labels = {"app": name}
    canary: JsonObject = {"steps": list(steps)}
    if routed:
        canary = {
            "canaryService": f"{name}-canary",
            "stableService": f"{name}-stable",
            "trafficRouting": {"istio": {"virtualServices": [{"name": name, "routes": ["primary"]}]}},
            **canary,
        }
    if analysis is not None:
        canary["analysis"] = analysis
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "app", "image": image}]}},
            "strategy": {"canary": canary},
        },
    }
    services = [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": f"{name}-{role}", "namespace": NAMESPACE},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
        for role in ("canary", "stable")
    ]
    virtual_service = {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"hosts": [name], "http": [{"name": "primary", "route": [
            {"destination": {"host": f"{name}-stable"}, "weight": 100},
            {"destination": {"host": f"{name}-canary"}, "weight": 0},
        ]}]},
    }
    if not routed:
        return [(ROLLOUT, rollout)]
    return [
        *((SERVICE, body) for body in services),
        (VIRTUAL_SERVICE, virtual_service),
        (ROLLOUT, rollout),
    ]


def rollout_name(index: int) -> str:
    return f"r-{index:04d}"


ROLLOUT: Final = Resource(ROLLOUTS.group, ROLLOUTS.version, ROLLOUTS.plural)
ANALYSIS_RUN: Final = Resource(ANALYSIS_RUNS.group, ANALYSIS_RUNS.version, ANALYSIS_RUNS.plural)
VIRTUAL_SERVICE: Final = Resource(VIRTUAL_SERVICES.group, "v1beta1", VIRTUAL_SERVICES.plural)
SERVICE: Final = Resource("", "v1", "services")
CONFIGMAP: Final = Resource("", "v1", "configmaps")


def canary_weight(virtual_service: Mapping[str, Any]) -> int | None:
    for route in (virtual_service.get("spec") or {}).get("http") or []:
        for destination in route.get("route") or []:
            if str((destination.get("destination") or {}).get("host", "")).endswith("-canary"):
                return int(destination.get("weight", 0))
    return None


# ------------------------------------------------------------------------------------------------ the harness


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Leader election as the benchmarks run it: on, with a lease of 30 s renewed within 20 s. The API emulator shares the
# machine's two cores with the controller (and, on the project's machine, with other work): under a burst it has
# answered a renewal after 4 s, and the default 6 s renew deadline then ended a fleet run half-way. The default
# timings' liveness is tested (tests/integration/rollouts/test_lease_under_startup_load.py) and was measured at
# 5,000 Rollouts (results/rest-5000.md); the benchmarks measure throughput and latency.
RELAXED_ELECTION: Final = ("--leader-election-lease-duration", "30s", "--leader-election-renew-deadline", "20s",
                           "--leader-election-retry-period", "2s")

# Simulated nodes hold 110 pods each, as the kubelet's default: the benchmarks' thousands of pods need a cluster
# of this size, or the pods beyond the first node's capacity stay Pending and their Rollouts and Applications never
# become Healthy.
BENCH_NODES: Final = 200


class Harness:
    """The sandbox on a thread of this process, a change recorder, and `rollouts controller` as a child process."""

    def __init__(
        self, *, controller_args: Sequence[str] = (), ready_delay: float = 0.05, nodes: int = BENCH_NODES
    ) -> None:
        self._work_dir = tempfile.TemporaryDirectory(prefix="rollouts-bench-")
        self.kubeconfig = Path(self._work_dir.name) / "kubeconfig.yaml"
        self.controller_log = Path(self._work_dir.name) / "controller.log"
        self.sandbox = SandboxThread(crd_dirs=[CRD_DIR], ready_delay=ready_delay, namespaces=("default", NAMESPACE),
                                     nodes=nodes, startup_timeout=60.0)
        self.controller_args = list(controller_args)
        self.metrics_port = free_port()
        self.controller: subprocess.Popen[bytes] | None = None
        self.recorder: ChangeRecorder | None = None

    def __enter__(self) -> Harness:
        try:
            self.sandbox.start()
            self.sandbox.write_kubeconfig(self.kubeconfig)
            self.recorder = ChangeRecorder(self.sandbox.emulator, [ROLLOUT, VIRTUAL_SERVICE, ANALYSIS_RUN])
            self.recorder.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def create_fleet(self, n: int, steps: Sequence[JsonObject]) -> None:
        """Rollouts 0 … n−1 and their objects (``fleet_objects`` with ``steps``), created in the emulator."""
        for index in range(n):
            for resource, body in fleet_objects(index, steps=steps):
                self.create(resource, body)

    def start_until_healthy(self, n: int) -> tuple[RolloutStates, float]:
        """Start the controller and wait until ``n`` Rollouts are Healthy: their states and the seconds it took."""
        assert self.recorder is not None
        self.start_controller()
        states = RolloutStates(self.recorder)
        return states, self.wait(lambda: states.count(healthy) >= n, 60 + n * 0.3, f"{n} Rollouts Healthy")

    def start_controller(self) -> None:
        command = [sys.executable, "-c", "from cli.main import main; main()", "controller",
                   "--kubeconfig", str(self.kubeconfig), "--metrics-port", str(self.metrics_port),
                   *self.controller_args]
        with self.controller_log.open("ab") as log:
            self.controller = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True)

    def stop_controller(self) -> None:
        """Stop the controller (SIGTERM: it releases its Lease), so that another can be started."""
        process, self.controller = self.controller, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def controller_stats(self) -> ProcessStats:
        assert self.controller is not None
        self.check_controller()
        return process_stats(self.controller.pid)

    def metric_sum(self, name: str) -> float:
        """The sum of every sample of one metric the controller serves (over all label sets)."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=30).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def sandbox_stats(self) -> ProcessStats:
        """This process: the emulator and the workload simulator (plus the benchmark's own light polling)."""
        return process_stats(os.getpid())

    def check_controller(self) -> None:
        if self.controller is not None and self.controller.poll() is not None:
            tail = "\n".join(self.controller_log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"the controller exited with {self.controller.returncode}:\n{tail}")

    def close(self) -> None:
        self.stop_controller()
        if self.recorder is not None:
            self.recorder.stop()
        self.sandbox.stop(timeout=30)
        self._work_dir.cleanup()

    @property
    def emulator(self) -> Any:
        return self.sandbox.emulator

    def create(self, resource: Resource, body: JsonObject) -> None:
        """In-process, so that the benchmark's own writes never count among the requests."""
        self.emulator.create_object(resource.group, resource.version, resource.plural, body, NAMESPACE)

    def set_image(self, index: int, image: str) -> None:
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}
        self.emulator.patch_object(ROLLOUT.group, ROLLOUT.version, ROLLOUT.plural, NAMESPACE, rollout_name(index),
                                   patch, patch_type="merge")

    def request_index(self) -> int:
        return len(self.emulator.requests)

    def requests_since(self, index: int) -> list[RequestRecord]:
        return list(self.emulator.requests[index:])

    def wait(self, check: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> float:
        """Poll until `check()`; returns the seconds it took."""
        started = time.monotonic()
        while not check():
            self.check_controller()
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(poll)
        return time.monotonic() - started



def controller_writing(records: Sequence[RequestRecord]) -> bool:
    """Whether the controller wrote about Rollouts and their objects (Lease renewals apart)."""
    return bool(controller_writes(records))


def controller_writing_other_than_events(records: Sequence[RequestRecord]) -> bool:
    """Whether the controller wrote anything but Events (its start-up Events may trickle for a while)."""
    return any(not request.endswith(" events") for request in controller_writes(records))


def anyone_writing(records: Sequence[RequestRecord]) -> bool:
    """Whether any client wrote, the sandbox's simulators included."""
    return any(r.verb in WRITE_VERBS for r in records)


def wait_until_quiet(harness: Harness, timeout: float, *,
                     writing: Callable[[Sequence[RequestRecord]], bool] = controller_writing,
                     quiet: float = QUIET_SECONDS,
                     failure: str = "the controller kept writing with nothing to do") -> float:
    """Seconds until ``writing`` finds nothing in ``quiet`` seconds of requests; TimeoutError(``failure``) when it
    still does after ``timeout`` seconds."""
    started = time.monotonic()
    while True:
        index = harness.request_index()
        time.sleep(quiet)
        if not writing(harness.requests_since(index)):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(failure)


@dataclass(frozen=True)
class RestWindow:
    """What the controller did through a window in which nothing changed in the cluster."""

    seconds: float
    passes: float
    before: ProcessStats
    after: ProcessStats
    records: list[RequestRecord]

    @property
    def cpu_seconds(self) -> float:
        return round(self.after.cpu_seconds - self.before.cpu_seconds, 2)

    def reads(self) -> collections.Counter[str]:
        """The read requests (get, list), counted by `verb resource`."""
        return collections.Counter(f"{r.verb} {r.resource}" for r in self.records if r.verb in ("get", "list"))


def watch_at_rest(harness: Harness, seconds: float) -> RestWindow:
    """Watch the controller for ``seconds``: its reconcile passes (its own count), its process and its requests."""
    passes_before = harness.metric_sum("rollout_reconcile_count")
    before = harness.controller_stats()
    requests_from = harness.request_index()
    time.sleep(seconds)
    after = harness.controller_stats()
    passes = harness.metric_sum("rollout_reconcile_count") - passes_before
    return RestWindow(seconds, passes, before, after, harness.requests_since(requests_from))


@dataclass
class RolloutStates:
    """The latest stored status of every Rollout, folded from the recorder (no copies, no requests)."""

    recorder: ChangeRecorder
    statuses: dict[str, JsonObject] = field(default_factory=dict)
    _index: int = 0

    def refresh(self) -> None:
        changes = self.recorder.changes_since(self._index)
        self._index += len(changes)
        for change in changes:
            if change.plural == ROLLOUT.plural and change.type != "DELETED":
                self.statuses[change.name] = change.object.get("status") or {}

    def count(self, predicate: Callable[[JsonObject], bool]) -> int:
        self.refresh()
        return sum(1 for status in self.statuses.values() if predicate(status))

    def count_named(self, predicate: Callable[[str, Mapping[str, Any]], bool]) -> int:
        """How many Rollouts' latest statuses ``predicate(name, status)`` holds for (``promoted_from``'s check)."""
        self.refresh()
        return sum(1 for name, status in self.statuses.items() if predicate(name, status))


def healthy(status: Mapping[str, Any]) -> bool:
    return status.get("phase") == "Healthy"


def promoted_from(old_hashes: Mapping[str, str]) -> Callable[[str, Mapping[str, Any]], bool]:
    def check(name: str, status: Mapping[str, Any]) -> bool:
        current = status.get("currentPodHash")
        return (status.get("phase") == "Healthy" and current is not None and current != old_hashes.get(name)
                and status.get("stableRS") == current)

    return check


# ------------------------------------------------------------------------------------------------- the floor


def start_profiler(pid: int, output: Path, gil_only: bool = False) -> subprocess.Popen[bytes]:
    """py-spy recording process ``pid`` (50 samples a second, raw stacks, ``python -m bench.profile_top`` reads them)
    into ``output`` until it gets SIGINT (``stop_profiler``); with ``gil_only`` only the thread holding the GIL is
    sampled, so a thread waiting for it counts as idle."""
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                             "--format", "raw", "--rate", "50", "--output", str(output),
                             "--nonblocking", *(["--gil"] if gil_only else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(profiler: subprocess.Popen[bytes]) -> None:
    """Stop a ``start_profiler`` recording; py-spy writes its file on SIGINT."""
    profiler.send_signal(signal.SIGINT)
    profiler.wait(60)


def measure_floor(url: str, samples: int = FLOOR_SAMPLES) -> dict[str, Any]:
    """The emulator's own PATCH round trip, sequential from this process, with the fleet loaded: what any write
    costs before the controller adds anything."""
    with httpx.Client(base_url=url, timeout=30) as http:
        path = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
        http.post(path, json={"metadata": {"name": "bench-floor"}, "data": {"n": "0"}}).raise_for_status()
        latencies: list[float] = []
        for i in range(samples + 20):
            started = time.perf_counter()
            response = http.patch(f"{path}/bench-floor", content=json.dumps({"data": {"n": str(i)}}),
                                  headers={"Content-Type": "application/merge-patch+json"})
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if i >= 20:  # the first requests warm the connection up
                latencies.append(elapsed)
        http.delete(f"{path}/bench-floor").raise_for_status()
    return {"operation": "PATCH merge-patch ConfigMap (sequential round trip)", **distribution(latencies)}


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return round(value / floor, 1)


# ---------------------------------------------------------------------------------------------------- timings


def pause_expiries(changes: Iterable[Change], steps: Sequence[JsonObject]) -> dict[str, list[tuple[int, float]]]:
    """Per Rollout, each timed pause it entered: (step index, the moment it expires: startTime + duration)."""
    found: dict[str, dict[int, float]] = collections.defaultdict(dict)
    for change in changes:
        if change.plural != ROLLOUT.plural or change.type == "DELETED":
            continue
        status = change.object.get("status") or {}
        index = status.get("currentStepIndex")
        conditions = status.get("pauseConditions") or []
        if not isinstance(index, int) or index >= len(steps) or not conditions:
            continue
        pause = steps[index].get("pause")
        start = parse_time(conditions[0].get("startTime"))
        if not isinstance(pause, dict) or pause.get("duration") is None or start is None:
            continue
        found[change.name].setdefault(index, start.timestamp() + parse_duration(pause["duration"]))
    return {name: sorted(by_step.items()) for name, by_step in found.items()}


def weight_changes(changes: Iterable[Change]) -> dict[str, list[tuple[float, int]]]:
    """Per VirtualService, every change of its canary weight: (moment stored, new weight)."""
    found: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    for change in changes:
        if change.plural != VIRTUAL_SERVICE.plural or change.type == "DELETED":
            continue
        weight = canary_weight(change.object)
        history = found[change.name]
        if weight is not None and (not history or history[-1][1] != weight):
            history.append((change.at, weight))
    return dict(found)


# ----------------------------------------------------------------------------------------------------- output


@dataclass(frozen=True)
class Target:
    """A goal: `measured` must be ≤ `limit` (or, with `at_least`, ≥)."""

    name: str
    measured: float | None
    limit: float
    unit: str = ""
    at_least: bool = False

    @property
    def met(self) -> bool:
        if self.measured is None:
            return False
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    @property
    def miss(self) -> str:
        """By how much the goal is missed ("" when met)."""
        if self.met:
            return ""
        if self.measured is None:
            return "not measured"
        over = self.limit - self.measured if self.at_least else self.measured - self.limit
        relative = f" ({over / self.limit * 100:.0f} %)" if self.limit else ""
        return f"{'short' if self.at_least else 'over'} by {over:.4g}{self.unit}{relative}"

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.name, "measured": self.measured, "limit": self.limit, "unit": self.unit,
                "comparison": ">=" if self.at_least else "<=", "met": self.met, "miss": self.miss}

    def row(self) -> list[str]:
        sign = "≥" if self.at_least else "≤"
        value = "—" if self.measured is None else f"{self.measured:g}{self.unit}"
        return [self.name, value, f"{sign} {self.limit:g}{self.unit}", "yes" if self.met else "**no**", self.miss]


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join("—" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    return lines


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    table = [list(headers)] + [["—" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in table)


def target_lines(targets: Sequence[Target]) -> list[str]:
    return markdown_table(["target", "measured", "goal", "met", "miss"], [t.row() for t in targets])


def write_results(name: str, report: dict[str, Any], markdown: Sequence[str]) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text("\n".join(markdown).rstrip() + "\n")
    return json_path, md_path
