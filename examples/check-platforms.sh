#!/usr/bin/env bash
# Checks that an image covers every platform your cluster's nodes run, before a DaemonSet rolls out.
#
#   examples/check-platforms.sh IMAGE [PLATFORM...]
#   examples/check-platforms.sh r.example/app:1 linux/amd64 linux/arm64 linux/arm/v7
#
# With no PLATFORM, the platforms are read from the cluster: kubectl get nodes (os/arch of each node).
# Extra manifest flags (credentials, --plain-http, --ca-file) can be given in MANIFEST_FLAGS.
set -euo pipefail
image="${1:?usage: $0 IMAGE [PLATFORM...]}"
shift
if [ "$#" -eq 0 ]; then
  mapfile -t platforms < <(kubectl get nodes -o jsonpath='{range .items[*]}{.status.nodeInfo.operatingSystem}/{.status.nodeInfo.architecture}{"\n"}{end}' | sort -u)
else
  platforms=("$@")
fi
manifest="${MANIFEST:-manifest}"
missing=0
for platform in "${platforms[@]}"; do
  # shellcheck disable=SC2086
  if digest=$($manifest ${MANIFEST_FLAGS:-} inspect --json --platform "$platform" "$image" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).digest))'); then
    echo "ok       $platform  $digest"
  else
    echo "MISSING  $platform" >&2
    missing=$((missing + 1))
  fi
done
[ "$missing" -eq 0 ] || { echo "$image lacks $missing platform(s)" >&2; exit 1; }
