"""Turning a source directory into plain Kubernetes manifests: plain directories of YAML/JSON, Kustomize and
Helm, detected as Argo CD detects them, with a bounded cache of the results."""
