#!/usr/bin/env bash
# The test command: bootstrap, then lint, type-check and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check rollouts analysis gitops kube sandbox cli dashboard notifications tests bench
.venv/bin/mypy
# Two test workers: the suite spends most of its time waiting (controllers' timers, subprocesses starting, polls),
# about 6 CPU-minutes in 11 minutes on one worker, so a second worker overlaps the waits on a 2-core machine.
# --dist loadfile keeps each test module on one worker, so a module-scoped sandbox starts once, as on one worker.
# The tests choose free ports and write under their tmp_path or a fresh temporary directory (docs/testing.md).
workers=()
if .venv/bin/python -c "import xdist" 2>/dev/null; then
    workers=(-n 2 --dist loadfile)
else
    echo "test.sh: pytest-xdist is not installed (add it to pyproject's dev extras): one test worker" >&2
fi
.venv/bin/pytest -q "${workers[@]}" "$@"
