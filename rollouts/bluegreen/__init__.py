"""The blue-green strategy: its decisions (preview size, pause, switch, scale-down), its pre/post-promotion analysis
and its reconcile pass (``reconcile.py``, a linear list of named steps).
"""
