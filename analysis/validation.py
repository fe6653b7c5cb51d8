"""Semantic checks of AnalysisTemplates, ClusterAnalysisTemplates and AnalysisRuns, as field issues.

The models already reject what is structurally wrong (a missing name, a malformed duration); these are the
rules that need more than one field — unique names, declared arguments, one provider per metric, limits that
fit the count. They follow the checks Argo makes when it validates a template or starts a run, plus a few it
only discovers by failing the run (a placeholder it cannot resolve), and each message names the field to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from analysis.arguments import Location, has_placeholder, metric_strings, scan_placeholders
from analysis.expressions import condition_problems
from analysis.models import (
    AnalysisRun,
    AnalysisSpec,
    AnalysisTemplate,
    Argument,
    ClusterAnalysisTemplate,
    Metric,
    MetricProvider,
    metric_name_matches,
)
from kube.durations import DurationError, parse_duration
from kube.int32 import int32_problem
from kube.issues import FieldIssue, field_path
from kube.quantities import int_or_string_int


def validate_analysis_template(template: AnalysisTemplate | ClusterAnalysisTemplate) -> list[FieldIssue]:
    """Everything semantically wrong with an AnalysisTemplate or a ClusterAnalysisTemplate."""
    spec = template.spec
    # A template that lists spec.templates is composed: when a run is created Argo merges the metrics, args
    # and dryRun rules of every referenced template into one. Alone, this object cannot show that an argument
    # is undeclared (another template may declare it), that a dryRun rule matches nothing, or that there are
    # no metrics at all, so those checks are left to the run, which holds the merged result.
    # A Rollout that lists several templates merges them the same way, but a template without spec.templates
    # is treated as self-contained: that is how templates are written, and there an undeclared argument or a
    # rule that selects nothing is almost always a typo.
    composed = bool(spec.templates)
    issues: list[FieldIssue] = []
    if not spec.metrics and not composed:
        issues.append(FieldIssue("spec.metrics", "at least one metric is required"))
    issues.extend(_spec_issues(spec, complete=not composed))
    for index, reference in enumerate(spec.templates):
        if not reference.template_name:
            issues.append(
                _issue(("spec", "templates", index, "templateName"), "templateName must not be empty")
            )
    return _unique(issues)


def validate_analysis_run(run: AnalysisRun) -> list[FieldIssue]:
    """Everything semantically wrong with an AnalysisRun's spec."""
    spec = run.spec
    issues: list[FieldIssue] = []
    if not spec.metrics:
        issues.append(FieldIssue("spec.metrics", "at least one metric is required"))
    issues.extend(_spec_issues(spec, complete=True))
    for index, argument in enumerate(spec.args):
        issues.extend(_run_argument_issues(index, argument))
    ttl = spec.ttl_strategy
    if ttl is not None:
        for name, seconds in (
            ("secondsAfterCompletion", ttl.seconds_after_completion),
            ("secondsAfterFailure", ttl.seconds_after_failure),
            ("secondsAfterSuccess", ttl.seconds_after_success),
        ):
            if seconds is not None and seconds < 0:
                issues.append(_issue(("spec", "ttlStrategy", name), f"{name} must be >= 0, got {seconds}"))
    return _unique(issues)


def _spec_issues(spec: AnalysisSpec, *, complete: bool) -> list[FieldIssue]:
    """The rules templates and runs share; ``complete`` when the spec holds every metric and argument it
    will run with (not a composed template)."""
    issues: list[FieldIssue] = []
    declared = {argument.name for argument in spec.args}
    issues.extend(_argument_issues(spec.args))
    seen_names: set[str] = set()
    for index, metric in enumerate(spec.metrics):
        location: Location = ("spec", "metrics", index)
        issues.extend(_name_issues(location, "metric", metric.name, seen_names))
        issues.extend(_metric_issues(location, metric))
        issues.extend(_placeholder_issues(location, metric, declared if complete else None))
        issues.extend(_condition_issues(location, metric))
    metric_names = [metric.name for metric in spec.metrics] if complete else None
    issues.extend(_selector_issues("dryRun", [rule.metric_name for rule in spec.dry_run], metric_names))
    issues.extend(
        _selector_issues(
            "measurementRetention", [rule.metric_name for rule in spec.measurement_retention], metric_names
        )
    )
    for index, retention in enumerate(spec.measurement_retention):
        if retention.limit < 0:
            issues.append(
                _issue(
                    ("spec", "measurementRetention", index, "limit"),
                    f"limit must be >= 0, got {retention.limit}",
                )
            )
    return issues


def _name_issues(location: Location, what: str, name: str, seen: set[str]) -> list[FieldIssue]:
    """A metric's or argument's name must be set and unique among its siblings; `seen` gathers them."""
    issues = []
    if not name:
        issues.append(_issue((*location, "name"), f"{what} name must not be empty"))
    elif name in seen:
        issues.append(_issue((*location, "name"), f'duplicate {what} name "{name}"'))
    seen.add(name)
    return issues


