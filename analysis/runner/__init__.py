"""The AnalysisRun runner: when to measure, how to record a measurement, and how a run is judged.

``rules``, ``measurements`` and ``lifecycle`` are pure (plain dicts in, plain dicts out, ``now`` as an input);
``args`` and ``measure`` are the I/O edge that reads Secrets and calls metric providers; docs/analysis.md has the
rules in prose. Nothing here knows about kopf: the caller writes ``status_patch`` to the run's ``/status``
subresource and looks again after ``requeue_after``.
"""
