"""Semantic checks of Application, ApplicationSet and AppProject beyond what their models' types enforce.

Each ``validate_*`` takes a parsed model or a raw manifest (a manifest is parsed first and its structural
errors returned) and returns every problem found, each at a camelCase field path, so an InvalidSpecError
condition or a lint run can name them all at once. The rules follow what Argo CD itself rejects, so a
manifest Argo CD accepts is accepted here; where Argo CD silently ignores a mistake
(``CreateNamespace=True``) we report it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError

from gitops.models import (
    GENERATOR_TYPES,
    Application,
    ApplicationDestination,
    ApplicationSet,
    ApplicationSetGenerator,
    ApplicationSource,
    ApplicationSpec,
    AppProject,
    Operation,
    RetryStrategy,
    SyncWindow,
)
from kube.durations import DurationError, parse_duration
from kube.issues import FieldIssue, issues_from_validation_error
from kube.modeling import KubeObject

_Model = TypeVar("_Model", bound=KubeObject)

# --- sync options --------------------------------------------------------------------------------

_BOOLEAN = ("true", "false")

# The values Argo CD acts on for each sync option it knows. Argo CD compares whole "Key=value" strings, so
# any other value (`CreateNamespace=True`, `Prune=no`) is silently a no-op there: never what was meant.
SYNC_OPTION_VALUES: Mapping[str, tuple[str, ...]] = {
    "CreateNamespace": _BOOLEAN,
    "ServerSideApply": _BOOLEAN,
    "ClientSideApplyMigration": _BOOLEAN,
    "ApplyOutOfSyncOnly": _BOOLEAN,
    "PruneLast": _BOOLEAN,
    "Prune": (*_BOOLEAN, "confirm"),
    "Delete": (*_BOOLEAN, "confirm"),
    "Validate": _BOOLEAN,
    "Replace": _BOOLEAN,
    "Force": _BOOLEAN,
    "RespectIgnoreDifferences": _BOOLEAN,
    "PrunePropagationPolicy": ("foreground", "background", "orphan"),
    "FailOnSharedResource": _BOOLEAN,
    "SkipDryRunOnMissingResource": _BOOLEAN,
}


def validate_sync_options(options: Sequence[str], path: str) -> list[FieldIssue]:
    """Problems with ``Key=value`` sync options; unknown keys are accepted, as Argo CD ignores them."""
    return _sync_option_issues(enumerate(options), path)


def _sync_option_issues(options: Iterable[tuple[int, str]], path: str) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    first_value: dict[str, tuple[int, str]] = {}
    for index, option in options:
        at = f"{path}[{index}]"
        key, separator, value = option.partition("=")
        if not separator or not key:
            message = f"{option!r} is not of the form Key=value (for example CreateNamespace=true)"
            found.append(FieldIssue(at, message))
            continue
        if key != key.strip() or value != value.strip():
            # Argo CD matches whole strings, so "Prune = false" would never match Prune=false.
            found.append(FieldIssue(at, f"{option!r} must not have spaces around the key or value"))
            continue
        allowed = SYNC_OPTION_VALUES.get(key)
        if allowed is None:
            continue
        if value not in allowed:
            found.append(FieldIssue(at, f"{key} must be {_one_of(allowed)}, got {value!r}"))
            continue
        earlier_index, earlier_value = first_value.setdefault(key, (index, value))
        if earlier_value != value:
            message = f"{key}={value} contradicts {key}={earlier_value} at {path}[{earlier_index}]"
            found.append(FieldIssue(at, message))
    return found


# --- Application ---------------------------------------------------------------------------------


def validate_application(app: Application | Mapping[str, Any]) -> list[FieldIssue]:
    """Every problem with an Application: its spec and, when one is requested, its operation."""
    parsed, found = _parse(Application, app)
    if parsed is None:
        return found
    found.extend(validate_application_spec(parsed.spec, "spec"))
    if parsed.operation is not None:
        found.extend(_operation_issues(parsed.operation, "operation"))
    return found


def validate_application_spec(spec: ApplicationSpec, path: str = "spec") -> list[FieldIssue]:
    """Problems with an Application spec (also used for specs rendered from an ApplicationSet template)."""
    found: list[FieldIssue] = []
    both = spec.source is not None and bool(spec.sources)
    # With sourceHydrator (newer Argo CD) the hydrator names the source instead.
    neither = spec.source is None and not spec.sources and spec.source_hydrator is None
    if both or neither:
        found.append(FieldIssue(path, "exactly one of source or sources must be set"))
    if spec.source is not None:
        found.extend(_source_issues(spec.source, f"{path}.source", multi_source=False))
    for index, source in enumerate(spec.sources):
        found.extend(_source_issues(source, f"{path}.sources[{index}]", multi_source=True))
    found.extend(_ref_issues(spec.sources, f"{path}.sources"))
    found.extend(_destination_issues(spec.destination, f"{path}.destination"))
    if spec.sync_policy is not None:
        policy_path = f"{path}.syncPolicy"
        found.extend(validate_sync_options(spec.sync_policy.sync_options, f"{policy_path}.syncOptions"))
        if spec.sync_policy.retry is not None:
            found.extend(_retry_issues(spec.sync_policy.retry, f"{policy_path}.retry"))
    if spec.revision_history_limit < 0:
        message = f"must not be negative, got {spec.revision_history_limit}"
        found.append(FieldIssue(f"{path}.revisionHistoryLimit", message))
    return found


def _source_issues(source: ApplicationSource, path: str, *, multi_source: bool) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if not source.repo_url.strip():
        found.append(FieldIssue(f"{path}.repoURL", "must be set to the Git, Helm or OCI repository to use"))
    if source.path and source.chart:
        found.append(
            FieldIssue(path, "path and chart are mutually exclusive: path is for Git, chart for Helm")
        )
    elif not source.path and not source.chart and not (multi_source and source.ref):
        # Argo CD rejects a source that names nothing to render; a multi-source entry may instead be only a
        # `ref` that other sources read value files from.
        needs = "path, chart or ref" if multi_source else "path or chart"
        found.append(FieldIssue(path, f"one of {needs} must be set (use path: . for the repository root)"))
    if source.chart and not source.target_revision.strip():
        found.append(
            FieldIssue(f"{path}.targetRevision", "must be set to the chart version for a Helm repository")
        )
    return found


# Argo CD's rule for `ref` names, which become `$name` in value file paths.
_REF_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _ref_issues(sources: Sequence[ApplicationSource], path: str) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    first_with_ref: dict[str, int] = {}
    for index, source in enumerate(sources):
        if not source.ref:
            continue
        if not _REF_NAME.fullmatch(source.ref):
            found.append(
                FieldIssue(f"{path}[{index}].ref", f"{source.ref!r} may hold only letters, digits, _ and -")
            )
        elif source.ref in first_with_ref:
            found.append(
                FieldIssue(
                    f"{path}[{index}].ref",
                    f"{source.ref!r} is already the ref of {path}[{first_with_ref[source.ref]}]",
                )
            )
        else:
            first_with_ref[source.ref] = index
    for index, source in enumerate(sources):
        if source.helm is None:
            continue
        for file_index, value_file in enumerate(source.helm.value_files):
            if not value_file.startswith("$"):
                continue
            name = value_file[1:].split("/", 1)[0]
            if name not in first_with_ref:
                found.append(
                    FieldIssue(
                        f"{path}[{index}].helm.valueFiles[{file_index}]",
                        f"${name} names no source: set ref: {name} on the source the value file comes from",
                    )
                )
    return found


def _destination_issues(destination: ApplicationDestination, path: str) -> list[FieldIssue]:
    if destination.server and destination.name:
        return [FieldIssue(path, "server and name are mutually exclusive: set one of them")]
    if not destination.server and not destination.name:
        return [FieldIssue(path, "one of server or name must be set")]
    return []


def _retry_issues(retry: RetryStrategy, path: str) -> list[FieldIssue]:
    # The durations themselves are checked while parsing (kube.durations.Duration).
    factor = retry.backoff.factor
    if factor < 1:
        return [FieldIssue(f"{path}.backoff.factor", f"must be at least 1, got {factor}")]
    return []


def _operation_issues(operation: Operation, path: str) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    sync = operation.sync
    if sync is not None:
        found.extend(validate_sync_options(sync.sync_options, f"{path}.sync.syncOptions"))
        if sync.source is not None:
            found.extend(_source_issues(sync.source, f"{path}.sync.source", multi_source=False))
        for index, source in enumerate(sync.sources):
            found.extend(_source_issues(source, f"{path}.sync.sources[{index}]", multi_source=True))
    found.extend(_retry_issues(operation.retry, f"{path}.retry"))
    return found


# --- ApplicationSet ------------------------------------------------------------------------------

APPLICATIONS_SYNC_POLICIES = ("create-only", "create-update", "create-delete", "sync")

# Matrix and merge combine the parameter sets of child generators.
_COMBINATIONS = ("matrix", "merge")


def validate_application_set(application_set: ApplicationSet | Mapping[str, Any]) -> list[FieldIssue]:
    """Every problem with an ApplicationSet: its generators, template and sync policy."""
    parsed, found = _parse(ApplicationSet, application_set)
    if parsed is None:
        return found
    spec = parsed.spec
    if not spec.generators:
        found.append(FieldIssue("spec.generators", "at least one generator is required"))
    for index, generator in enumerate(spec.generators):
        found.extend(_generator_issues(generator, f"spec.generators[{index}]", depth=0))

    template_name_elsewhere = bool(spec.template_patch) or any(
        _names_application(generator) for generator in spec.generators
    )
    if not spec.template.metadata.name.strip() and not template_name_elsewhere:
        found.append(
            FieldIssue(
                "spec.template.metadata.name",
                "must be set, usually from a parameter such as '{{path.basename}}', so Applications differ",
            )
        )
    found.extend(_template_spec_issues(spec.template.spec, "spec.template.spec"))

    if spec.sync_policy is not None:
        policy = spec.sync_policy.applications_sync
        if policy is not None and policy not in APPLICATIONS_SYNC_POLICIES:
            found.append(
                FieldIssue(
                    "spec.syncPolicy.applicationsSync",
                    f"must be {_one_of(APPLICATIONS_SYNC_POLICIES)}, got {policy!r}",
                )
            )
    return found


def _generator_issues(generator: ApplicationSetGenerator, path: str, *, depth: int) -> list[FieldIssue]:
    """Problems with one generator; ``depth`` counts the matrix/merge generators it sits in."""
    types = generator.generator_types()
    if not types:
        unknown = sorted(generator.model_extra or {})
        hint = f" (unknown: {', '.join(unknown)})" if unknown else ""
        return [
            FieldIssue(path, f"sets no generator type{hint}: set exactly one of {', '.join(GENERATOR_TYPES)}")
        ]
    if len(types) > 1:
        return [FieldIssue(path, f"sets {' and '.join(types)}: a generator sets exactly one generator type")]

    (kind,) = types
    found: list[FieldIssue] = []
    if kind in _COMBINATIONS and depth >= 2:
        # Argo CD: a matrix or merge inside a matrix or merge may only combine plain generators.
        return [FieldIssue(f"{path}.{kind}", "matrix and merge generators can only be nested once")]
    if generator.matrix is not None:
        children = generator.matrix.generators
        if len(children) != 2:
            found.append(
                FieldIssue(
                    f"{path}.matrix.generators",
                    f"a matrix generator combines exactly two child generators, got {len(children)}",
                )
            )
        found.extend(_children_issues(children, f"{path}.matrix.generators", depth + 1))
    if generator.merge is not None:
        children = generator.merge.generators
        if len(children) < 2:
            found.append(
                FieldIssue(
                    f"{path}.merge.generators",
                    f"a merge generator needs at least two child generators, got {len(children)}",
                )
            )
        if not generator.merge.merge_keys:
            found.append(FieldIssue(f"{path}.merge.mergeKeys", "at least one merge key is required"))
        found.extend(_children_issues(children, f"{path}.merge.generators", depth + 1))
    if generator.git is not None:
        git = generator.git
        if not git.repo_url.strip():
            found.append(FieldIssue(f"{path}.git.repoURL", "must be set to the Git repository to read"))
        if git.directories is None and git.files is None:
            found.append(FieldIssue(f"{path}.git", "one of directories or files must be set"))
    return found


def _children_issues(children: Iterable[ApplicationSetGenerator], path: str, depth: int) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    for index, child in enumerate(children):
        found.extend(_generator_issues(child, f"{path}[{index}]", depth=depth))
    return found


def _names_application(generator: ApplicationSetGenerator) -> bool:
    """Whether a generator (or one nested in it) supplies metadata.name through its own template override."""
    override = generator.template_override()
    metadata = override.get("metadata") if override is not None else None
    if isinstance(metadata, Mapping) and metadata.get("name"):
        return True
    children = [
        *(generator.matrix.generators if generator.matrix is not None else ()),
        *(generator.merge.generators if generator.merge is not None else ()),
    ]
    return any(_names_application(child) for child in children)


def _template_spec_issues(spec: Mapping[str, Any], path: str) -> list[FieldIssue]:
    """The Application rules that hold whatever the parameters turn out to be.

    A missing source may come from a generator's template override or from templatePatch, and a value may be a
    "{{...}}" template, so only contradictions visible in the template itself are reported.
    """
    found: list[FieldIssue] = []
    if spec.get("source") and spec.get("sources"):
        found.append(FieldIssue(path, "exactly one of source or sources must be set"))
    destination = spec.get("destination")
    if isinstance(destination, Mapping) and destination.get("server") and destination.get("name"):
        message = "server and name are mutually exclusive: set one of them"
        found.append(FieldIssue(f"{path}.destination", message))
    policy = spec.get("syncPolicy")
    options = policy.get("syncOptions") if isinstance(policy, Mapping) else None
    if isinstance(options, list):
        literal = [
            (index, option)
            for index, option in enumerate(options)
            if isinstance(option, str) and not _is_templated(option)
        ]
        found.extend(_sync_option_issues(literal, f"{path}.syncPolicy.syncOptions"))
    return found


def _is_templated(value: str) -> bool:
    return "{{" in value


# --- AppProject ----------------------------------------------------------------------------------

SYNC_WINDOW_KINDS = ("allow", "deny")


def validate_app_project(project: AppProject | Mapping[str, Any]) -> list[FieldIssue]:
    """Every problem with an AppProject: its destinations and sync windows."""
    parsed, found = _parse(AppProject, project)
    if parsed is None:
        return found
    for index, destination in enumerate(parsed.spec.destinations):
        if not destination.server and not destination.name:
            found.append(
                FieldIssue(f"spec.destinations[{index}]", "one of server or name must be set ('*' for any)")
            )
    for index, window in enumerate(parsed.spec.sync_windows):
        found.extend(_sync_window_issues(window, f"spec.syncWindows[{index}]"))
    return found


def _sync_window_issues(window: SyncWindow, path: str) -> list[FieldIssue]:
    found: list[FieldIssue] = []
    if window.kind not in SYNC_WINDOW_KINDS:
        found.append(FieldIssue(f"{path}.kind", f"must be {_one_of(SYNC_WINDOW_KINDS)}, got {window.kind!r}"))
    problem = cron_problem(window.schedule)
    if problem is not None:
        found.append(FieldIssue(f"{path}.schedule", problem))
    problem = _go_duration_problem(window.duration)
    if problem is not None:
        found.append(FieldIssue(f"{path}.duration", problem))
    return found


def _go_duration_problem(text: str) -> str | None:
    # Sync window durations go through Go's time.ParseDuration, which, unlike retry backoffs, wants a unit.
    value = text.strip()
    if value == "0":
        return None
    if re.fullmatch(r"\d+(\.\d*)?", value):
        return f"invalid duration {text!r}: missing unit, e.g. '{value}m' or '{value}h'"
    try:
        parse_duration(value)
    except DurationError as error:
        return str(error)
    return None


# --- cron ----------------------------------------------------------------------------------------
# Argo CD parses sync window schedules as standard five-field cron (minute hour day-of-month month
# day-of-week; no seconds, no @descriptors), with month and weekday names and `?` as a synonym of `*`.

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

# (field name, lowest, highest, names for the values from `lowest` on)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _WEEKDAYS),
)


def cron_problem(schedule: str) -> str | None:
    """Why a schedule is not a five-field cron expression, or None when it is one."""
    fields = schedule.split()
    if len(fields) != len(_CRON_FIELDS):
        return (
            f"{schedule!r} is not a cron schedule: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    for text, (name, lowest, highest, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            problem = _cron_part_problem(part, lowest, highest, names)
            if problem is not None:
                return f"{schedule!r} is not a cron schedule: {name} {text!r}: {problem}"
    return None


def _cron_part_problem(part: str, lowest: int, highest: int, names: tuple[str, ...]) -> str | None:
    span, slash, step_text = part.partition("/")
    if slash and (not step_text.isdigit() or int(step_text) == 0):
        return f"step {step_text!r} must be a positive number"
    if span in ("*", "?"):
        return None
    start_text, dash, end_text = span.partition("-")
    start = _cron_value(start_text, names, lowest)
    if start is None:
        return f"{start_text!r} is not a value"
    end = start
    if dash:
        end_value = _cron_value(end_text, names, lowest)
        if end_value is None:
            return f"{end_text!r} is not a value"
        end = end_value
    if not lowest <= start <= highest or not lowest <= end <= highest:
        return f"values must be between {lowest} and {highest}"
    if start > end:
        return f"range {span!r} runs backwards"
    return None


def _cron_value(text: str, names: tuple[str, ...], lowest: int) -> int | None:
    if text.isdigit():
        return int(text)
    upper = text.upper()
    return names.index(upper) + lowest if upper in names else None


# --- shared --------------------------------------------------------------------------------------


def _parse(model: type[_Model], value: _Model | Mapping[str, Any]) -> tuple[_Model | None, list[FieldIssue]]:
    if isinstance(value, model):
        return value, []
    try:
        return model.model_validate(value), []
    except ValidationError as error:
        return None, issues_from_validation_error(error)


def _one_of(values: Sequence[str]) -> str:
    if len(values) == 2:
        return f"{values[0]} or {values[1]}"
    return f"one of {', '.join(values)}"
