#!/usr/bin/env bash
# How many collected test items each test function contributes, most first: a parametrized or generated test
# that dwarfs the rest shows at the top (the suite's size should say how much is checked, not how it is counted).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD
.venv/bin/pytest --collect-only -q -p no:cacheprovider "${@:-tests}" 2>/dev/null \
    | grep '::' | sed 's/\[.*//' | sort | uniq -c | sort -rn
