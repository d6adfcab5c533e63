#!/usr/bin/env bash
# Publish images built without a Docker daemon as one multi-arch tag: nix's dockerTools left
# docker/linux.amd64.tar.gz, docker/linux.arm64.tar.gz, docker/linux.arm.v7.tar.gz (`docker save` and
# `skopeo copy … docker-archive:` files, OCI layouts and OCI archives work the same). Each file's name must
# match the platform in its image config. The digest is written for the deployment to pin, and the tag is
# exported as an OCI archive for the release assets.
#
#   REGISTRY=r.example VERSION=1.4.0 examples/nix-archives.sh [DIR]
#
# Environment:
#   MANIFEST        how to run manifest (default: "manifest"; in a checkout: "npx manifest")
#   MANIFEST_FLAGS  extra flags: credentials (--username … --password-stdin), --plain-http, --ca-file …
set -euo pipefail
: "${REGISTRY:?set REGISTRY, such as r.example or 127.0.0.1:5000}"
: "${VERSION:?set VERSION, such as 1.4.0}"
dir="${1:-docker}"
read -r -a manifest <<< "${MANIFEST:-manifest}"
read -r -a flags <<< "${MANIFEST_FLAGS:-}"

# Every *.tar, *.tar.gz and *.tgz in the directory, in name order; uncompressed layers are gzip-compressed
# (the same files give the same digest again, so a re-run pushes nothing).
"${manifest[@]}" "${flags[@]}" push archives \
  --target "$REGISTRY/app:$VERSION" \
  --tags latest \
  --digest-file app.digest \
  "$dir"
echo "pinned digest: $(cat app.digest)"

"${manifest[@]}" "${flags[@]}" export "$REGISTRY/app:$VERSION" --oci-archive "app-$VERSION.oci.tar"
