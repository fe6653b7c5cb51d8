"""The canary strategy: its steps, its ReplicaSet sizes, its analysis and its reconcile pass (``reconcile.py``, a
linear list of named steps).
"""
