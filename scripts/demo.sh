#!/usr/bin/env bash
# The main-job command: bootstrap, then run the demo — sandbox, controllers, mesh simulator and Prometheus; a good
# version promoted, a bad one rolled back by its analysis. Exit 0 when both ended as expected. Extra arguments go to
# `rollouts demo` (e.g. --speed 4, --scenario bad).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/rollouts demo "$@"
