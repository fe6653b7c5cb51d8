"""How `rollouts app` shows Applications, in argocd's columns and wording. Pure: Application dicts in, text out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kube.json_data import JsonObject

LIST_HEADERS = ("NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "CONDITIONS", "REPO",
                "PATH", "TARGET")
RESOURCE_HEADERS = ("GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE")
SYNC_RESULT_HEADERS = ("GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE")
HISTORY_HEADERS = ("ID", "DATE", "REVISION")
ORPHAN_HEADERS = ("GROUP", "KIND", "NAMESPACE", "NAME")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: int = 2) -> str:
    """Columns aligned with ``gap`` spaces, as Go's tabwriter lays out argocd's tables; trailing blanks trimmed."""
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = []
    for row in [list(headers), *[list(r) for r in rows]]:
        lines.append((" " * gap).join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines)


def _spec(app: JsonObject) -> JsonObject:
    return dict(app.get("spec") or {})


def _status(app: JsonObject) -> JsonObject:
    return dict(app.get("status") or {})


def source_of(app: JsonObject) -> JsonObject:
    """The source, or the first of ``spec.sources`` (which wins over ``source``, as in Argo CD)."""
    spec = _spec(app)
    if spec.get("sources"):
        return dict(spec["sources"][0])
    return dict(spec.get("source") or {})


def sync_policy_word(app: JsonObject) -> str:
    """argocd's SYNCPOLICY column: ``Auto-Prune``, ``Auto`` or ``Manual``."""
    automated = (_spec(app).get("syncPolicy") or {}).get("automated")
    if automated is None or automated.get("enabled") is False:
        return "Manual"
    return "Auto-Prune" if automated.get("prune") else "Auto"


def list_row(app: JsonObject) -> list[str]:
    spec, status = _spec(app), _status(app)
    destination = spec.get("destination") or {}
    source = source_of(app)
    conditions = ",".join(sorted({str(c.get("type")) for c in status.get("conditions") or []})) or "<none>"
    return [
        str(app["metadata"]["name"]),
        str(destination.get("server") or destination.get("name") or ""),
        str(destination.get("namespace") or ""),
        str(spec.get("project") or "default"),
        str((status.get("sync") or {}).get("status") or "Unknown"),
        str((status.get("health") or {}).get("status") or "Unknown"),
        sync_policy_word(app),
        conditions,
        str(source.get("repoURL") or ""),
        str(source.get("path") or source.get("chart") or ""),
        str(source.get("targetRevision") or ""),
    ]


def summary(app: JsonObject, cluster: Mapping[str, str] | None = None) -> str:
    """The header of ``argocd app get``: name, project, destination, source, policy, and the sync and health
    status (with the conditions and the last operation, when there are any). ``cluster`` is the destination
    resolved (``cluster_summary``: name and server, never credentials); without it the spec's own field is shown."""
    spec, status = _spec(app), _status(app)
    destination = spec.get("destination") or {}
    source = source_of(app)
    sync = status.get("sync") or {}
    revision = str(sync.get("revision") or "")
    target = str(source.get("targetRevision") or "HEAD")
    sync_line = str(sync.get("status") or "Unknown")
    if revision:
        sync_line += f" to {target} ({revision[:7]})"
    elif sync.get("revisions"):
        sync_line += " to " + ", ".join(str(r)[:7] for r in sync["revisions"])
    health = status.get("health") or {}
    health_line = str(health.get("status") or "Unknown") + (f" ({health['message']})" if health.get("message") else "")
    where = [
        ("Repo:", str(source.get("repoURL") or "")),
        ("Target:", str(source.get("targetRevision") or "")),
        ("Path:", str(source.get("path") or source.get("chart") or "")),
    ]
    sources = spec.get("sources") or []
    if sources:
        where = [("Sources:", "")]  # listed below, one block per source
    rows = [
        ("Name:", f"{app['metadata'].get('namespace', '')}/{app['metadata']['name']}"),
        ("Project:", str(spec.get("project") or "default")),
        *([("Cluster:", str(cluster.get("name") or "")), ("Server:", str(cluster.get("server") or ""))]
          if cluster else [("Server:", str(destination.get("server") or destination.get("name") or ""))]),
        ("Namespace:", str(destination.get("namespace") or "")),
        *where,
        ("SyncPolicy:", sync_policy_word(app) if sync_policy_word(app) != "Manual" else "Manual"),
        ("Sync Status:", sync_line),
        ("Health Status:", health_line),
    ]
    width = max(len(label) for label, _ in rows) + 1
    lines = [f"{label.ljust(width)}{value}".rstrip() for label, value in rows]
    if sources:
        at = lines.index("Sources:") + 1
        lines[at:at] = source_lines(sources, [str(r) for r in sync.get("revisions") or []])
    conditions = status.get("conditions") or []
    if conditions:
        lines.append("")
        lines.append(table(("CONDITION", "MESSAGE", "LAST TRANSITION"), [
            [str(c.get("type")), str(c.get("message") or ""), str(c.get("lastTransitionTime") or "")]
            for c in conditions]))
    state = status.get("operationState")
    if state:
        lines.append("")
        lines.extend(operation_lines(state))
    return "\n".join(lines)


