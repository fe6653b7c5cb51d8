"""The contract between the AnalysisRun runner and the metric providers, and what every provider shares.

A provider takes one measurement of one metric. Providers that answer at once (prometheus, web) return the
raw value and leave the phase to the conditions; providers whose measurement outlives one call (job) decide
the phase themselves and report ``Running`` until it is known. Failures are :class:`ProviderError`, which the
runner records as an ``Error`` measurement. Secret argument values never leave a provider unmasked: every
message, string value and metadata value goes through :func:`mask`.
"""

from __future__ import annotations

import base64
import errno
import functools
import json
import re
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from kube.client import AsyncKubeClient

T = TypeVar("T")

MASK: Final = "*****"
_MIN_BASE64_SECRET: Final = 6
"""Secrets of fewer bytes are not looked for in base64 (their encoding is too short to be told from text)."""
SUPPORTED_PROVIDERS: Final = ("prometheus", "web", "job")


@dataclass(frozen=True)
class MeasurementContext:
    """Everything a provider needs to take one measurement."""

    run_name: str
    """The AnalysisRun's name: in messages, and in a Job provider's Jobs (the ``analysisrun.argoproj.io/name``
    annotation and the owner reference)."""
    run_namespace: str
    """The AnalysisRun's namespace: a Job provider's Jobs are created there and only there."""
    run_uid: str
    """The AnalysisRun's uid: a Job provider's Jobs carry it in their name, in the ``analysisrun.argoproj.io/uid``
    label and in their controller owner reference; empty for a run not yet stored, which cannot own Jobs."""
    metric_name: str
    metric: dict[str, Any]
    """The metric as in the AnalysisRun spec (camelCase, with ``provider``), arguments already substituted."""
    secrets: tuple[str, ...] = ()
    """Secret values to replace with ``*****`` in every message and metadata value."""
    measurement_index: int = 0
    """How many measurements of this metric were taken before this one (errors included); names Jobs."""


@dataclass(frozen=True)
class ProviderResult:
    """The outcome of one call to a provider."""

    value: Any = None
    """What the conditions evaluate as ``result``; None when the provider decides the phase itself."""
    phase: str | None = None
    """``Running``/``Successful``/``Failed``/``Error`` when the provider decides; None: evaluate the conditions."""
    message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    resume_after: float | None = None
    """For ``Running``: seconds until :meth:`MetricProvider.resume` should look again."""


class ProviderError(Exception):
    """A measurement Error; ``str(error)`` is the message, already masked.

    ``metadata`` carries what is worth keeping even though the measurement failed — the query that was
    sent, above all, since "why is it failing" is the first question (Argo issue #1591).
    """

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})

    def __str__(self) -> str:
        return self.message


@runtime_checkable
class MetricProvider(Protocol):
    """What the runner calls; one implementation per provider key of a metric."""

    name: str

    async def run(self, context: MeasurementContext) -> ProviderResult: ...

    async def resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult: ...

    async def terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None: ...

    async def garbage_collect(self, context: MeasurementContext, keep: int) -> None: ...


# --- masking ------------------------------------------------------------------------------------------------


def mask(text: str, secrets: Sequence[str]) -> str:
    """The text with every secret value replaced by ``*****`` — as it is, and in the encodings text picks it up in
    on its way out: percent-encoded (a URL, a form; either hex case, ``+`` for a space), JSON-escaped (``\\"``,
    ``\\u00e9``, ``\\/``; escaped again inside another JSON string) and base64 (HTTP Basic)."""
    wanted = tuple(sorted({secret for secret in secrets if secret}))
    if not wanted:
        return text
    return _secret_pattern(wanted).sub(MASK, text)


@functools.lru_cache(maxsize=256)
def _secret_pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first: when one secret contains another, the longer must be hidden whole, not leave a tail
    # (alternatives are tried in order at each position).
    alternatives: list[str] = []
    for secret in sorted(secrets, key=len, reverse=True):
        encoded = secret.encode()
        # The base64 of a very short secret is two or three common letters: masking those would garble text.
        if len(encoded) >= _MIN_BASE64_SECRET:
            for whole in (base64.b64encode(encoded), base64.urlsafe_b64encode(encoded)):
                text = whole.decode()
                alternatives += [re.escape(text)] + ([re.escape(text.rstrip("="))] if text.endswith("=") else [])
        alternatives.append("".join(_character_forms(character) for character in secret))
    return re.compile("|".join(alternatives))


def _character_forms(character: str) -> str:
    """A pattern for one character of a secret in any of the encodings :func:`mask` knows."""
    forms = [re.escape(character)]
    forms.append("(?i:" + "".join(f"%{byte:02x}" for byte in character.encode()) + ")")
    if character == " ":
        forms.append(r"\+")
    # JSON: the short escapes (\" \\ \n …, \/ by some encoders) and \uXXXX for anything (Go escapes <, > and &),
    # a UTF-16 surrogate pair beyond the BMP; one or more backslashes, for JSON inside a JSON string.
    escaped = json.dumps(character)[1:-1]
    if escaped.startswith("\\") and not escaped.startswith("\\u"):
        forms.append(r"\\+" + re.escape(escaped[1:]))
    if character == "/":
        forms.append(r"\\+/")
    point = ord(character)
    units = [point] if point <= 0xFFFF else [0xD800 + ((point - 0x10000) >> 10), 0xDC00 + ((point - 0x10000) & 0x3FF)]
    forms.append("".join(rf"\\+(?i:u{unit:04x})" for unit in units))
    return "(?:" + "|".join(forms) + ")"


