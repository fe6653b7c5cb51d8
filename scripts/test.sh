#!/usr/bin/env bash
# The test command: bootstrap, then lint, type-check and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check rollouts analysis gitops kube sandbox cli tests bench
.venv/bin/mypy
.venv/bin/pytest -q "$@"
