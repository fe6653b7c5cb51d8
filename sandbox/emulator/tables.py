"""``meta.k8s.io`` Tables: what ``kubectl get`` asks for with ``Accept: application/json;as=Table;…``.

Custom resources get their CRD version's ``additionalPrinterColumns`` (JSONPath over the object, Name first),
or Age alone when the CRD declares none, as apiextensions defaults it; built-ins get their kind's printer
(:mod:`sandbox.emulator.printer_columns`). Each row carries the object as ``includeObject`` asks: the whole
object, its metadata (the default) or nothing. Pure: the caller passes ``now``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kube.ages import age
from sandbox.emulator.jsonpath import JsonPathError, evaluate
from sandbox.emulator.printer_columns import AGE_COLUMN, NAME_COLUMN, Column, builtin_printer
from sandbox.emulator.resources import CustomColumn, ResourceSpec

IncludeObject = Literal["None", "Metadata", "Object"]
_TABLE_VERSIONS = ("v1", "v1beta1")


class TableRequestError(ValueError):
    """A Table request with a parameter the server does not accept (answered 400)."""


@dataclass(frozen=True, slots=True)
class TableRequest:
    api_version: str  # meta.k8s.io/v1 or meta.k8s.io/v1beta1
    include_object: IncludeObject


def _media_parameters(media_range: str) -> tuple[str, dict[str, str]]:
    media, *raw_params = [part.strip() for part in media_range.split(";")]
    params: dict[str, str] = {}
    for raw in raw_params:
        key, _, value = raw.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return media.lower(), params


def table_request(accept: str, query: Mapping[str, str]) -> TableRequest | None:
    """The Table the ``Accept`` header asks for, or None when it prefers the objects themselves.

    Media ranges are taken in the order the client lists them, as the API server's negotiation does.
    """
    for media_range in accept.split(","):
        media, params = _media_parameters(media_range)
        if not media:
            continue
        wants_table = params.get("as") == "Table" and params.get("g") == "meta.k8s.io"
        if wants_table and media == "application/json" and params.get("v") in _TABLE_VERSIONS:
            include = query.get("includeObject") or "Metadata"
            if include not in ("None", "Metadata", "Object"):
                raise TableRequestError(
                    f'includeObject: Unsupported value: "{include}": supported values: "None", "Metadata",'
                    ' "Object"')
            return TableRequest(f"meta.k8s.io/{params['v']}", include)  # type: ignore[arg-type]
        if "as" not in params and media in ("application/json", "*/*", "application/*", "application/yaml"):
            return None
    return None


def _custom_definition(column: CustomColumn) -> dict[str, Any]:
    return {"name": column.name, "type": column.type, "format": column.format,
            "description": column.description, "priority": column.priority}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def custom_cell(column: CustomColumn, obj: Mapping[str, Any], now: datetime) -> Any:
    """A CRD column's cell: the first JSONPath result, typed as the column says; None when absent."""
    try:
        results = evaluate(column.json_path, obj)
    except JsonPathError:
        return None
    if not results or results[0] is None:
        return None
    value = results[0]
    if column.type == "integer":
        # Upstream converts any JSON number, truncating a fraction.
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if column.type == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if column.type == "boolean":
        return value if isinstance(value, bool) else None
    if column.type == "date":
        if not isinstance(value, str):
            return None
        text = age(value, now)
        return "<invalid>" if text == "<unknown>" else text
    return _text(value)


def _row_object(obj: Mapping[str, Any], request: TableRequest) -> dict[str, Any] | None:
    if request.include_object == "None":
        return None
    if request.include_object == "Object":
        return dict(obj)
    return {"kind": "PartialObjectMetadata", "apiVersion": request.api_version,
            "metadata": dict(obj.get("metadata") or {})}


def _definitions_and_cells(spec: ResourceSpec, objects: Iterable[Mapping[str, Any]],
                           now: datetime) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    if not spec.custom:
        printer = builtin_printer(spec.group, spec.plural)
        return ([column.definition() for column in printer.columns],
                [printer.cells(obj, now) for obj in objects])
    columns = spec.printer_columns
    if not columns:
        columns = (CustomColumn(AGE_COLUMN.name, "date", ".metadata.creationTimestamp",
                                description=AGE_COLUMN.description),)
    name = Column(NAME_COLUMN.name, NAME_COLUMN.type, NAME_COLUMN.format, NAME_COLUMN.description)
    definitions = [name.definition(), *(_custom_definition(column) for column in columns)]
    rows = [[(obj.get("metadata") or {}).get("name", ""), *(custom_cell(c, obj, now) for c in columns)]
            for obj in objects]
    return definitions, rows


def build_table(spec: ResourceSpec, objects: Sequence[Mapping[str, Any]], request: TableRequest, now: datetime,
                list_metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Table of ``objects`` (one for a GET, the page for a LIST) with the row objects requested."""
    definitions, cells = _definitions_and_cells(spec, objects, now)
    rows: list[dict[str, Any]] = []
    for obj, row_cells in zip(objects, cells, strict=True):
        row: dict[str, Any] = {"cells": row_cells}
        embedded = _row_object(obj, request)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    return {"kind": "Table", "apiVersion": request.api_version, "metadata": dict(list_metadata or {}),
            "columnDefinitions": definitions, "rows": rows}
