"""The Rollout controller's wiring: watch events feed a cache, a keyed work queue drives reconciles, and each
reconcile turns a snapshot into a Plan (``rollouts.reconcile.decide``) and carries it out.

Modules: ``cache`` (observed objects and their indexes), ``executor`` (the writes of a Plan), ``metrics``
(Prometheus), ``reconciler`` (one pass: snapshot → decide → act → look again), ``controller`` (all of it
assembled, start-up and shut-down), ``handlers`` (the kopf registration), ``run`` (the ``rollouts controller``
process, which also runs the analysis controller, ``analysis.controller``). What any controller can use lives in
``kube``: the work queue, the Event recorder, the metrics server, kopf's settings and login.
"""
