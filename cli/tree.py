"""The text of `get rollout`: a header, then a tree of revisions, ReplicaSets, pods, AnalysisRuns and their Jobs.

Pure: a Rollout, the ReplicaSets, Pods and AnalysisRuns of its namespace (ownership is sorted out here, as Argo's
plugin does it, by ownerReference UIDs) and the time it is now go in; lines come out. The layout, icons, status
words and INFO tags are those of Argo's ``kubectl argo rollouts get rollout``, so that people and scripts used to
it read ours the same way. Colours are ANSI codes, added only when asked for and never counted in column widths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cli.phase import (
    canary_steps,
    current_set_weight,
    current_step,
    desired_replicas,
    rollout_phase,
    step_label,
)
from kube.ages import human_duration
from kube.json_data import as_int, as_json_object
from kube.timestamps import parse_time

if TYPE_CHECKING:
    from kube.json_data import JsonObject

# Tree icons, by kind.
ICON_ROLLOUT = "⟳"
ICON_REVISION = "#"
ICON_REPLICASET = "⧉"
ICON_POD = "□"
ICON_ANALYSIS_RUN = "α"
ICON_EXPERIMENT = "Σ"
ICON_JOB = "⊞"

# Status icons.
ICON_WAITING = "◷"
ICON_PROGRESSING = "◌"
ICON_WARNING = "⚠"
ICON_UNKNOWN = "?"
ICON_OK = "✔"
ICON_BAD = "✖"
ICON_PAUSED = "॥"
ICON_NEUTRAL = "•"
ICON_NONE = " "

TAG_CANARY, TAG_STABLE, TAG_ACTIVE, TAG_PREVIEW, TAG_PING, TAG_PONG = (
    "canary", "stable", "active", "preview", "ping", "pong",
)

HASH_LABEL = "rollouts-pod-template-hash"
REVISION_ANNOTATION = "rollout.argoproj.io/revision"
SCALE_DOWN_DEADLINE_ANNOTATION = "scale-down-deadline"
JOB_NAME_METADATA = "job-name"  # where the job metric provider records the Job of a measurement

RED, GREEN, YELLOW, HI_BLUE = 31, 32, 33, 94
COLORS: dict[str, int] = {
    ICON_WAITING: YELLOW,
    ICON_PROGRESSING: HI_BLUE,
    ICON_WARNING: RED,
    ICON_UNKNOWN: YELLOW,
    ICON_OK: GREEN,
    ICON_BAD: RED,
    TAG_CANARY: YELLOW,
    TAG_STABLE: GREEN,
    TAG_ACTIVE: GREEN,
    TAG_PREVIEW: HI_BLUE,
    TAG_PING: HI_BLUE,
    TAG_PONG: HI_BLUE,
    "Pending": HI_BLUE,
    "Running": HI_BLUE,
}
HEADER_LABEL_WIDTH = 17
COLUMN_GAP = 2

# Argo's plugin's icon for each status word, by the kind of object the word describes; a word a kind does not list
# gets no icon (pods' words are matched by prefix first: see pod_icon).
STATUS_ICONS: dict[str, dict[str, str]] = {
    "Rollout": {"Progressing": ICON_PROGRESSING, "Error": ICON_WARNING, "InvalidSpec": ICON_WARNING,
                "Paused": ICON_PAUSED, "Healthy": ICON_OK, "Degraded": ICON_BAD, "Unknown": ICON_UNKNOWN,
                "ScaledDown": ICON_NEUTRAL},
    "ReplicaSet": {"Progressing": ICON_PROGRESSING, "Healthy": ICON_OK, "ReplicaFailure": ICON_BAD,
                   "ScaledDown": ICON_NEUTRAL},
    "AnalysisRun": {"Successful": ICON_OK, "Inconclusive": ICON_UNKNOWN, "Failed": ICON_BAD, "Error": ICON_WARNING,
                    "Running": ICON_PROGRESSING, "Pending": ICON_WAITING},
    "Pod": {"Pending": ICON_PROGRESSING, "Terminating": ICON_PROGRESSING, "ContainerCreating": ICON_PROGRESSING,
            "Running": ICON_OK, "Completed": ICON_OK, "Failed": ICON_BAD, "InvalidImageName": ICON_BAD,
            "CrashLoopBackOff": ICON_BAD, "ImagePullBackOff": ICON_WARNING, "RegistryUnavailable": ICON_WARNING,
            "Unknown": ICON_UNKNOWN},
}


# -- small readers -----------------------------------------------------------------------------------------


def _meta(obj: JsonObject) -> dict[str, Any]:
    return as_json_object(obj.get("metadata"))


def age(created: datetime | None, now: datetime) -> str:
    return human_duration((now - created).total_seconds()) if created else "<unknown>"


def _revision(obj: JsonObject) -> int:
    return as_int(as_json_object(_meta(obj).get("annotations")).get(REVISION_ANNOTATION))


def _owned_by_rollout(rollout: JsonObject, objects: Iterable[JsonObject]) -> Iterator[JsonObject]:
    """The objects the Rollout owns (none when the Rollout has no UID yet)."""
    rollout_uid = str(_meta(rollout).get("uid", ""))
    if rollout_uid:
        yield from (obj for obj in objects if _owned_by(obj, [rollout_uid]) is not None)


def _owned_by(obj: JsonObject, uids: Iterable[str]) -> str | None:
    """The UID among ``uids`` that owns ``obj``, if any."""
    wanted = set(uids)
    for reference in _meta(obj).get("ownerReferences") or []:
        uid = as_json_object(reference).get("uid")
        if uid in wanted:
            return str(uid)
    return None


# -- what the tree shows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodInfo:
    name: str
    status: str
    icon: str
    ready: str
    restarts: int
    created: datetime | None


@dataclass
class ReplicaSetInfo:
    name: str
    uid: str
    revision: int
    status: str
    icon: str
    replicas: int
    available: int
    images: list[str]
    created: datetime | None
    tags: list[str] = field(default_factory=list)
    scale_down_deadline: str = ""
    pod_hash: str = ""
    pods: list[PodInfo] = field(default_factory=list)


@dataclass(frozen=True)
class JobInfo:
    name: str
    status: str
    icon: str
    created: datetime | None


@dataclass(frozen=True)
class AnalysisRunInfo:
    name: str
    revision: int
    status: str
    icon: str
    successful: int
    failed: int
    inconclusive: int
    error: int
    created: datetime | None
    jobs: list[JobInfo]


@dataclass(frozen=True)
class ExperimentInfo:
    name: str
    revision: int
    status: str
    icon: str
    created: datetime | None


def rollout_icon(phase: str) -> str:
    return STATUS_ICONS["Rollout"].get(phase, ICON_NONE)


def analysis_icon(phase: str) -> str:
    return STATUS_ICONS["AnalysisRun"].get(phase, ICON_NONE)


def replica_set_health(replicaset: JsonObject) -> str:
    """Healthy, Progressing, ScaledDown or ReplicaFailure, as Argo's plugin words a ReplicaSet's state."""
    spec, status = as_json_object(replicaset.get("spec")), as_json_object(replicaset.get("status"))
    if as_int(_meta(replicaset).get("generation")) > as_int(status.get("observedGeneration")):
        return "Progressing"  # the ReplicaSet controller has not caught up with its spec yet
    for condition in status.get("conditions") or []:
        condition = as_json_object(condition)
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return "ReplicaFailure"
    wanted = spec.get("replicas")
    if wanted is not None and as_int(status.get("availableReplicas")) < as_int(wanted):
        return "Progressing"
    if wanted is not None and as_int(wanted) == 0:
        return "ScaledDown"
    return "Healthy"


def replica_set_icon(status: str) -> str:
    return STATUS_ICONS["ReplicaSet"].get(status, ICON_NONE)


def pod_status(pod: JsonObject) -> tuple[str, str, int]:
    """(status word, ready "n/m", restarts) the way `kubectl get pods` words a pod's STATUS column."""
    spec, status = as_json_object(pod.get("spec")), as_json_object(pod.get("status"))
    reason = str(status.get("reason") or status.get("phase") or "")
    restarts = 0
    initializing = False
    init_containers = spec.get("initContainers") or []
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        container = as_json_object(container)
        restarts += as_int(container.get("restartCount"))
        state = as_json_object(container.get("state"))
        terminated, waiting = state.get("terminated"), as_json_object(state.get("waiting"))
        if terminated is not None and as_int(as_json_object(terminated).get("exitCode")) == 0:
            continue
        if terminated is not None:
            terminated = as_json_object(terminated)
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif as_int(terminated.get("signal")):
                reason = f"Init:Signal:{as_int(terminated['signal'])}"
            else:
                reason = f"Init:ExitCode:{as_int(terminated.get('exitCode'))}"
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{len(init_containers)}"
        initializing = True
        break
    ready = 0
    if not initializing:
        restarts = 0
        running = False
        for container in reversed(status.get("containerStatuses") or []):
            container = as_json_object(container)
            restarts += as_int(container.get("restartCount"))
            state = as_json_object(container.get("state"))
            terminated, waiting = state.get("terminated"), as_json_object(state.get("waiting"))
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None and as_json_object(terminated).get("reason"):
                reason = str(as_json_object(terminated)["reason"])
            elif terminated is not None:
                signal = as_int(as_json_object(terminated).get("signal"))
                exit_code = as_int(as_json_object(terminated).get("exitCode"))
                reason = f"Signal:{signal}" if signal else f"ExitCode:{exit_code}"
            elif container.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            reason = "Running"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason, f"{ready}/{len(spec.get('containers') or [])}", restarts


