"""The columns ``kubectl get`` shows for built-in kinds, computed as the API server's printers compute them.

A real API server renders tables server-side with every column (``priority`` 1 are the ``-o wide`` ones) and
kubectl hides the wide ones unless asked. Each printer here is a pure function of the object and ``now``.
Kinds without a printer get NAME and AGE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kube.ages import age, human_duration
from kube.timestamps import parse_time

NONE = "<none>"


@dataclass(frozen=True, slots=True)
class Column:
    """One ``TableColumnDefinition``."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "format": self.format, "description": self.description,
                "priority": self.priority}


NAME_COLUMN = Column("Name", "string", "name", "Name must be unique within a namespace.")
AGE_COLUMN = Column("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when"
                                         " this object was created.")

Cells = list[Any]
Printer = Callable[[Mapping[str, Any], datetime], Cells]


@dataclass(frozen=True, slots=True)
class BuiltinPrinter:
    columns: tuple[Column, ...]
    cells: Printer


def _named_and_aged(cells: Printer, columns: tuple[Column, ...], *, wide: tuple[Column, ...] = ()) -> BuiltinPrinter:
    """The layout of most kinds: NAME, the kind's ``columns``, AGE, then the ``wide`` ones (priority 1, shown by
    ``-o wide``); ``cells`` gives the cells in that order."""
    return BuiltinPrinter((NAME_COLUMN, *columns, AGE_COLUMN, *(replace(c, priority=1) for c in wide)), cells)


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    value: Any = obj
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _name(obj: Mapping[str, Any]) -> str:
    return str(_get(obj, "metadata", "name") or "")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(_get(obj, "metadata", "creationTimestamp"), now)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _containers_and_images(template_spec: Any) -> list[str]:
    containers = [c for c in _list(_get(_dict(template_spec), "containers")) if isinstance(c, dict)]
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return [names, images]


def format_selector(selector: Any) -> str:
    """A LabelSelector as ``kubectl`` prints it (``app=web,tier in (a,b)``), ``<none>`` when empty."""
    selector = _dict(selector)
    parts = [f"{k}={v}" for k, v in sorted(_dict(selector.get("matchLabels")).items())]
    for expression in _list(selector.get("matchExpressions")):
        expression = _dict(expression)
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(str(v) for v in sorted(_list(expression.get("values"))))
        if operator == "In":
            parts.append(f"{key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif operator == "Exists":
            parts.append(str(key))
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or NONE


def _map_selector(labels: Any) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(_dict(labels).items())) or NONE


# --------------------------------------------------------------------------------------------------- pods

