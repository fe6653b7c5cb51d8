"""Metric providers of the analysis runner: ``prometheus``, ``web`` and ``job`` behind one protocol.

The runner picks a provider with :func:`provider_for` and calls ``run`` (then ``resume`` while a measurement
is Running), ``terminate`` and ``garbage_collect``; see :mod:`analysis.providers.base` for the contract and
docs/analysis-providers.md for each provider's settings and errors.
"""

from analysis.providers.base import (
    MeasurementContext,
    MetricProvider,
    ProviderError,
    ProviderResult,
    mask,
    provider_for,
)

__all__ = [
    "MeasurementContext",
    "MetricProvider",
    "ProviderError",
    "ProviderResult",
    "mask",
    "provider_for",
]