def pod_icon(status: str) -> str:
    if status.startswith("Init:"):
        return ICON_PROGRESSING
    if status.startswith(("Signal:", "ExitCode:")):
        return ICON_BAD
    if status.endswith("Error") or status.startswith("Err"):
        return ICON_WARNING
    return STATUS_ICONS["Pod"].get(status, ICON_NONE)


def _replica_set_tags(rollout: JsonObject, pod_hash: str | None) -> list[str]:
    """stable/canary/active/preview/ping/pong, in the order Argo prints them."""
    if not pod_hash:
        return []
    strategy = as_json_object(as_json_object(rollout.get("spec")).get("strategy"))
    status = as_json_object(rollout.get("status"))
    stable, canary, active, preview = False, False, False, False
    ping, pong = False, False
    if "canary" in strategy:
        ping_pong = bool(as_json_object(strategy["canary"]).get("pingPong"))
        stable_is_ping = as_json_object(status.get("canary")).get("stablePingPong") == "ping"
        if status.get("stableRS") == pod_hash:
            stable = True
            ping, pong = ping_pong and stable_is_ping, ping_pong and not stable_is_ping
        elif status.get("currentPodHash") == pod_hash:
            canary = True
            ping, pong = ping_pong and not stable_is_ping, ping_pong and stable_is_ping
    if "blueGreen" in strategy:
        stable = status.get("stableRS") == pod_hash
        blue_green = as_json_object(status.get("blueGreen"))
        active = blue_green.get("activeSelector") == pod_hash
        preview = not active and blue_green.get("previewSelector") == pod_hash
    flags = (
        (stable, TAG_STABLE), (canary, TAG_CANARY), (active, TAG_ACTIVE),
        (preview, TAG_PREVIEW), (ping, TAG_PING), (pong, TAG_PONG),
    )
    return [tag for on, tag in flags if on]