def source_lines(sources: Sequence[JsonObject], revisions: Sequence[str]) -> list[str]:
    """The sources of a multi-source Application, one block each: repository, target, path or chart, ref, and the
    revision last compared (when known)."""
    lines: list[str] = []
    for index, source in enumerate(sources):
        fields = [("Repo:", str(source.get("repoURL") or "")), ("Target:", str(source.get("targetRevision") or ""))]
        if source.get("path") or source.get("chart"):
            fields.append(("Path:" if source.get("path") else "Chart:", str(source.get("path") or source["chart"])))
        if source.get("ref"):
            fields.append(("Ref:", str(source["ref"])))
        if index < len(revisions) and revisions[index]:
            fields.append(("Revision:", revisions[index]))
        lines.extend(("- " if position == 0 else "  ") + f"{label.ljust(10)}{value}"
                     for position, (label, value) in enumerate(fields))
    return lines


def operation_lines(state: JsonObject) -> list[str]:
    """``Operation: Sync`` / ``Sync Revision`` / ``Phase`` / ``Start`` / ``Finished`` / ``Duration`` / ``Message``."""
    result = state.get("syncResult") or {}
    rows = [
        ("Operation:", "Sync"),
        ("Sync Revision:", str(result.get("revision") or ", ".join(result.get("revisions") or []) or (
            state.get("operation") or {}).get("sync", {}).get("revision") or "")),
        ("Phase:", str(state.get("phase") or "")),
        ("Start:", str(state.get("startedAt") or "")),
        ("Finished:", str(state.get("finishedAt") or "")),
        ("Message:", str(state.get("message") or "")),
    ]
    width = max(len(label) for label, _ in rows) + 1
    return [f"{label.ljust(width)}{value}" for label, value in rows]


def _result_messages(app: JsonObject) -> dict[tuple[str, str, str, str], JsonObject]:
    results = ((_status(app).get("operationState") or {}).get("syncResult") or {}).get("resources") or []
    return {(str(r.get("group") or ""), str(r.get("kind") or ""), str(r.get("namespace") or ""),
             str(r.get("name") or "")): r for r in results}


def resource_rows(app: JsonObject) -> list[list[str]]:
    """The resource table of ``argocd app get``: status.resources, with the last sync's message and hook type."""
    messages = _result_messages(app)
    rows = []
    seen = set()
    for resource in _status(app).get("resources") or []:
        key = (str(resource.get("group") or ""), str(resource.get("kind") or ""),
               str(resource.get("namespace") or ""), str(resource.get("name") or ""))
        seen.add(key)
        result = messages.get(key) or {}
        rows.append([*key, str(resource.get("status") or ""), str((resource.get("health") or {}).get("status") or ""),
                     str(result.get("hookType") or ""), str(result.get("message") or "")])
    # Hooks are not in status.resources once deleted; argocd still lists the last sync's hooks.
    for key, result in messages.items():
        if key not in seen and result.get("hookType"):
            rows.append([*key, str(result.get("hookPhase") or ""), "", str(result.get("hookType") or ""),
                         str(result.get("message") or "")])
    return rows


def sync_result_rows(state: JsonObject) -> list[list[str]]:
    """One row per result of a sync operation, in the order they were recorded."""
    rows = []
    for result in (state.get("syncResult") or {}).get("resources") or []:
        status = str(result.get("hookPhase") or result.get("status") or "") if result.get("hookType") else str(
            result.get("status") or "")
        rows.append([str(result.get("group") or ""), str(result.get("kind") or ""),
                     str(result.get("namespace") or ""), str(result.get("name") or ""), status, "",
                     str(result.get("hookType") or ""), str(result.get("message") or "")])
    return rows


def history_rows(app: JsonObject) -> list[list[str]]:
    return [[str(entry.get("id", "")), str(entry.get("deployedAt") or ""),
             str(entry.get("revision") or ", ".join(str(r) for r in entry.get("revisions") or []))]
            for entry in _status(app).get("history") or []]


def orphan_rows(app: JsonObject) -> list[list[str]]:
    """``status.orphanedResources``: the destination namespace's objects no Application manages (listed when the
    project sets ``orphanedResources``)."""
    return [[str(entry.get(field) or "") for field in ("group", "kind", "namespace", "name")]
            for entry in _status(app).get("orphanedResources") or []]