def mask_value(value: Any, secrets: Sequence[str]) -> Any:
    """A value with the strings inside it masked (a web response may echo a header it was sent)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return mask(value, secrets)
    if isinstance(value, list):
        return [mask_value(item, secrets) for item in value]
    if isinstance(value, dict):
        return {mask(str(key), secrets): mask_value(item, secrets) for key, item in value.items()}
    return value


def mask_metadata(metadata: Mapping[str, str], secrets: Sequence[str]) -> dict[str, str]:
    return {key: mask(str(value), secrets) for key, value in metadata.items()}


def mask_result(result: ProviderResult, secrets: Sequence[str]) -> ProviderResult:
    if not secrets:
        return result
    return replace(
        result,
        value=mask_value(result.value, secrets),
        message=mask(result.message, secrets),
        metadata=mask_metadata(result.metadata, secrets),
    )


def masked_error(error: ProviderError, secrets: Sequence[str]) -> ProviderError:
    masked = ProviderError(mask(error.message, secrets), metadata=mask_metadata(error.metadata, secrets))
    if secrets:
        # The original may quote a URL or header holding a secret; chaining it would print it in a traceback.
        masked.__suppress_context__ = True
    else:
        masked.__cause__ = error.__cause__
    return masked


class BaseProvider:
    """Masks what the ``_run``/``_resume``/``_terminate``/``_garbage_collect`` of a subclass return or raise.

    Providers that finish in ``run`` (prometheus, web) inherit a ``resume`` that measures again — a Running
    measurement of theirs can only come from an older controller, and a fresh measurement is the honest answer —
    and no-op ``terminate``/``garbage_collect``.
    """

    name: str = ""

    async def run(self, context: MeasurementContext) -> ProviderResult:
        return mask_result(await _guarded(context, lambda: self._run(context)), context.secrets)

    async def resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        return mask_result(await _guarded(context, lambda: self._resume(context, metadata)), context.secrets)

    async def terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        await _guarded(context, lambda: self._terminate(context, metadata))

    async def garbage_collect(self, context: MeasurementContext, keep: int) -> None:
        await _guarded(context, lambda: self._garbage_collect(context, keep))

    async def _run(self, context: MeasurementContext) -> ProviderResult:
        raise NotImplementedError

    async def _resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        return await self._run(context)

    async def _terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        return None

    async def _garbage_collect(self, context: MeasurementContext, keep: int) -> None:
        return None


async def _guarded(context: MeasurementContext, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except ProviderError as error:
        raise masked_error(error, context.secrets) from None


# --- selection ----------------------------------------------------------------------------------------------


def provider_section(metric: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The one provider a metric configures: its manifest name and its settings.

    Raises ProviderError when there is none, several, or one this project does not measure with.
    """
    section = metric.get("provider")
    metric_name = metric.get("name", "?")
    if not isinstance(section, Mapping) or not section:
        raise ProviderError(f"metric {metric_name!r} has no provider")
    configured: list[str] = []
    for key, value in section.items():
        if value is None:
            continue
        if key == "plugin" and isinstance(value, Mapping):
            configured.extend(f"plugin/{name}" for name in value)
        else:
            configured.append(str(key))
    if len(configured) != 1:
        listed = ", ".join(configured) or "none"
        raise ProviderError(f"metric {metric_name!r} must configure exactly one provider, found: {listed}")
    name = configured[0]
    if name not in SUPPORTED_PROVIDERS:
        raise ProviderError(
            f"provider {name} is not supported by this controller (supported: {', '.join(SUPPORTED_PROVIDERS)})"
        )
    settings = section[name]
    if not isinstance(settings, Mapping):
        raise ProviderError(f"metric {metric_name!r}: provider {name} must be an object, not {settings!r}")
    return name, settings


def provider_for(metric: Mapping[str, Any], *, kube: AsyncKubeClient | None) -> MetricProvider:
    """The provider that measures ``metric`` (a metric of an AnalysisRun spec, in its wire form).

    Raises ProviderError for a metric without a provider, with several, or with one that is not supported
    (``provider datadog is not supported …``), and for a job metric when there is no Kubernetes client.
    """
    # The implementations import this module, so they are imported here rather than at the top; and only the
    # one asked for, since each pulls in its own client library.
    name, _ = provider_section(metric)
    if name == "prometheus":
        from analysis.providers.prometheus import PrometheusProvider

        return PrometheusProvider()
    if name == "web":
        from analysis.providers.web import WebProvider

        return WebProvider()
    if kube is None:
        raise ProviderError("the job provider needs a Kubernetes client, and none was given")
    from analysis.providers.job import JobProvider

    return JobProvider(kube)


# --- network errors -----------------------------------------------------------------------------------------


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: causes, contexts, and exceptions kept in args or ``reason``."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in nested if isinstance(item, BaseException))


def network_reason(error: BaseException) -> str:
    """A short, lower-case reason for a failed connection: ``connection refused``, ``name resolution failed …``.

    HTTP clients wrap the operating system's error several layers deep (requests → urllib3 → socket), and the
    outer messages name pools and object addresses; the innermost OS error is what a person can act on.
    """
    for cause in causes(error):
        if isinstance(cause, socket.gaierror):
            return f"name resolution failed ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
    text = str(error).strip()
    return text or type(error).__name__
