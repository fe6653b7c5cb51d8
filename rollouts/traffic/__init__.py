"""Traffic routing: the mesh-neutral router interface and its registry (``router.py``) and the meshes behind it
(``istio.py``).
"""