# --- arguments ----------------------------------------------------------------------------------------------


def _argument_issues(arguments: Sequence[Argument]) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    seen: set[str] = set()
    for index, argument in enumerate(arguments):
        location: Location = ("spec", "args", index)
        issues.extend(_name_issues(location, "argument", argument.name, seen))
        value_from = argument.value_from
        if value_from is None:
            continue
        if argument.value is not None:
            issues.append(_issue(location, "set value or valueFrom, not both"))
        sources = value_from.sources()
        if len(sources) != 1:
            found = ", ".join(sources) if sources else "none"
            issues.append(
                _issue(
                    (*location, "valueFrom"),
                    f"exactly one of secretKeyRef, fieldRef must be set, found {found}",
                )
            )
        if value_from.pod_template_hash_value is not None:
            # Argo's template and run arguments have no such source; the API server would drop it and leave
            # the argument without a value. It belongs in the Rollout's analysis args, which pass a value in.
            issues.append(
                _issue(
                    (*location, "valueFrom", "podTemplateHashValue"),
                    "podTemplateHashValue is only resolved in a Rollout's analysis args; "
                    "pass the value from there",
                )
            )
    return issues


def _run_argument_issues(index: int, argument: Argument) -> list[FieldIssue]:
    # A run measures with the arguments it holds: at run time Argo fetches Secret references and nothing else,
    # so any other argument must already carry its value (the Rollout resolves fieldRef and pod hashes when it
    # creates the run).
    if argument.value is not None:
        return []
    if argument.value_from is not None and argument.value_from.secret_key_ref is not None:
        return []
    return [
        _issue(
            ("spec", "args", index),
            f'argument "{argument.name}" has no value: a run needs value or valueFrom.secretKeyRef',
        )
    ]


# --- metrics ------------------------------------------------------------------------------------------------


def _metric_issues(location: Location, metric: Metric) -> list[FieldIssue]:
    issues: list[FieldIssue] = []

    def integer(name: str, value: int | str | None) -> int | None:
        # A placeholder is only a number once resolved; the run checks it again then.
        if value is None or (isinstance(value, str) and has_placeholder(value)):
            return None
        number = int_or_string_int(value)
        if number is None:
            issues.append(
                _issue(
                    (*location, name),
                    f'{name} must be an integer or an {{{{args.NAME}}}} placeholder, got "{value}"',
                )
            )
            return None
        # Argo reads these as Go's IntOrString, whose number is an int32.
        too_large = int32_problem(number)
        if too_large is not None:
            issues.append(_issue((*location, name), f"{name} {too_large}"))
            return None
        return number

    count = integer("count", metric.count)
    failure_limit = integer("failureLimit", metric.failure_limit)
    inconclusive_limit = integer("inconclusiveLimit", metric.inconclusive_limit)
    consecutive_error_limit = integer("consecutiveErrorLimit", metric.consecutive_error_limit)
    consecutive_success_limit = integer("consecutiveSuccessLimit", metric.consecutive_success_limit)

    if count is not None:
        if count < 0:
            issues.append(_issue((*location, "count"), f"count must be >= 0, got {count}"))
        if count > 1 and not metric.interval:
            issues.append(_issue((*location, "interval"), "interval must be specified when count > 1"))
        for name, limit in (("failureLimit", failure_limit), ("inconclusiveLimit", inconclusive_limit)):
            if count > 0 and limit is not None and count < limit:
                issues.append(_issue((*location, "count"), f"count ({count}) must be >= {name} ({limit})"))
    if failure_limit is not None and failure_limit < -1:
        issues.append(
            _issue(
                (*location, "failureLimit"),
                f"failureLimit must be >= -1 (-1 disables it), got {failure_limit}",
            )
        )
    for name, limit in (
        ("inconclusiveLimit", inconclusive_limit),
        ("consecutiveErrorLimit", consecutive_error_limit),
        ("consecutiveSuccessLimit", consecutive_success_limit),
    ):
        if limit is not None and limit < 0:
            issues.append(_issue((*location, name), f"{name} must be >= 0, got {limit}"))
    if failure_limit == -1 and consecutive_success_limit == 0:
        # Argo rejects this: with both disabled nothing but the count ends the metric, and nothing fails it.
        issues.append(
            _issue(
                (*location, "failureLimit"),
                "failureLimit -1 disables failing, so consecutiveSuccessLimit must be > 0: "
                "one of them has to apply",
            )
        )

    if _is_zero_duration(metric.interval):
        # Argo accepts it and measures on every pass; we refuse it before it becomes a loop of queries.
        issues.append(
            _issue((*location, "interval"), "interval must be greater than 0 (a zero interval measures in a loop)")
        )

    issues.extend(_provider_issues((*location, "provider"), metric.provider))
    return issues


def _is_zero_duration(value: str | int | None) -> bool:
    """Whether a metric duration is set to zero (not unset, not a placeholder, not malformed: the model says so)."""
    if value is None or value == "" or (isinstance(value, str) and has_placeholder(value)):
        return False
    try:
        return parse_duration(value) == 0
    except DurationError:
        return False


