"""The numbers a metric is scheduled and judged by, read from its plain-data form with Argo's defaults, and
which metrics the run's ``dryRun`` and ``measurementRetention`` rules select."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.models import metric_name_matches
from kube.durations import DurationError, parse_duration
from kube.int32 import int32_problem
from kube.quantities import int_or_string_int

DEFAULT_FAILURE_LIMIT = 0
DEFAULT_INCONCLUSIVE_LIMIT = 0
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
DEFAULT_CONSECUTIVE_SUCCESS_LIMIT = 0
DEFAULT_MEASUREMENT_RETENTION = 10
"""Measurements kept per metric unless a measurementRetention rule says otherwise."""
ERROR_RETRY_SECONDS = 10.0
"""After an Error measurement the next one is taken this much later, whatever the metric's interval."""


class MetricRulesError(ValueError):
    """A metric whose count, limits or durations are not numbers (usually an argument that resolved to text)."""


@dataclass(frozen=True)
class MetricRules:
    """One metric's schedule and limits, as numbers."""

    name: str
    count: int | None
    """Measurements to take (errors not counted); None means until the run is terminated."""
    interval: float | None
    """Seconds between measurements, from one's finishedAt to the next; None when not set."""
    initial_delay: float | None
    """Seconds after the run's startedAt before the first measurement."""
    failure_limit: int = DEFAULT_FAILURE_LIMIT
    """Failed measurements tolerated; -1 disables failing on failures."""
    inconclusive_limit: int = DEFAULT_INCONCLUSIVE_LIMIT
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    consecutive_success_limit: int = DEFAULT_CONSECUTIVE_SUCCESS_LIMIT
    """Consecutive successes that complete the metric; 0 disables it."""

    @property
    def failure_limit_applies(self) -> bool:
        return self.failure_limit >= 0

    @property
    def consecutive_success_limit_applies(self) -> bool:
        return self.consecutive_success_limit > 0

    @classmethod
    def of(cls, metric: Mapping[str, Any]) -> MetricRules:
        """The rules of a metric whose arguments are resolved; raises MetricRulesError naming the bad field."""
        name = str(metric.get("name", ""))
        interval = _duration(name, "interval", metric.get("interval"))
        count = _integer(name, "count", metric.get("count"), 0)
        return cls(
            name=name,
            # Argo's EffectiveCount: no count (or 0) means one measurement without an interval and "until
            # terminated" with one.
            count=count if count > 0 else (None if interval is not None else 1),
            interval=interval,
            initial_delay=_duration(name, "initialDelay", metric.get("initialDelay")),
            failure_limit=_integer(name, "failureLimit", metric.get("failureLimit"), DEFAULT_FAILURE_LIMIT),
            inconclusive_limit=_integer(
                name, "inconclusiveLimit", metric.get("inconclusiveLimit"), DEFAULT_INCONCLUSIVE_LIMIT
            ),
            consecutive_error_limit=_integer(
                name, "consecutiveErrorLimit", metric.get("consecutiveErrorLimit"), DEFAULT_CONSECUTIVE_ERROR_LIMIT
            ),
            consecutive_success_limit=_integer(
                name,
                "consecutiveSuccessLimit",
                metric.get("consecutiveSuccessLimit"),
                DEFAULT_CONSECUTIVE_SUCCESS_LIMIT,
            ),
        )


def _integer(metric: str, field: str, value: Any, default: int) -> int:
    if value is None:
        return default
    number = int_or_string_int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if number is None:
        raise MetricRulesError(f'metric "{metric}": {field} must be an integer, got {value!r}')
    too_large = int32_problem(number)
    if too_large is not None:
        raise MetricRulesError(f'metric "{metric}": {field} {too_large}')
    return number


def _duration(metric: str, field: str, value: Any) -> float | None:
    # Go writes an unset duration as "", so an empty string means "not set" rather than zero.
    if value is None or value == "":
        return None
    try:
        seconds = parse_duration(value)
    except (DurationError, TypeError) as error:
        raise MetricRulesError(f'metric "{metric}": {field}: {error}') from error
    if field == "interval" and seconds == 0:
        # Measured on every pass otherwise: a loop of queries against the metrics server.
        raise MetricRulesError(f'metric "{metric}": interval must be greater than 0')
    return seconds


def is_dry_run(spec: Mapping[str, Any], metric_name: str) -> bool:
    """Whether a ``dryRun`` rule (an unanchored regex over metric names; ``*`` is every metric) selects it."""
    return any(
        metric_name_matches(str(rule.get("metricName", "")), metric_name)
        for rule in spec.get("dryRun") or ()
        if isinstance(rule, Mapping)
    )


def measurement_retention(spec: Mapping[str, Any], metric_name: str) -> int:
    """How many measurements to keep for a metric: the last matching ``measurementRetention`` rule's limit when it
    is positive (Argo lets a later rule override an earlier one), otherwise 10."""
    limit = DEFAULT_MEASUREMENT_RETENTION
    for rule in spec.get("measurementRetention") or ():
        if isinstance(rule, Mapping) and metric_name_matches(str(rule.get("metricName", "")), metric_name):
            value = rule.get("limit")
            limit = (
                value
                if isinstance(value, int) and not isinstance(value, bool) and value > 0
                else (DEFAULT_MEASUREMENT_RETENTION)
            )
    return limit
