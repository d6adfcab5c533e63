#!/usr/bin/env bash
# Push a multi-arch tag from images named by convention, without writing a spec: the build pushed
# $REGISTRY/app:$VERSION-linux-amd64, …-linux-arm64 and …-linux-armv7, and this joins them under
# $REGISTRY/app:$VERSION (and "latest"), printing the digest for the deployment to pin.
#
#   REGISTRY=r.example VERSION=1.4.0 examples/from-args.sh
#
# Environment:
#   MANIFEST        how to run manifest (default: "manifest", installed with npm install -g multiarch-manifest;
#                   without installing: "npx -p multiarch-manifest manifest"; in a checkout: "npx manifest")
#   MANIFEST_FLAGS  extra flags: credentials (--username … --password-stdin), --plain-http, --ca-file …
set -euo pipefail
: "${REGISTRY:?set REGISTRY, such as r.example or 127.0.0.1:5000}"
: "${VERSION:?set VERSION, such as 1.4.0}"
read -r -a manifest <<< "${MANIFEST:-manifest}"
read -r -a flags <<< "${MANIFEST_FLAGS:-}"

# OS, ARCH and VARIANT in the template are replaced per platform (VARIANT is empty for amd64 and arm64).
"${manifest[@]}" "${flags[@]}" push from-args \
  --platforms linux/amd64,linux/arm64,linux/arm/v7 \
  --template "$REGISTRY/app:$VERSION-OS-ARCHVARIANT" \
  --target "$REGISTRY/app:$VERSION" \
  --tags latest \
  --digest-file app.digest
echo "pinned digest: $(cat app.digest)"
