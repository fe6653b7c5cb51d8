#!/usr/bin/env bash
# The main-job command: bootstrap, then run the embedded sandbox cluster until interrupted.
# (Replaced by `rollouts demo` once the controllers and the analysis runner exist.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/rollouts sandbox --kubeconfig "${KUBECONFIG_OUT:-$PWD/kubeconfig.sandbox.yaml}" "$@"
