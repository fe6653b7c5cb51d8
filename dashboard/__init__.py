"""`rollouts dashboard`: a web UI over Rollouts and Applications, kept live from the cluster's watches.

``server.py`` is the ASGI app (on starlette, served by uvicorn); ``access.py`` decides who may use it and
``access_guard.py`` enforces it on every request;
``live_cache.py`` holds what the watches report; ``rollout_pages.py``, ``application_pages.py`` and
``metric_charts.py`` turn that into HTML (pure); ``actions.py`` runs the buttons through the CLI's own code.
"""
