"""Analysis gating: the AnalysisRuns a Rollout creates (``runs.py``), how their verdicts gate the update
(``tracking.py``) and which finished runs are kept (``history.py``).
"""
