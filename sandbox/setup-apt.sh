#!/usr/bin/env bash
# Installs the Debian packages the sandbox's registry needs when they are missing:
# docker-registry (the registry behind ECR), buildah (builds and pushes images: vfs storage,
# chroot isolation, no daemon) and skopeo (inspects and copies images). Idempotent: when all
# three commands are there it returns at once without touching apt.
set -euo pipefail

declare -A package_of=([docker-registry]=docker-registry [buildah]=buildah [skopeo]=skopeo)
missing=()
for cmd in "${!package_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-apt: missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "setup-apt: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine may be empty or stale.
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian's package starts a registry on :5000 as a system service; the sandbox runs its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl disable --now docker-registry >&2 || true
fi
