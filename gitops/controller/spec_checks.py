"""What makes an Application impossible to compare, found before any Git request: the ``InvalidSpecError``
conditions, each naming the field. Pure."""

from __future__ import annotations

from typing import Final

from kube.json_data import JsonObject

# The only cluster this controller deploys to: the one it runs in, as Argo CD names it.
LOCAL_SERVER: Final = "https://kubernetes.default.svc"
LOCAL_NAME: Final = "in-cluster"


def spec_problems(app: JsonObject) -> list[str]:
    """What makes the Application impossible to compare (``InvalidSpecError`` messages), naming the field."""
    spec = app.get("spec") or {}
    problems = []
    source = spec.get("source")
    if not source and not spec.get("sources"):
        problems.append("spec.source: an Application needs a source (repoURL and path or chart)")
    elif source is not None and not isinstance(source, dict):
        problems.append("spec.source: must be an object")
    elif source and not str(source.get("repoURL") or "") and not spec.get("sources"):
        problems.append("spec.source.repoURL is required")
    for index, entry in enumerate(spec.get("sources") or []):
        if not isinstance(entry, dict):
            problems.append(f"spec.sources[{index}]: must be an object")
        elif not str(entry.get("repoURL") or ""):
            problems.append(f"spec.sources[{index}].repoURL is required")
    destination = spec.get("destination") or {}
    server = str(destination.get("server") or "")
    cluster = str(destination.get("name") or "")
    if server and server.rstrip("/") != LOCAL_SERVER:
        problems.append(f"spec.destination.server: cluster '{server}' has not been configured (only the local "
                        f"cluster {LOCAL_SERVER} is served)")
    elif cluster and cluster != LOCAL_NAME:
        problems.append(f"spec.destination.name: there are no clusters with this name: {cluster}")
    elif not server and not cluster:
        problems.append("spec.destination: server or name is required")
    return problems
