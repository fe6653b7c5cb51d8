"""What makes an Application's source impossible to render, found before any Git request: the
``InvalidSpecError`` conditions, each naming the field. Pure. (The destination is checked against the known
clusters by ``destination.resolve``.)"""

from __future__ import annotations

from kube.json_data import JsonObject


def spec_problems(app: JsonObject) -> list[str]:
    """What makes the Application's source impossible to render (``InvalidSpecError`` messages), naming the field."""
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
    return problems
