#!/usr/bin/env bash
# Checks that an image covers every platform your cluster's nodes run, before a DaemonSet rolls out.
#
#   examples/check-platforms.sh IMAGE [PLATFORM...]
#   examples/check-platforms.sh r.example/app:1 linux/amd64 linux/arm64 linux/arm/v7
#
# With no PLATFORM, the platforms are read from the cluster (kubectl get nodes: each node's os/arch).
# Environment:
#   MANIFEST        how to run manifest (default: "manifest", installed with npm install -g multiarch-manifest;
#                   without installing: "npx -p multiarch-manifest manifest"; in a checkout: "npx manifest")
#   MANIFEST_FLAGS  extra flags: credentials, --plain-http, --ca-file …
# Exit: 0 when every platform is covered, 1 when some are missing, 2 when the cluster cannot be read, else manifest's own exit code
# (a registry or credential problem is reported as such, not as a missing platform).
set -euo pipefail
image="${1:?usage: $0 IMAGE [PLATFORM...]}"
shift
if [ "$#" -eq 0 ]; then
  # A cluster that cannot be read must not look like a cluster with nothing to check.
  nodes=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.nodeInfo.operatingSystem}/{.status.nodeInfo.architecture}{"\n"}{end}') \
    || { echo "cannot list the cluster's nodes (kubectl failed): name the platforms instead" >&2; exit 2; }
  mapfile -t platforms < <(printf '%s\n' "$nodes" | sed '/^$/d' | sort -u)
  [ "${#platforms[@]}" -gt 0 ] || { echo "the cluster reports no nodes: name the platforms instead" >&2; exit 2; }
else
  platforms=("$@")
fi
read -r -a manifest <<< "${MANIFEST:-manifest}"
read -r -a flags <<< "${MANIFEST_FLAGS:-}"
command -v "${manifest[0]}" > /dev/null || { echo "${manifest[0]} not found: npm install -g multiarch-manifest, or set MANIFEST (\"npx -p multiarch-manifest manifest\")" >&2; exit 2; }

# The image itself first: a missing tag or a registry problem is reported once, as such, not as missing platforms.
"${manifest[@]}" "${flags[@]}" inspect --raw "$image" > /dev/null || exit $?

missing=0
for platform in "${platforms[@]}"; do
  status=0
  digest=$("${manifest[@]}" "${flags[@]}" inspect --json --platform "$platform" "$image" | sed -n 's/^  "digest": "\(.*\)",$/\1/p') || status=$?
  case "$status" in
    0) echo "ok       $platform  $digest" ;;
    4) echo "MISSING  $platform" >&2; missing=$((missing + 1)) ;;
    *) exit "$status" ;;  # manifest already said what went wrong
  esac
done
[ "$missing" -eq 0 ] || { echo "$image lacks $missing of ${#platforms[@]} platform(s)" >&2; exit 1; }
