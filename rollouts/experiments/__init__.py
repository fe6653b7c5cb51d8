"""The Experiment kind: ephemeral ReplicaSets run side by side, optionally with their own AnalysisRuns."""
