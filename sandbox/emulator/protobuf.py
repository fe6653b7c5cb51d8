"""Decoding the protobuf bodies kubectl sends from its generators (``kubectl create ns|configmap|secret``).

Those commands use client-go's typed clients, which send ``application/vnd.kubernetes.protobuf`` and do not
fall back to JSON on 415. Only the kinds those commands build are described here; any other kind is refused.
Field numbers come from the ``generated.proto`` files of k8s.io/api and k8s.io/apimachinery.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # string, bytes, int, bool, time, message, map
    repeated: bool = False
    schema: dict[int, Field] | None = None  # for messages
    map_value: str = "string"  # for maps: string or bytes


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

SCHEMAS: dict[tuple[str, str], dict[int, Field]] = {
    ("v1", "Namespace"): {
        1: Field("metadata", "message", schema=_OBJECT_META),
        2: Field("spec", "message", schema={1: Field("finalizers", "string", repeated=True)}),
    },
    ("v1", "ConfigMap"): {
        1: Field("metadata", "message", schema=_OBJECT_META),
        2: Field("data", "map"),
        3: Field("binaryData", "map", map_value="bytes"),
        4: Field("immutable", "bool"),
    },
    ("v1", "Secret"): {
        1: Field("metadata", "message", schema=_OBJECT_META),
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


def _message(buf: bytes, schema: dict[int, Field]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _wire_fields(buf):
        field = schema.get(number)
        if field is None:
            continue  # fields kubectl's generators leave empty (status, managedFields, …)
        decoded: Any
        if field.type == "map":
            entry = dict(_wire_fields(_bytes(value)))
            key = _bytes(entry.get(1, b"")).decode()
            raw = _bytes(entry.get(2, b""))
            result.setdefault(field.name, {})[key] = raw.decode() if field.map_value == "string" else raw
            continue
        if field.type == "string":
            decoded = _bytes(value).decode()
        elif field.type == "bytes":
            decoded = _bytes(value)
        elif field.type == "int":
            decoded = value if isinstance(value, int) else 0
        elif field.type == "bool":
            decoded = bool(value)
        elif field.type == "time":
            decoded = _time(_bytes(value))
        else:
            decoded = _message(_bytes(value), field.schema or {})
        if field.repeated:
            result.setdefault(field.name, []).append(decoded)
        elif decoded not in ("", 0, None, False, {}):  # Go writes zero values; JSON would omit them
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
        raise ProtobufError(f"protobuf bodies of {api_version}/{kind} are not supported; send JSON")
    obj = _message(raw, schema)
    # JSON carries byte maps base64-encoded.
    for field in ("data", "binaryData") if kind in ("Secret", "ConfigMap") else ():
        values = obj.get(field)
        if values and any(isinstance(v, bytes) for v in values.values()):
            obj[field] = {k: base64.b64encode(v).decode() for k, v in values.items()}
    return {"apiVersion": api_version, "kind": kind, **obj}
