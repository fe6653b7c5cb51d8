"""Decoding the protobuf bodies kubectl sends from its generators (``kubectl create ns|configmap|secret|
deployment|job|cronjob|service|serviceaccount|ingress|role|clusterrole|rolebinding|clusterrolebinding|pdb|
priorityclass|quota`` and ``kubectl autoscale``).

Those commands use client-go's typed clients, which send ``application/vnd.kubernetes.protobuf`` and do not
fall back to JSON on 415. Only the kinds (and, within them, the fields) those commands build are described
here; any other kind, or a described kind carrying a field this decoder does not know with a value set, is
refused with :class:`ProtobufError` naming it, so nothing is silently dropped. Field numbers come from the
``generated.proto`` files of k8s.io/api and k8s.io/apimachinery. Go writes every non-pointer field, zero or
not, so zero values are dropped (as JSON's ``omitempty`` would); ``optional`` marks Go pointers, whose
presence is meaningful even at zero (``replicas: 0``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAGIC = b"k8s\x00"
SEND_JSON = ("send JSON instead: `kubectl create … --dry-run=client -o yaml | kubectl apply -f -`, or"
             " `kubectl apply -f` a manifest")


class ProtobufError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    # string, bytes, int, bool, time, message, map, intstr, ignore (read-only: status), inline (a Go struct
    # embedded without a JSON name: its fields belong to the enclosing object, as Ingress rules' ``http``)
    type: str
    repeated: bool = False
    schema: dict[int, Field] | None = None  # for messages
    map_value: str = "string"  # for maps: string, bytes or quantity
    optional: bool = False  # a Go pointer: present means set, even to a zero value


_OWNER_REFERENCE = {
    1: Field("kind", "string"),
    3: Field("name", "string"),
    4: Field("uid", "string"),
    5: Field("apiVersion", "string"),
    6: Field("controller", "bool"),
    7: Field("blockOwnerDeletion", "bool"),
}

_OBJECT_META = {
    1: Field("name", "string"),
    2: Field("generateName", "string"),
    3: Field("namespace", "string"),
    5: Field("uid", "string"),
    6: Field("resourceVersion", "string"),
    7: Field("generation", "int"),
    8: Field("creationTimestamp", "time"),
    11: Field("labels", "map"),
    12: Field("annotations", "map"),
    13: Field("ownerReferences", "message", repeated=True, schema=_OWNER_REFERENCE),
    14: Field("finalizers", "string", repeated=True),
}

_METADATA = Field("metadata", "message", schema=_OBJECT_META)
_STATUS = Field("status", "ignore")  # a create carries the zero status; the server owns it


def _metadata_and_spec(spec: dict[int, Field]) -> dict[int, Field]:
    """The fields of a template, or of a kind without a status: metadata (1) and spec (2)."""
    return {1: _METADATA, 2: Field("spec", "message", schema=spec)}


def _metadata_spec_status(spec: dict[int, Field]) -> dict[int, Field]:
    """The fields of a kind with metadata (1), spec (2) and status (3)."""
    return {**_metadata_and_spec(spec), 3: _STATUS}


_LABEL_SELECTOR = {
    1: Field("matchLabels", "map"),
    2: Field("matchExpressions", "message", repeated=True, schema={
        1: Field("key", "string"), 2: Field("operator", "string"), 3: Field("values", "string", repeated=True)}),
}

_CONTAINER = {
    1: Field("name", "string"),
    2: Field("image", "string"),
    3: Field("command", "string", repeated=True),
    4: Field("args", "string", repeated=True),
    5: Field("workingDir", "string"),
    6: Field("ports", "message", repeated=True, schema={
        1: Field("name", "string"), 2: Field("hostPort", "int"), 3: Field("containerPort", "int"),
        4: Field("protocol", "string"), 5: Field("hostIP", "string")}),
    7: Field("env", "message", repeated=True, schema={1: Field("name", "string"), 2: Field("value", "string")}),
    8: Field("resources", "message", schema={
        1: Field("limits", "map", map_value="quantity"), 2: Field("requests", "map", map_value="quantity")}),
    13: Field("terminationMessagePath", "string"),
    14: Field("imagePullPolicy", "string"),
    16: Field("stdin", "bool"),
    17: Field("stdinOnce", "bool"),
    18: Field("tty", "bool"),
    20: Field("terminationMessagePolicy", "string"),
}

_POD_SPEC = {
    2: Field("containers", "message", repeated=True, schema=_CONTAINER),
    3: Field("restartPolicy", "string"),
    4: Field("terminationGracePeriodSeconds", "int", optional=True),
    5: Field("activeDeadlineSeconds", "int", optional=True),
    6: Field("dnsPolicy", "string"),
    7: Field("nodeSelector", "map"),
    8: Field("serviceAccountName", "string"),
    9: Field("serviceAccount", "string"),
    10: Field("nodeName", "string"),
    11: Field("hostNetwork", "bool"),
    12: Field("hostPID", "bool"),
    13: Field("hostIPC", "bool"),
    16: Field("hostname", "string"),
    17: Field("subdomain", "string"),
    19: Field("schedulerName", "string"),
    20: Field("initContainers", "message", repeated=True, schema=_CONTAINER),
    24: Field("priorityClassName", "string"),
}

_POD_TEMPLATE = _metadata_and_spec(_POD_SPEC)

# The same field in every kind that selects pods, or makes them from a template.
_SELECTOR_FIELD = Field("selector", "message", schema=_LABEL_SELECTOR)
_TEMPLATE_FIELD = Field("template", "message", schema=_POD_TEMPLATE)

_JOB_SPEC = {
    1: Field("parallelism", "int", optional=True),
    2: Field("completions", "int", optional=True),
    3: Field("activeDeadlineSeconds", "int", optional=True),
    4: _SELECTOR_FIELD,
    5: Field("manualSelector", "bool", optional=True),
    6: _TEMPLATE_FIELD,
    7: Field("backoffLimit", "int", optional=True),
    8: Field("ttlSecondsAfterFinished", "int", optional=True),
    9: Field("completionMode", "string", optional=True),
    10: Field("suspend", "bool", optional=True),
}

_INGRESS_BACKEND = {
    3: Field("resource", "message", schema={
        1: Field("apiGroup", "string", optional=True), 2: Field("kind", "string"), 3: Field("name", "string")}),
    4: Field("service", "message", schema={
        1: Field("name", "string"),
        2: Field("port", "message", schema={1: Field("name", "string"), 2: Field("number", "int")})}),
}

_POLICY_RULE = {
    1: Field("verbs", "string", repeated=True),
    2: Field("apiGroups", "string", repeated=True),
    3: Field("resources", "string", repeated=True),
    4: Field("resourceNames", "string", repeated=True),
    5: Field("nonResourceURLs", "string", repeated=True),
}

_SUBJECT = {1: Field("kind", "string"), 2: Field("apiGroup", "string"), 3: Field("name", "string"),
            4: Field("namespace", "string")}
_ROLE_REF = {1: Field("apiGroup", "string"), 2: Field("kind", "string"), 3: Field("name", "string")}

SCHEMAS: dict[tuple[str, str], dict[int, Field]] = {
    ("apps/v1", "Deployment"): _metadata_spec_status({
        1: Field("replicas", "int", optional=True),
        2: _SELECTOR_FIELD,
        3: _TEMPLATE_FIELD,
        4: Field("strategy", "message", schema={
            1: Field("type", "string"),
            2: Field("rollingUpdate", "message", schema={
                1: Field("maxUnavailable", "intstr"), 2: Field("maxSurge", "intstr")}),
        }),
        5: Field("minReadySeconds", "int"),
        6: Field("revisionHistoryLimit", "int", optional=True),
        7: Field("paused", "bool"),
        9: Field("progressDeadlineSeconds", "int", optional=True),
    }),
    ("batch/v1", "Job"): _metadata_spec_status(_JOB_SPEC),
    ("batch/v1", "CronJob"): _metadata_spec_status({
        1: Field("schedule", "string"),
        2: Field("startingDeadlineSeconds", "int", optional=True),
        3: Field("concurrencyPolicy", "string"),
        4: Field("suspend", "bool", optional=True),
        5: Field("jobTemplate", "message", schema=_metadata_and_spec(_JOB_SPEC)),
        6: Field("successfulJobsHistoryLimit", "int", optional=True),
        7: Field("failedJobsHistoryLimit", "int", optional=True),
        8: Field("timeZone", "string", optional=True),
    }),
    ("v1", "Service"): _metadata_spec_status({
        1: Field("ports", "message", repeated=True, schema={
            1: Field("name", "string"), 2: Field("protocol", "string"), 3: Field("port", "int"),
            4: Field("targetPort", "intstr"), 5: Field("nodePort", "int"),
            6: Field("appProtocol", "string", optional=True)}),
        2: Field("selector", "map"),
        3: Field("clusterIP", "string"),
        4: Field("type", "string"),
        5: Field("externalIPs", "string", repeated=True),
        7: Field("sessionAffinity", "string"),
        8: Field("loadBalancerIP", "string"),
        9: Field("loadBalancerSourceRanges", "string", repeated=True),
        10: Field("externalName", "string"),
        11: Field("externalTrafficPolicy", "string"),
        12: Field("healthCheckNodePort", "int"),
        13: Field("publishNotReadyAddresses", "bool"),
        17: Field("ipFamilyPolicy", "string", optional=True),
        18: Field("clusterIPs", "string", repeated=True),
        19: Field("ipFamilies", "string", repeated=True),
        20: Field("allocateLoadBalancerNodePorts", "bool", optional=True),
        21: Field("loadBalancerClass", "string", optional=True),
        22: Field("internalTrafficPolicy", "string", optional=True),
    }),
    ("networking.k8s.io/v1", "Ingress"): _metadata_spec_status({
        1: Field("defaultBackend", "message", schema=_INGRESS_BACKEND),
        2: Field("tls", "message", repeated=True, schema={
            1: Field("hosts", "string", repeated=True), 2: Field("secretName", "string")}),
        3: Field("rules", "message", repeated=True, schema={
            1: Field("host", "string"),
            2: Field("", "inline", schema={1: Field("http", "message", schema={
                1: Field("paths", "message", repeated=True, schema={
                    1: Field("path", "string"),
                    2: Field("backend", "message", schema=_INGRESS_BACKEND),
                    3: Field("pathType", "string", optional=True)})})}),
        }),
        4: Field("ingressClassName", "string", optional=True),
    }),
    ("rbac.authorization.k8s.io/v1", "Role"): {
        1: _METADATA,
        2: Field("rules", "message", repeated=True, schema=_POLICY_RULE),
    },
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {
        1: _METADATA,
        2: Field("rules", "message", repeated=True, schema=_POLICY_RULE),
        3: Field("aggregationRule", "message", schema={
            1: Field("clusterRoleSelectors", "message", repeated=True, schema=_LABEL_SELECTOR)}),
    },
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): {
        1: _METADATA,
        2: Field("subjects", "message", repeated=True, schema=_SUBJECT),
        3: Field("roleRef", "message", schema=_ROLE_REF),
    },
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): {
        1: _METADATA,
        2: Field("subjects", "message", repeated=True, schema=_SUBJECT),
        3: Field("roleRef", "message", schema=_ROLE_REF),
    },
    ("policy/v1", "PodDisruptionBudget"): _metadata_spec_status({
        1: Field("minAvailable", "intstr", optional=True),
        2: _SELECTOR_FIELD,
        3: Field("maxUnavailable", "intstr", optional=True),
        4: Field("unhealthyPodEvictionPolicy", "string", optional=True),
    }),
    ("scheduling.k8s.io/v1", "PriorityClass"): {
        1: _METADATA,
        2: Field("value", "int"),
        3: Field("globalDefault", "bool"),
        4: Field("description", "string"),
        5: Field("preemptionPolicy", "string", optional=True),
    },
    ("v1", "ResourceQuota"): _metadata_spec_status({
        1: Field("hard", "map", map_value="quantity"),
        2: Field("scopes", "string", repeated=True),
    }),
    ("autoscaling/v1", "HorizontalPodAutoscaler"): _metadata_spec_status({
        1: Field("scaleTargetRef", "message", schema={
            1: Field("kind", "string"), 2: Field("name", "string"), 3: Field("apiVersion", "string")}),
        2: Field("minReplicas", "int", optional=True),
        3: Field("maxReplicas", "int"),
        4: Field("targetCPUUtilizationPercentage", "int", optional=True),
    }),
    ("v1", "ServiceAccount"): {
        1: _METADATA,
        3: Field("imagePullSecrets", "message", repeated=True, schema={1: Field("name", "string")}),
        4: Field("automountServiceAccountToken", "bool", optional=True),
    },
    ("v1", "Namespace"): _metadata_and_spec({1: Field("finalizers", "string", repeated=True)}),
    ("v1", "ConfigMap"): {
        1: _METADATA,
        2: Field("data", "map"),
        3: Field("binaryData", "map", map_value="bytes"),
        4: Field("immutable", "bool"),
    },
    ("v1", "Secret"): {
        1: _METADATA,
        2: Field("data", "map", map_value="bytes"),
        3: Field("type", "string"),
        4: Field("stringData", "map"),
        5: Field("immutable", "bool"),
    },
}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _wire_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ProtobufError("truncated length-delimited field")
            yield number, buf[pos:pos + length]
            pos += length
        elif wire == 1:
            yield number, buf[pos:pos + 8]
            pos += 8
        elif wire == 5:
            yield number, buf[pos:pos + 4]
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def _time(buf: bytes) -> str | None:
    seconds = 0
    for number, value in _wire_fields(buf):
        if number == 1 and isinstance(value, int):
            seconds = value
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a length-delimited field")
    return value


def _is_zero(value: int | bytes) -> bool:
    """Whether a field holds only Go zero values (what Go writes for fields nobody set)."""
    if isinstance(value, int):
        return value == 0
    if not value:
        return True
    try:
        return all(_is_zero(inner) for _, inner in _wire_fields(value))
    except ProtobufError:
        return False


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value  # negative int32/int64 are 64-bit two's complement


def _int_or_string(buf: bytes) -> int | str:
    fields = dict(_wire_fields(buf))
    if fields.get(1) == 1:
        return _bytes(fields.get(3, b"")).decode()
    intval = fields.get(2, 0)
    return _signed(intval) if isinstance(intval, int) else 0


def _map_value(raw: bytes, kind: str) -> str | bytes:
    if kind == "bytes":
        return raw
    if kind == "quantity":  # resource.Quantity is a message holding its string form in field 1
        return _bytes(dict(_wire_fields(raw)).get(1, b"")).decode()
    return raw.decode()


def _message(buf: bytes, schema: dict[int, Field], path: str = "") -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _wire_fields(buf):
        field = schema.get(number)
        if field is None:
            if _is_zero(value):
                continue  # Go writes the zero value of every field nobody set
            raise ProtobufError(f"field number {number} of {path or 'the object'} is set, and this decoder does not"
                                " know it")
        if field.type == "ignore":
            continue
        if field.type == "inline":
            result.update(_message(_bytes(value), field.schema or {}, path))
            continue
        decoded: Any
        if field.type == "map":
            entry = dict(_wire_fields(_bytes(value)))
            key = _bytes(entry.get(1, b"")).decode()
            raw = _bytes(entry.get(2, b""))
            result.setdefault(field.name, {})[key] = _map_value(raw, field.map_value)
            continue
        if field.type == "string":
            decoded = _bytes(value).decode()
        elif field.type == "bytes":
            decoded = _bytes(value)
        elif field.type == "intstr":
            decoded = _int_or_string(_bytes(value))
        elif field.type == "int":
            decoded = _signed(value) if isinstance(value, int) else 0
        elif field.type == "bool":
            decoded = bool(value)
        elif field.type == "time":
            decoded = _time(_bytes(value))
        else:
            decoded = _message(_bytes(value), field.schema or {}, f"{path}.{field.name}" if path else field.name)
        if field.repeated:
            result.setdefault(field.name, []).append(decoded)
        elif field.optional or decoded not in ("", 0, None, False, {}):
            result[field.name] = decoded
    return result


def decode(body: bytes) -> dict[str, Any]:
    """The JSON-shaped object inside a ``k8s\\0``-framed protobuf body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf body (no k8s magic prefix)")
    api_version = kind = ""
    raw = b""
    for number, value in _wire_fields(body[len(MAGIC):]):
        if number == 1:
            for sub, text in _wire_fields(_bytes(value)):
                if sub == 1:
                    api_version = _bytes(text).decode()
                elif sub == 2:
                    kind = _bytes(text).decode()
        elif number == 2:
            raw = _bytes(value)
    schema = SCHEMAS.get((api_version, kind))
    if schema is None:
        raise ProtobufError(f"protobuf bodies of {api_version}/{kind} are not supported; {SEND_JSON}")
    try:
        obj = _message(raw, schema)
    except ProtobufError as exc:
        raise ProtobufError(f"{api_version}/{kind}: {exc}; {SEND_JSON}") from None
    # JSON carries byte maps base64-encoded.
    for field in ("data", "binaryData") if kind in ("Secret", "ConfigMap") else ():
        values = obj.get(field)
        if values and any(isinstance(v, bytes) for v in values.values()):
            obj[field] = {k: base64.b64encode(v).decode() for k, v in values.items()}
    return {"apiVersion": api_version, "kind": kind, **obj}
