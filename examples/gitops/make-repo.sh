#!/bin/sh
# Make the example's Git repository: the canary of examples/canary-analysis/ plus the hooks and the ConfigMap of
# examples/gitops/repo/, committed on branch main of a bare repository at DEST (default
# /tmp/rollouts-gitops-example.git). Prints the repoURL for application.yaml.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-/tmp/rollouts-gitops-example.git}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/reviews"
cp "$here/../canary-analysis/"*.yaml "$work/reviews/"
cp "$here/repo/reviews/"*.yaml "$work/reviews/"
git -C "$work" init -q -b main
git -C "$work" add .
git -C "$work" -c user.name=example -c user.email=example@localhost commit -q -m "reviews: canary with analysis, hooks"
rm -rf "$dest"
git clone -q --bare "$work" "$dest"
echo "file://$dest"