def _provider_issues(location: Location, provider: MetricProvider) -> list[FieldIssue]:
    configured = provider.configured()
    if len(configured) != 1:
        found = f"{len(configured)}: {', '.join(configured)}" if configured else "none"
        unknown = provider.unknown()
        if unknown:
            found += " (unknown " + ", ".join(f'"{name}"' for name in unknown) + ")"
        return [_issue(location, f"exactly one provider must be set, found {found}")]

    issues: list[FieldIssue] = []
    if provider.prometheus is not None:
        prometheus = provider.prometheus
        # A missing query is not refused at admission: Argo's own e2e suite creates such a run on purpose and
        # expects its measurement to end in Error, which is what the runner reports.
        if prometheus.timeout < 0:
            issues.append(
                _issue(
                    (*location, "prometheus", "timeout"),
                    f"timeout must be >= 0 seconds, got {prometheus.timeout}",
                )
            )
    if provider.web is not None:
        web = provider.web
        if not (web.url or "").strip():
            issues.append(_issue((*location, "web", "url"), "the web provider needs a url"))
        if web.body and web.json_body is not None:
            issues.append(_issue((*location, "web"), "set body or jsonBody, not both"))
        if web.timeout_seconds < 0:
            issues.append(
                _issue(
                    (*location, "web", "timeoutSeconds"),
                    f"timeoutSeconds must be >= 0, got {web.timeout_seconds}",
                )
            )
    if provider.job is not None and not isinstance(provider.job.spec.get("template"), dict):
        issues.append(
            _issue(
                (*location, "job", "spec", "template"),
                "the job provider needs spec.template, the Job's pod template",
            )
        )
    return issues


def _placeholder_issues(location: Location, metric: Metric, declared: set[str] | None) -> list[FieldIssue]:
    """Placeholders Argo could not resolve; ``declared`` is None when arguments may come from elsewhere."""
    issues: list[FieldIssue] = []
    for site in metric_strings(metric.to_dict()):
        scan = scan_placeholders(site.text)
        where = (*location, *site.location)
        for placeholder in scan.placeholders:
            name = placeholder.argument
            if name is None:
                issues.append(
                    _issue(
                        where,
                        f'"{placeholder.text}" is not an argument placeholder: '
                        "only {{args.NAME}} is substituted in a metric",
                    )
                )
            elif declared is not None and name not in declared:
                issues.append(_issue(where, f'argument "{name}" is not declared in spec.args'))
        if scan.unclosed_at is not None:
            issues.append(_issue(where, '"{{" is never closed with "}}", so the metric cannot be resolved'))
    return issues


# --- conditions ---------------------------------------------------------------------------------------------


def _condition_issues(location: Location, metric: Metric) -> list[FieldIssue]:
    """successCondition and failureCondition, parsed with the runner's own parser: one that does not parse,
    reads a name Argo does not define, or cannot yield a bool would turn every measurement into an Error.
    Placeholders are filled with a dummy first and problems inside them left to the run (see
    :func:`analysis.expressions.condition_problems`)."""
    issues: list[FieldIssue] = []
    for field, text in (
        ("successCondition", metric.success_condition),
        ("failureCondition", metric.failure_condition),
    ):
        if text:
            issues.extend(_issue((*location, field), problem) for problem in condition_problems(text))
    return issues


# --- dryRun and measurementRetention ------------------------------------------------------------------------


def _selector_issues(
    field: str, patterns: Sequence[str], metric_names: Sequence[str] | None
) -> list[FieldIssue]:
    """Rules whose ``metricName`` is a regular expression over metric names; ``metric_names`` is None when
    the spec may not hold every metric (a composed template)."""
    issues: list[FieldIssue] = []
    seen: set[str] = set()
    for index, pattern in enumerate(patterns):
        location: Location = ("spec", field, index, "metricName")
        if pattern in seen:
            issues.append(_issue(location, f'duplicate {field} rule for metricName "{pattern}"'))
        seen.add(pattern)
        error = _regex_error(pattern)
        if error is not None:
            issues.append(_issue(location, f'invalid regular expression "{pattern}": {error}'))
        elif metric_names and not any(metric_name_matches(pattern, name) for name in metric_names):
            # Argo fails the run when a rule matches nothing, on the grounds that it is a typo.
            issues.append(_issue(location, f'"{pattern}" matches no metric name'))
    return issues


def _regex_error(pattern: str) -> str | None:
    if pattern == "*":
        return None
    # Python's re is close to Go's RE2 for what metric names need; the constructs only Python accepts
    # (lookaround, backreferences) are not worth a second regex engine here.
    try:
        re.compile(pattern)
    except re.error as error:
        return str(error)
    return None


# --- helpers ------------------------------------------------------------------------------------------------


def _issue(location: Iterable[str | int], message: str) -> FieldIssue:
    return FieldIssue(field_path(location), message)


def _unique(issues: Iterable[FieldIssue]) -> list[FieldIssue]:
    return list(dict.fromkeys(issues))
