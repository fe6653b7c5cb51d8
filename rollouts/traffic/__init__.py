"""Traffic routing: the mesh-neutral router interface (``router.py``), the registry that picks a Rollout's router
(``registry.py``), several routing calls in one pass (``sequencing.py``), and the routers behind it: Istio
(``istio.py``, ``istio_routes.py``, ``istio_router.py``), NGINX Ingress (``nginx.py``) and the Gateway API
(``gateway_api.py``).
"""
