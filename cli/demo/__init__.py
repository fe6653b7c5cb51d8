"""`rollouts demo`: the sandbox, the controllers, the mesh simulator and a real Prometheus in one process tree,
running an Istio canary with analysis through a good and a bad version (see docs/demo.md)."""