def pod_status(pod: Mapping[str, Any]) -> str:
    """The STATUS column of a Pod: the phase, refined by the containers' waiting/terminated reasons."""
    status = _dict(pod.get("status"))
    reason = str(status.get("reason") or status.get("phase") or "")
    initializing = False
    init_specs = _list(_get(pod, "spec", "initContainers"))
    for index, container in enumerate(_list(status.get("initContainerStatuses"))):
        state = _dict(_dict(container).get("state"))
        terminated, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
        if terminated and _int(terminated.get("exitCode")) == 0:
            continue
        if terminated:
            reason = "Init:" + str(terminated.get("reason") or f"ExitCode:{_int(terminated.get('exitCode'))}")
        elif waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for container in reversed(_list(status.get("containerStatuses"))):
            container = _dict(container)
            state = _dict(container.get("state"))
            terminated, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated.get("reason"):
                reason = str(terminated["reason"])
            elif terminated:
                signal = _int(terminated.get("signal"))
                reason = f"Signal:{signal}" if signal else f"ExitCode:{_int(terminated.get('exitCode'))}"
            elif state.get("running") and container.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            ready = any(_dict(c).get("type") == "Ready" and _dict(c).get("status") == "True"
                        for c in _list(status.get("conditions")))
            reason = "Running" if ready else "NotReady"
    if _get(pod, "metadata", "deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_cells(pod: Mapping[str, Any], now: datetime) -> Cells:
    status = _dict(pod.get("status"))
    statuses = [_dict(c) for c in _list(status.get("containerStatuses"))]
    total = len(_list(_get(pod, "spec", "containers")))
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(_int(c.get("restartCount")) for c in statuses)
    last_restart: datetime | None = None
    for container in statuses:
        finished = parse_time(_get(container, "lastState", "terminated", "finishedAt"))
        if finished is not None and (last_restart is None or finished > last_restart):
            last_restart = finished
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    gates = _list(_get(pod, "spec", "readinessGates"))
    gates_text = NONE
    if gates:
        conditions = {_dict(c).get("type"): _dict(c).get("status") for c in _list(status.get("conditions"))}
        passing = sum(1 for g in gates if conditions.get(_dict(g).get("conditionType")) == "True")
        gates_text = f"{passing}/{len(gates)}"
    return [_name(pod), f"{ready}/{total}", pod_status(pod), restarts_text, _age(pod, now),
            status.get("podIP") or NONE, _get(pod, "spec", "nodeName") or NONE,
            status.get("nominatedNodeName") or NONE, gates_text]


_POD = _named_and_aged(_pod_cells, (
    Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", description="The aggregate status of the containers in this pod."),
    Column("Restarts", description="The number of times the containers in this pod have been restarted and"
                                   " when the last container in this pod has restarted."),
), wide=(
    Column("IP", description="IP address allocated to the pod."),
    Column("Node", description="Name of the node where the pod is running."),
    Column("Nominated Node", description="Name of the node the pod is nominated to."),
    Column("Readiness Gates", description="Readiness gates of the pod."),
))

# ---------------------------------------------------------------------------------------------- workloads

_CONTAINERS = Column("Containers", description="Names of each container in the template.")
_IMAGES = Column("Images", description="Images referenced by each container in the template.")
_SELECTOR = Column("Selector", description="The label selector.")


def _deployment_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    status = _dict(obj.get("status"))
    desired = _int(_get(obj, "spec", "replicas"))
    return [_name(obj), f"{_int(status.get('readyReplicas'))}/{desired}", _int(status.get("updatedReplicas")),
            _int(status.get("availableReplicas")), _age(obj, now),
            *_containers_and_images(_get(obj, "spec", "template", "spec")),
            format_selector(_get(obj, "spec", "selector"))]


_DEPLOYMENT = _named_and_aged(_deployment_cells, (
    Column("Ready", description="Number of the pod with ready state"),
    Column("Up-to-date", "integer", description="Total number of non-terminated pods targeted by this"
                                                " deployment that have the desired template spec."),
    Column("Available", "integer", description="Total number of available pods (ready for at least"
                                               " minReadySeconds) targeted by this deployment."),
), wide=(_CONTAINERS, _IMAGES, _SELECTOR))


def _replicaset_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    status = _dict(obj.get("status"))
    return [_name(obj), _int(_get(obj, "spec", "replicas")), _int(status.get("replicas")),
            _int(status.get("readyReplicas")), _age(obj, now),
            *_containers_and_images(_get(obj, "spec", "template", "spec")),
            format_selector(_get(obj, "spec", "selector"))]


_REPLICASET = _named_and_aged(_replicaset_cells, (
    Column("Desired", "integer", description="Replicas is the number of desired replicas."),
    Column("Current", "integer", description="Replicas is the most recently observed number of replicas."),
    Column("Ready", "integer", description="The number of ready replicas for this replica set."),
), wide=(_CONTAINERS, _IMAGES, _SELECTOR))


def _statefulset_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    ready = _int(_get(obj, "status", "readyReplicas"))
    return [_name(obj), f"{ready}/{_int(_get(obj, 'spec', 'replicas'))}", _age(obj, now),
            *_containers_and_images(_get(obj, "spec", "template", "spec"))]


_STATEFULSET = _named_and_aged(_statefulset_cells, (
    Column("Ready", description="Number of the pod with ready state"),
), wide=(_CONTAINERS, _IMAGES))


def _daemonset_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    status = _dict(obj.get("status"))
    return [_name(obj), _int(status.get("desiredNumberScheduled")), _int(status.get("currentNumberScheduled")),
            _int(status.get("numberReady")), _int(status.get("updatedNumberScheduled")),
            _int(status.get("numberAvailable")),
            _map_selector(_get(obj, "spec", "template", "spec", "nodeSelector")), _age(obj, now),
            *_containers_and_images(_get(obj, "spec", "template", "spec")),
            format_selector(_get(obj, "spec", "selector"))]


_DAEMONSET = _named_and_aged(_daemonset_cells, (
    Column("Desired", "integer", description="The total number of nodes that should be running the daemon"
                                             " pod."),
    Column("Current", "integer", description="The number of nodes that are running at least 1 daemon pod."),
    Column("Ready", "integer", description="The number of nodes that should be running the daemon pod and"
                                           " have one or more of the daemon pod running and ready."),
    Column("Up-to-date", "integer", description="The total number of nodes that are running updated daemon"
                                                " pod"),
    Column("Available", "integer", description="The number of nodes that should be running the daemon pod"
                                               " and have one or more of the daemon pod running and available."),
    Column("Node Selector", description="NodeSelector is a selector which must be true for the pod to fit on"
                                        " a node."),
), wide=(_CONTAINERS, _IMAGES, _SELECTOR))


def _has_condition(obj: Mapping[str, Any], kind: str) -> bool:
    return any(_dict(c).get("type") == kind and _dict(c).get("status") == "True"
               for c in _list(_get(obj, "status", "conditions")))


def job_status(job: Mapping[str, Any]) -> str:
    """The STATUS column of a Job (kubectl 1.30+): its terminal or suspended condition, else Running."""
    if _has_condition(job, "Complete"):
        return "Complete"
    if _has_condition(job, "Failed"):
        return "Failed"
    if _get(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    for condition in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(job, condition):
            return condition
    return "Running"


def _job_cells(job: Mapping[str, Any], now: datetime) -> Cells:
    spec, status = _dict(job.get("spec")), _dict(job.get("status"))
    succeeded = _int(status.get("succeeded"))
    completions = spec.get("completions")
    parallelism = _int(spec.get("parallelism"))
    if isinstance(completions, int):
        completions_text = f"{succeeded}/{completions}"
    elif parallelism > 1:
        completions_text = f"{succeeded}/1 of {parallelism}"
    else:
        completions_text = f"{succeeded}/1"
    started = parse_time(status.get("startTime"))
    finished = parse_time(status.get("completionTime"))
    duration = ""
    if started is not None:
        duration = human_duration(((finished or now) - started).total_seconds())
    return [_name(job), job_status(job), completions_text, duration, _age(job, now),
            *_containers_and_images(_get(job, "spec", "template", "spec")),
            format_selector(spec.get("selector"))]


_JOB = _named_and_aged(_job_cells, (
    Column("Status", description="Status of the job."),
    Column("Completions", description="The desired number of successfully finished pods the job should be"
                                      " run with."),
    Column("Duration", description="Time required to complete the job."),
), wide=(_CONTAINERS, _IMAGES, _SELECTOR))


def _cronjob_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    spec, status = _dict(obj.get("spec")), _dict(obj.get("status"))
    last = parse_time(status.get("lastScheduleTime"))
    last_text = NONE if last is None else human_duration((now - last).total_seconds())
    job_spec = _get(spec, "jobTemplate", "spec")
    return [_name(obj), str(spec.get("schedule", "")), spec.get("timeZone") or NONE,
            bool(spec.get("suspend")), len(_list(status.get("active"))), last_text, _age(obj, now),
            *_containers_and_images(_get(job_spec, "template", "spec")),
            format_selector(_get(job_spec, "selector"))]


_CRONJOB = _named_and_aged(_cronjob_cells, (
    Column("Schedule", description="The schedule in Cron format."),
    Column("Timezone", description="The time zone name for the given schedule."),
    Column("Suspend", "boolean", description="This flag tells the controller to suspend subsequent"
                                             " executions."),
    Column("Active", "integer", description="A list of pointers to currently running jobs."),
    Column("Last Schedule", description="Information when was the last time the job was successfully"
                                        " scheduled."),
), wide=(_CONTAINERS, _IMAGES, _SELECTOR))

# -------------------------------------------------------------------------------------------- networking


def _load_balancer_addresses(status: Any) -> list[str]:
    addresses: list[str] = []
    for ingress in _list(_get(status, "loadBalancer", "ingress")):
        ingress = _dict(ingress)
        if ingress.get("ip"):
            addresses.append(str(ingress["ip"]))
        elif ingress.get("hostname"):
            addresses.append(str(ingress["hostname"]))
    return addresses


def _service_external_ip(service: Mapping[str, Any]) -> str:
    spec = _dict(service.get("spec"))
    kind = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in _list(spec.get("externalIPs"))]
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        addresses = _load_balancer_addresses(service.get("status")) + external
        return ",".join(addresses) or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _service_ports(service: Mapping[str, Any]) -> str:
    ports: list[str] = []
    for port in _list(_get(service, "spec", "ports")):
        port = _dict(port)
        protocol = port.get("protocol") or "TCP"
        if port.get("nodePort"):
            ports.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            ports.append(f"{port.get('port')}/{protocol}")
    return ",".join(ports) or NONE


def _service_cells(service: Mapping[str, Any], now: datetime) -> Cells:
    spec = _dict(service.get("spec"))
    return [_name(service), spec.get("type") or "ClusterIP", spec.get("clusterIP") or NONE,
            _service_external_ip(service), _service_ports(service), _age(service, now),
            _map_selector(spec.get("selector"))]


_SERVICE = _named_and_aged(_service_cells, (
    Column("Type", description="The type of the service."),
    Column("Cluster-IP", description="The cluster IP address of the service."),
    Column("External-IP", description="The list of external IP addresses of the service."),
    Column("Port(s)", description="The list of ports exposed by the service."),
), wide=(
    Column("Selector", description="Route service traffic to pods with label keys and values"
                                   " matching this selector."),
))


def _ingress_cells(ingress: Mapping[str, Any], now: datetime) -> Cells:
    spec = _dict(ingress.get("spec"))
    hosts = [str(_dict(rule).get("host")) for rule in _list(spec.get("rules")) if _dict(rule).get("host")]
    ports = "80, 443" if spec.get("tls") else "80"
    return [_name(ingress), spec.get("ingressClassName") or NONE, ",".join(hosts) or "*",
            ",".join(_load_balancer_addresses(ingress.get("status"))), ports, _age(ingress, now)]


_INGRESS = _named_and_aged(_ingress_cells, (
    Column("Class", description="The name of the IngressClass resource."),
    Column("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
    Column("Address", description="Address is a list containing ingress points for the load-balancer"),
    Column("Ports", description="Ports of TLS configurations that open"),
))

# ----------------------------------------------------------------------------------------- configuration


def _name_value_age(column: Column, value: Callable[[Mapping[str, Any]], Any]) -> BuiltinPrinter:
    """NAME, one ``value`` of the object under ``column``, and AGE."""

    def cells(obj: Mapping[str, Any], now: datetime) -> Cells:
        return [_name(obj), value(obj), _age(obj, now)]

    return _named_and_aged(cells, (column,))


def _text_at(*path: str) -> Callable[[Mapping[str, Any]], str]:
    """The text at ``path`` in an object, empty when unset."""
    return lambda obj: str(_get(obj, *path) or "")


_CONFIGMAP = _name_value_age(
    Column("Data", "integer", description="Data contains the configuration data."),
    lambda obj: len(_dict(obj.get("data"))) + len(_dict(obj.get("binaryData"))))


def _secret_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    # Only the number of keys: a table never carries a secret's values.
    count = len(set(_dict(obj.get("data"))) | set(_dict(obj.get("stringData"))))
    return [_name(obj), str(obj.get("type") or "Opaque"), count, _age(obj, now)]


_SECRET = _named_and_aged(_secret_cells, (
    Column("Type", description="The type of the secret"),
    Column("Data", "integer", description="The number of keys in the secret"),
))


_NAMESPACE = _name_value_age(Column("Status", description="The status of the namespace"), _text_at("status", "phase"))

_ACCESS_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
                 "ReadWriteOncePod": "RWOP"}


def _pvc_cells(pvc: Mapping[str, Any], now: datetime) -> Cells:
    spec, status = _dict(pvc.get("spec")), _dict(pvc.get("status"))
    phase = "Terminating" if _get(pvc, "metadata", "deletionTimestamp") else str(status.get("phase") or "")
    bound = bool(spec.get("volumeName"))
    capacity = str(_get(status, "capacity", "storage") or "") if bound else ""
    modes = ",".join(_ACCESS_MODES.get(str(m), str(m)) for m in _list(status.get("accessModes"))) if bound else ""
    return [_name(pvc), phase, spec.get("volumeName") or "", capacity, modes, spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>", _age(pvc, now),
            spec.get("volumeMode") or "Filesystem"]


_PVC = _named_and_aged(_pvc_cells, (
    Column("Status", description="The phase of the claim"),
    Column("Volume", description="The binding reference to the PersistentVolume backing this claim."),
    Column("Capacity", description="The actual resources of the underlying volume."),
    Column("Access Modes", description="The actual access modes the volume backing the PVC has."),
    Column("StorageClass", description="Name of the StorageClass required by the claim."),
    Column("VolumeAttributesClass", description="The VolumeAttributesClass used by this claim."),
), wide=(
    Column("VolumeMode", description="Whether the volume is a filesystem or a block device."),
))


def _event_cells(event: Mapping[str, Any], now: datetime) -> Cells:
    first = age(event.get("firstTimestamp") or event.get("eventTime"), now)
    last = age(event["lastTimestamp"], now) if event.get("lastTimestamp") else first
    count = _int(event.get("count")) or 1
    series = _dict(event.get("series"))
    if series:
        last = age(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    involved = _dict(event.get("involvedObject"))
    target = str(involved.get("kind", "")).lower()
    if involved.get("name"):
        target = f"{target}/{involved['name']}"
    source = _dict(event.get("source"))
    source_text = str(source.get("component") or event.get("reportingComponent") or "")
    host = source.get("host") or event.get("reportingInstance")
    if host:
        source_text = f"{source_text}, {host}"
    return [last, str(event.get("type") or ""), str(event.get("reason") or ""), target,
            str(involved.get("fieldPath") or ""), source_text, str(event.get("message") or "").strip(), first,
            count, _name(event)]


_EVENT = BuiltinPrinter((
    Column("Last Seen", description="Time when last event occurred"),
    Column("Type", description="Type of this event."),
    Column("Reason", description="Reason is why the action was taken."),
    Column("Object", description="Object this event is about."),
    Column("Subobject", priority=1, description="The subobject of the object this event is about."),
    Column("Source", priority=1, description="The component reporting this event."),
    Column("Message", description="A human-readable description of the status of this operation."),
    Column("First Seen", priority=1, description="The time at which the event was first recorded."),
    Column("Count", "integer", priority=1, description="The number of times this event has occurred."),
    Column("Name", priority=1, description="Name of the event."),
), _event_cells)


# ------------------------------------------------------------------------------------- autoscaling, policy


def _hpa_metric(spec_metric: Mapping[str, Any], current: Mapping[str, Any] | None) -> str:
    kind = spec_metric.get("type")
    if kind == "Resource":
        resource = _dict(spec_metric.get("resource"))
        name, target = resource.get("name", ""), _dict(resource.get("target"))
        observed = _dict(_dict((current or {}).get("resource")).get("current"))
        if target.get("averageUtilization") is not None:
            now_value = observed.get("averageUtilization")
            shown = "<unknown>" if now_value is None else f"{now_value}%"
            return f"{name}: {shown}/{target['averageUtilization']}%"
        shown = str(observed.get("averageValue") or "<unknown>")
        return f"{name}: {shown}/{target.get('averageValue', '<unset>')}"
    return f"<unknown>/{kind or '<unknown>'}"  # Pods/Object/External metrics: the emulator reports none


def _hpa_targets(hpa: Mapping[str, Any]) -> str:
    spec, status = _dict(hpa.get("spec")), _dict(hpa.get("status"))
    if spec.get("targetCPUUtilizationPercentage") is not None:  # stored as autoscaling/v1
        current = status.get("currentCPUUtilizationPercentage")
        shown = "<unknown>" if current is None else f"{current}%"
        return f"cpu: {shown}/{spec['targetCPUUtilizationPercentage']}%"
    metrics = [_dict(m) for m in _list(spec.get("metrics"))]
    if not metrics:
        return NONE
    currents = [_dict(m) for m in _list(status.get("currentMetrics"))]
    targets = [_hpa_metric(m, currents[i] if i < len(currents) else None) for i, m in enumerate(metrics)]
    if len(targets) > 3:
        return ", ".join(targets[:3]) + f" + {len(targets) - 3} more..."
    return ", ".join(targets)


def _hpa_cells(hpa: Mapping[str, Any], now: datetime) -> Cells:
    spec = _dict(hpa.get("spec"))
    target = _dict(spec.get("scaleTargetRef"))
    min_pods = spec.get("minReplicas")
    return [_name(hpa), f"{target.get('kind', '')}/{target.get('name', '')}", _hpa_targets(hpa),
            "<unset>" if min_pods is None else str(min_pods), _int(spec.get("maxReplicas")),
            _int(_get(hpa, "status", "currentReplicas")), _age(hpa, now)]


_HPA = _named_and_aged(_hpa_cells, (
    Column("Reference", description="The reference to the object the autoscaler scales."),
    Column("Targets", description="The current and target values of the metrics."),
    Column("MinPods", description="The lower limit for the number of pods."),
    Column("MaxPods", "integer", description="The upper limit for the number of pods."),
    Column("Replicas", "integer", description="The current number of replicas."),
))


def _pdb_cells(pdb: Mapping[str, Any], now: datetime) -> Cells:
    spec = _dict(pdb.get("spec"))
    shown = ["N/A" if spec.get(key) is None else str(spec[key]) for key in ("minAvailable", "maxUnavailable")]
    return [_name(pdb), *shown, _int(_get(pdb, "status", "disruptionsAllowed")), _age(pdb, now)]


_PDB = _named_and_aged(_pdb_cells, (
    Column("Min Available", description="The minimum number of pods that must be available."),
    Column("Max Unavailable", description="The maximum number of pods that may be unavailable."),
    Column("Allowed Disruptions", "integer", description="Number of pod disruptions that are currently"
                                                         " allowed."),
))

# ------------------------------------------------------------------------------------------ access, storage


_SERVICE_ACCOUNT = _name_value_age(
    Column("Secrets", "integer", description="Secrets is a list of the secrets in the same namespace."),
    lambda obj: len(_list(obj.get("secrets"))))


def _created_at_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    created = parse_time(_get(obj, "metadata", "creationTimestamp"))
    return [_name(obj), "" if created is None else created.strftime("%Y-%m-%dT%H:%M:%SZ")]


# Roles, ClusterRoles and CRDs show when they were created rather than an age.
_CREATED_AT = BuiltinPrinter((
    NAME_COLUMN,
    Column("Created At", "date", description="CreationTimestamp is a timestamp representing the server time"
                                             " when this object was created."),
), _created_at_cells)


def _binding_cells(binding: Mapping[str, Any], now: datetime) -> Cells:
    ref = _dict(binding.get("roleRef"))
    subjects = [_dict(s) for s in _list(binding.get("subjects"))]
    users = ", ".join(str(s.get("name", "")) for s in subjects if s.get("kind") == "User")
    groups = ", ".join(str(s.get("name", "")) for s in subjects if s.get("kind") == "Group")
    accounts = ", ".join(f"{s.get('namespace', '')}/{s.get('name', '')}" for s in subjects
                         if s.get("kind") == "ServiceAccount")
    return [_name(binding), f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(binding, now), users, groups,
            accounts]


_BINDING = _named_and_aged(_binding_cells, (
    Column("Role", description="RoleRef can reference a Role in the current namespace or a ClusterRole."),
), wide=(
    Column("Users", description="Users in the binding"),
    Column("Groups", description="Groups in the binding"),
    Column("ServiceAccounts", description="ServiceAccounts in the binding"),
))

_DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                              "storageclass.beta.kubernetes.io/is-default-class")


def _storage_class_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    annotations = _dict(_get(obj, "metadata", "annotations"))
    name = _name(obj)
    if any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [name, str(obj.get("provisioner") or ""), obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate", bool(obj.get("allowVolumeExpansion")), _age(obj, now)]


_STORAGE_CLASS = _named_and_aged(_storage_class_cells, (
    Column("Provisioner", description="Provisioner indicates the type of the provisioner."),
    Column("ReclaimPolicy", description="Dynamically provisioned PersistentVolumes of this storage class are"
                                        " created with this reclaimPolicy."),
    Column("VolumeBindingMode", description="VolumeBindingMode indicates how PersistentVolumeClaims should be"
                                            " provisioned and bound."),
    Column("AllowVolumeExpansion", description="AllowVolumeExpansion shows whether the storage class allows"
                                               " volume expand."),
))


_LEASE = _name_value_age(
    Column("Holder", description="HolderIdentity contains the identity of the holder of a current lease."),
    _text_at("spec", "holderIdentity"))


def _generic_cells(obj: Mapping[str, Any], now: datetime) -> Cells:
    return [_name(obj), _age(obj, now)]


GENERIC = _named_and_aged(_generic_cells, ())

_BY_RESOURCE: dict[tuple[str, str], BuiltinPrinter] = {
    ("", "pods"): _POD,
    ("apps", "deployments"): _DEPLOYMENT,
    ("apps", "replicasets"): _REPLICASET,
    ("apps", "statefulsets"): _STATEFULSET,
    ("apps", "daemonsets"): _DAEMONSET,
    ("batch", "jobs"): _JOB,
    ("batch", "cronjobs"): _CRONJOB,
    ("", "services"): _SERVICE,
    ("", "configmaps"): _CONFIGMAP,
    ("", "secrets"): _SECRET,
    ("", "namespaces"): _NAMESPACE,
    ("", "persistentvolumeclaims"): _PVC,
    ("networking.k8s.io", "ingresses"): _INGRESS,
    ("", "events"): _EVENT,
    ("autoscaling", "horizontalpodautoscalers"): _HPA,
    ("policy", "poddisruptionbudgets"): _PDB,
    ("", "serviceaccounts"): _SERVICE_ACCOUNT,
    ("rbac.authorization.k8s.io", "roles"): _CREATED_AT,
    ("rbac.authorization.k8s.io", "clusterroles"): _CREATED_AT,
    ("apiextensions.k8s.io", "customresourcedefinitions"): _CREATED_AT,
    ("rbac.authorization.k8s.io", "rolebindings"): _BINDING,
    ("rbac.authorization.k8s.io", "clusterrolebindings"): _BINDING,
    ("storage.k8s.io", "storageclasses"): _STORAGE_CLASS,
    ("coordination.k8s.io", "leases"): _LEASE,
}


def builtin_printer(group: str, plural: str) -> BuiltinPrinter:
    """The printer of a built-in resource, or NAME/AGE for one the emulator has no printer for."""
    return _BY_RESOURCE.get((group, plural), GENERIC)


def known_resources() -> Sequence[tuple[str, str]]:
    """The (group, plural) pairs with a kind-specific printer."""
    return tuple(_BY_RESOURCE)
