"""The AnalysisRun controller: watch events feed a cache, a keyed work queue hands runs to a bounded set of
workers, and each pass measures what is due (``analysis.runner.measure_io.reconcile_run``) and writes the verdict to
the run's ``/status``.

Modules: ``cache`` (observed runs, and the Jobs of runs that finished), ``metrics`` (Prometheus, under Argo's
names), ``reconciler`` (one pass: measure → write status → Events → look again), ``controller`` (all of it
assembled, start-up and shut-down), ``handlers`` (the kopf registration). It runs in the same process and kopf
operator as the Rollout controller (``rollouts controller``); nothing here imports ``rollouts``.
"""