def replica_set_infos(
    rollout: JsonObject, replicasets: Sequence[JsonObject], pods: Sequence[JsonObject]
) -> list[ReplicaSetInfo]:
    """The rollout's ReplicaSets with their pods, newest revision first."""
    infos: list[ReplicaSetInfo] = []
    for replicaset in _owned_by_rollout(rollout, replicasets):
        meta = _meta(replicaset)
        labels, annotations = as_json_object(meta.get("labels")), as_json_object(meta.get("annotations"))
        status = replica_set_health(replicaset)
        template = as_json_object(as_json_object(replicaset.get("spec")).get("template"))
        template_spec = as_json_object(template.get("spec"))
        infos.append(
            ReplicaSetInfo(
                name=str(meta.get("name", "")),
                uid=str(meta.get("uid", "")),
                revision=_revision(replicaset),
                status=status,
                icon=replica_set_icon(status),
                replicas=as_int(as_json_object(replicaset.get("status")).get("replicas")),
                available=as_int(as_json_object(replicaset.get("status")).get("availableReplicas")),
                images=[str(as_json_object(c).get("image", "")) for c in template_spec.get("containers") or []],
                created=parse_time(meta.get("creationTimestamp")),
                tags=_replica_set_tags(rollout, labels.get(HASH_LABEL)),
                scale_down_deadline=str(annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION) or ""),
                pod_hash=str(labels.get(HASH_LABEL) or ""),
            )
        )
    infos.sort(key=lambda info: (-info.revision, info.name))
    by_uid = {info.uid: info for info in infos}
    for pod in pods:
        owner = _owned_by(pod, by_uid)
        if owner is None:
            continue
        meta = _meta(pod)
        word, ready, restarts = pod_status(pod)
        by_uid[owner].pods.append(
            PodInfo(str(meta.get("name", "")), word, pod_icon(word), ready, restarts,
                    parse_time(meta.get("creationTimestamp")))
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    for info in infos:
        info.pods.sort(key=lambda pod: (pod.created or epoch, pod.name))
    return infos


def analysis_run_phase(run: JsonObject) -> str:
    """The run's phase; Pending until the analysis controller first writes one (Go leaves it "")."""
    return str(as_json_object(run.get("status")).get("phase") or "Pending")


def measurement_counts(run: JsonObject) -> dict[str, int]:
    """Measurements by outcome across the run's metrics, from the counters the runner keeps (which, unlike the
    list of measurements, still count the ones trimmed by measurementRetention)."""
    totals = {"successful": 0, "failed": 0, "inconclusive": 0, "error": 0}
    for result in as_json_object(run.get("status")).get("metricResults") or []:
        for key in totals:
            totals[key] += as_int(as_json_object(result).get(key))
    return totals


def count_cells(counts: dict[str, int]) -> list[Cell]:
    """``✔ 4``, ``✖ 1``, ``? 1``, ``⚠ 1`` for the non-zero counts, in Argo's order."""
    return [
        Cell.of(_colored(icon), f" {counts[key]}")
        for icon, key in ((ICON_OK, "successful"), (ICON_BAD, "failed"), (ICON_UNKNOWN, "inconclusive"),
                          (ICON_WARNING, "error"))
        if counts.get(key, 0) > 0
    ]


def _run_revision(run: JsonObject, revision_by_hash: dict[str, int]) -> int:
    """The revision a run belongs to: its revision annotation, as Argo reads it; failing that, the revision of the
    ReplicaSet whose pod-template hash it is labelled with, so that a run without the annotation still sits with
    the ReplicaSet it analysed instead of under a "revision:0" of its own."""
    revision = _revision(run)
    if revision:
        return revision
    pod_hash = as_json_object(_meta(run).get("labels")).get(HASH_LABEL)
    return revision_by_hash.get(str(pod_hash), 0) if pod_hash else 0


def analysis_run_infos(
    rollout: JsonObject, runs: Sequence[JsonObject], replicasets: Sequence[ReplicaSetInfo] = ()
) -> list[AnalysisRunInfo]:
    """The rollout's AnalysisRuns with the Jobs their measurements ran, newest revision first."""
    revision_by_hash = {info.pod_hash: info.revision for info in replicasets if info.pod_hash}
    infos: list[AnalysisRunInfo] = []
    for run in _owned_by_rollout(rollout, runs):
        status = as_json_object(run.get("status"))
        jobs: list[JobInfo] = []
        for result in status.get("metricResults") or []:
            for measurement in as_json_object(result).get("measurements") or []:
                measurement = as_json_object(measurement)
                job_name = as_json_object(measurement.get("metadata")).get(JOB_NAME_METADATA)
                if job_name:
                    phase = str(measurement.get("phase") or "Pending")
                    jobs.append(JobInfo(str(job_name), phase, analysis_icon(phase),
                                        parse_time(measurement.get("startedAt"))))
        phase = analysis_run_phase(run)
        meta = _meta(run)
        infos.append(
            AnalysisRunInfo(
                name=str(meta.get("name", "")),
                revision=_run_revision(run, revision_by_hash),
                status=phase,
                icon=analysis_icon(phase),
                created=parse_time(meta.get("creationTimestamp")),
                jobs=jobs,
                **measurement_counts(run),
            )
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    # Newest revision first, then oldest run first; Argo breaks the last tie by name, descending.
    infos.sort(key=lambda info: info.name, reverse=True)
    infos.sort(key=lambda info: (-info.revision, info.created or epoch))
    return infos


def experiment_infos(rollout: JsonObject, experiments: Sequence[JsonObject]) -> list[ExperimentInfo]:
    """The rollout's Experiments (its experiment steps'), newest revision first, then oldest first."""
    infos: list[ExperimentInfo] = []
    for experiment in _owned_by_rollout(rollout, experiments):
        meta = _meta(experiment)
        phase = str(as_json_object(experiment.get("status")).get("phase") or "Pending")
        infos.append(ExperimentInfo(str(meta.get("name", "")), _revision(experiment), phase, analysis_icon(phase),
                                    parse_time(meta.get("creationTimestamp"))))
    epoch = datetime.min.replace(tzinfo=UTC)
    infos.sort(key=lambda info: (-info.revision, info.created or epoch, info.name))
    return infos


TreeMember = ReplicaSetInfo | ExperimentInfo | AnalysisRunInfo
"""What a revision's branch of the tree holds."""


@dataclass(frozen=True)
class RolloutFamily:
    """What the tree shows under a Rollout, each object read into what its rows need."""

    replica_sets: Sequence[ReplicaSetInfo]
    analysis_runs: Sequence[AnalysisRunInfo]
    experiments: Sequence[ExperimentInfo] = ()

    def members(self) -> list[TreeMember]:
        """Every member, in the order a branch lists them: ReplicaSets, then Experiments, then AnalysisRuns."""
        return [*self.replica_sets, *self.experiments, *self.analysis_runs]

    def revisions(self) -> list[int]:
        """Every revision that has a member, newest first: a branch of the tree each."""
        return sorted({member.revision for member in self.members()}, reverse=True)

    def of_revision(self, revision: int) -> list[TreeMember]:
        """One revision's members, in the order its branch lists them."""
        return [member for member in self.members() if member.revision == revision]


# -- text ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Table text as (text, colour) segments, so that colour codes never count toward a column's width."""

    segments: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def of(cls, *segments: tuple[str, int | None] | str) -> Cell:
        return cls(tuple((s, None) if isinstance(s, str) else s for s in segments))

    @property
    def width(self) -> int:
        return sum(len(text) for text, _ in self.segments)

    def render(self, color: bool) -> str:
        return "".join(paint(text, code, color) for text, code in self.segments)


def paint(text: str, code: int | None, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code and text else text


def _colored(word: str) -> tuple[str, int | None]:
    return word, COLORS.get(word)


def _status_cell(icon: str, status: str) -> Cell:
    return Cell.of(_colored(icon), " " + status)


def _joined(cells: Sequence[Cell], separator: str = ",") -> Cell:
    segments: list[tuple[str, int | None]] = []
    for index, cell in enumerate(cells):
        if index:
            segments.append((separator, None))
        segments.extend(cell.segments)
    return Cell(tuple(segments))


def _prefixes(is_last: bool, sub_prefix: str) -> tuple[str, str]:
    """The branch for a child, and the indentation under it for the child's own children."""
    return (sub_prefix + "└──", sub_prefix + "   ") if is_last else (sub_prefix + "├──", sub_prefix + "│  ")


def align(rows: Sequence[Sequence[Cell]], color: bool) -> list[str]:
    """Columns padded to their widest cell plus a gap; the last column is left ragged; no trailing spaces."""
    columns = max((len(row) for row in rows), default=0)
    widths = [max((row[i].width for row in rows if i < len(row)), default=0) for i in range(columns - 1)]
    lines = []
    for row in rows:
        parts = []
        for index, cell in enumerate(row):
            parts.append(cell.render(color))
            if index < len(row) - 1:
                parts.append(" " * (widths[index] - cell.width + COLUMN_GAP))
        lines.append("".join(parts).rstrip(" "))
    return lines


def _images(replicasets: Sequence[ReplicaSetInfo]) -> list[tuple[str, list[str]]]:
    """Running images and their tags: sorted by image; an image in several ReplicaSets gets the sorted union."""
    images: dict[str, list[str]] = {}
    for info in replicasets:
        if info.replicas <= 0:
            continue
        for image in info.images:
            images[image] = sorted(set(images[image]) | set(info.tags)) if image in images else list(info.tags)
    return sorted(images.items())


def actual_weight(rollout: JsonObject, replicasets: Sequence[ReplicaSetInfo]) -> str:
    """Traffic the canary gets now: the router's weight, else its share of available pods (no router)."""
    status = as_json_object(rollout.get("status"))
    if current_step(rollout) is None:
        return "100"
    available = as_int(status.get("availableReplicas"))
    if available <= 0:
        return "0"
    canary = as_json_object(as_json_object(as_json_object(rollout.get("spec")).get("strategy")).get("canary"))
    if not canary.get("trafficRouting"):
        weight = "0"
        for info in replicasets:
            if TAG_CANARY in info.tags:
                weight = str(info.available * 100 // available)
        return weight
    weights = as_json_object(as_json_object(status.get("canary")).get("weights"))
    if weights:
        return str(as_int(as_json_object(weights.get("canary")).get("weight")))
    return str(current_set_weight(rollout))


def strategy_name(rollout: JsonObject) -> str:
    strategy = as_json_object(as_json_object(rollout.get("spec")).get("strategy"))
    if "canary" in strategy:
        return "Canary"
    if "blueGreen" in strategy:
        return "BlueGreen"
    return ""


def render_rollout(
    rollout: JsonObject,
    replicasets: Sequence[JsonObject],
    pods: Sequence[JsonObject],
    analysis_runs: Sequence[JsonObject],
    now: datetime,
    *,
    color: bool = False,
    experiments: Sequence[JsonObject] = (),
) -> list[str]:
    """Every line `get rollout` prints: the header, a blank line, then the tree."""
    rs_infos = replica_set_infos(rollout, replicasets, pods)
    family = RolloutFamily(
        rs_infos, analysis_run_infos(rollout, analysis_runs, rs_infos), experiment_infos(rollout, experiments)
    )
    return [*render_header(rollout, rs_infos, color=color), "", *render_tree(rollout, family, now, color=color)]


def render_header(rollout: JsonObject, rs_infos: Sequence[ReplicaSetInfo], *, color: bool = False) -> list[str]:
    meta, spec, status = _meta(rollout), as_json_object(rollout.get("spec")), as_json_object(rollout.get("status"))
    phase, message = rollout_phase(rollout)
    line = header_line
    lines = [
        line("Name:", meta.get("name", "")),
        line("Namespace:", meta.get("namespace", "")),
        line("Status:", _status_cell(rollout_icon(phase), phase).render(color)),
    ]
    if message:
        lines.append(line("Message:", message))
    strategy = strategy_name(rollout)
    lines.append(line("Strategy:", strategy))
    if canary_steps(rollout) is not None:
        lines.append(line("  Step:", step_label(rollout)))
        lines.append(line("  SetWeight:", current_set_weight(rollout)))
        lines.append(line("  ActualWeight:", actual_weight(rollout, rs_infos)))
    for index, (image, tags) in enumerate(_images(rs_infos)):
        text = image
        if tags:
            text += " (" + _joined([Cell.of(_colored(tag)) for tag in tags], ", ").render(color) + ")"
        lines.append(line("Images:" if index == 0 else "", text))
    lines.append("Replicas:")
    lines.append(line("  Desired:", desired_replicas(spec)))
    for label, key in (("Current", "replicas"), ("Updated", "updatedReplicas"), ("Ready", "readyReplicas"),
                       ("Available", "availableReplicas")):
        lines.append(line(f"  {label}:", as_int(status.get(key))))
    return lines


def header_line(label: str, value: object, width: int = HEADER_LABEL_WIDTH) -> str:
    """``Label:          value``. A value is never cut: one of several lines (an abort message quoting a query or
    a provider's error) continues under the first, aligned with it, so the whole reason stays readable."""
    lines = str(value).splitlines() or [""]
    first = f"{label:<{width}}{lines[0]}".rstrip(" ")
    rest = [f"{'':<{width}}{text}".rstrip(" ") for text in lines[1:]]
    return "\n".join([first, *rest])


def scale_down_delay(deadline: str, now: datetime) -> str:
    """Time left before a ReplicaSet kept for a scale-down delay goes: ``3h59m``, or ``passed``."""
    when = parse_time(deadline)
    if when is None:
        return ""
    if when < now:
        return "passed"
    return human_duration((when - now).total_seconds())


def render_tree(rollout: JsonObject, family: RolloutFamily, now: datetime, *, color: bool = False) -> list[str]:
    """The tree of `get rollout`: the Rollout, a branch per revision, and under each its members."""
    phase, _ = rollout_phase(rollout)
    meta = _meta(rollout)
    rows: list[list[Cell]] = [
        [Cell.of("NAME"), Cell.of("KIND"), Cell.of("STATUS"), Cell.of("AGE"), Cell.of("INFO")],
        _tree_row(Cell.of(f"{ICON_ROLLOUT} {meta.get('name', '')}"), "Rollout", rollout_icon(phase), phase,
                  parse_time(meta.get("creationTimestamp")), now),
    ]
    revisions = family.revisions()
    for index, revision in enumerate(revisions):
        prefix, sub_prefix = _prefixes(index == len(revisions) - 1, "")
        rows.append([Cell.of(f"{prefix}{ICON_REVISION} revision:{revision}"), Cell(), Cell.of(" "), Cell(), Cell()])
        children = family.of_revision(revision)
        for position, child in enumerate(children):
            child_prefix, child_sub_prefix = _prefixes(position == len(children) - 1, sub_prefix)
            if isinstance(child, ReplicaSetInfo):
                rows.extend(_replica_set_rows(child, child_prefix, child_sub_prefix, now))
            elif isinstance(child, ExperimentInfo):
                name = Cell.of(f"{child_prefix}{ICON_EXPERIMENT} ", (child.name, COLORS.get(child.status)))
                rows.append(_tree_row(name, "Experiment", child.icon, child.status, child.created, now))
            else:
                rows.extend(_analysis_run_rows(child, child_prefix, child_sub_prefix, now))
    return align(rows, color)


def _tree_row(
    name: Cell, kind: str, icon: str, status: str, created: datetime | None, now: datetime, info: Cell | None = None
) -> list[Cell]:
    """One line of the tree: NAME KIND STATUS AGE INFO."""
    info_cell = info if info is not None else Cell()
    return [name, Cell.of(kind), _status_cell(icon, status), Cell.of(age(created, now)), info_cell]


def _replica_set_rows(info: ReplicaSetInfo, prefix: str, sub_prefix: str, now: datetime) -> list[list[Cell]]:
    details = [Cell.of(_colored(tag)) for tag in info.tags]
    if info.scale_down_deadline:
        details.append(Cell.of(f"delay:{scale_down_delay(info.scale_down_deadline, now)}"))
    name_color = COLORS.get(info.tags[0]) if info.tags else None
    rows = [_tree_row(Cell.of(f"{prefix}{ICON_REPLICASET} ", (info.name, name_color)), "ReplicaSet", info.icon,
                      info.status, info.created, now, _joined(details))]
    for index, pod in enumerate(info.pods):
        pod_prefix, _ = _prefixes(index == len(info.pods) - 1, sub_prefix)
        pod_details = f"ready:{pod.ready}" + (f",restarts:{pod.restarts}" if pod.restarts > 0 else "")
        rows.append(_tree_row(Cell.of(f"{pod_prefix}{ICON_POD} {pod.name}"), "Pod", pod.icon, pod.status, pod.created,
                              now, Cell.of(pod_details)))
    return rows


def _analysis_run_rows(info: AnalysisRunInfo, prefix: str, sub_prefix: str, now: datetime) -> list[list[Cell]]:
    counts = count_cells({"successful": info.successful, "failed": info.failed,
                          "inconclusive": info.inconclusive, "error": info.error})
    rows = [_tree_row(Cell.of(f"{prefix}{ICON_ANALYSIS_RUN} ", (info.name, COLORS.get(info.status))), "AnalysisRun",
                      info.icon, info.status, info.created, now, _joined(counts))]
    for index, job in enumerate(info.jobs):
        job_prefix, _ = _prefixes(index == len(info.jobs) - 1, sub_prefix)
        rows.append(_tree_row(Cell.of(f"{job_prefix}{ICON_JOB} ", (job.name, COLORS.get(job.status))), "Job", job.icon,
                              job.status, job.created, now))
    return rows
