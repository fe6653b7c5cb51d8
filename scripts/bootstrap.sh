#!/usr/bin/env bash
# Prepares a fresh machine: a venv with the package and its dev extras, and Debian's prometheus and kubectl when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    rm -f .venv/.installed-* && touch "$stamp"
fi

# Debian packages the tests need: prometheus (the sandbox's metrics server), kubectl (kustomize and the kubectl
# conformance tests; Debian names its package kubernetes-client), git (the sync engine's sources) and chromium with
# its driver (the dashboard's browser tests, which drive /usr/bin/chromium). A missing one fails the tests, never skips.
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian's ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's package starts a system service where systemd runs; the sandbox starts its own instances instead.
