#!/bin/sh
# Make the example's two Git repositories under DIR (default /tmp/rollouts-gitops-platform):
#   DIR/platform.git  the platform repository: AppProjects, the ApplicationSet, the Helm Applications (platform/)
#   DIR/apps.git      the apps repository: apps/guestbook (plain manifests), charts/podinfo (a Helm chart) (apps/)
# both bare, on branch main, with every https://git.example.com/platform/ URL rewritten to file://DIR/ so that the
# controller on this machine can read them. Writes DIR/root-application.yaml (the root Application, rewritten the
# same way) and prints its path: `kubectl apply -f` it and the rest follows from Git.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-/tmp/rollouts-gitops-platform}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
base="https://git.example.com/platform/"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The repository at DIR/NAME.git made from the example folder SOURCE, URLs rewritten; MESSAGE is its first commit.
make_repo() {
    name=$1 source=$2 message=$3
    cp -R "$here/$source" "$work/$name"
    find "$work/$name" -name '*.yaml' -exec sed -i.orig "s|$base|file://$dest/|g" {} +
    find "$work/$name" -name '*.orig' -exec rm {} +
    git -C "$work/$name" init -q -b main
    git -C "$work/$name" add .
    git -C "$work/$name" -c user.name=example -c user.email=example@localhost commit -q -m "$message"
    rm -rf "$dest/$name.git"
    git clone -q --bare "$work/$name" "$dest/$name.git"
}

make_repo platform platform "platform: team-a's project, its ApplicationSet over apps/*, podinfo per environment"
make_repo apps apps "apps: guestbook (manifests) and the podinfo chart (values per environment)"
sed "s|$base|file://$dest/|g" "$here/root-application.yaml" > "$dest/root-application.yaml"
echo "$dest/root-application.yaml"
