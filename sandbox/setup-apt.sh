#!/usr/bin/env bash
# Installs the Debian packages the sandbox and the tests need when they are missing:
# docker-registry (the registry behind ECR), buildah (builds and pushes images: vfs storage,
# chroot isolation, no daemon), skopeo (inspects and copies images) and PostgreSQL's server (the
# tests of the PostgreSQL history store start throwaway servers with initdb and pg_ctl) and
# chromium (the console's browser tests drive Debian's build with playwright-core, which downloads
# no browser of its own).
# Idempotent: when everything is there it returns at once without touching apt.
set -euo pipefail

declare -A package_of=([docker-registry]=docker-registry [buildah]=buildah [skopeo]=skopeo [chromium]=chromium)
missing=()
for cmd in "${!package_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
# Debian keeps PostgreSQL's server binaries off PATH, in /usr/lib/postgresql/<version>/bin.
postgres_server() {
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || command -v initdb >/dev/null 2>&1
}
postgres_server || missing+=(postgresql)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-apt: missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "setup-apt: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if [[ " ${missing[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.d/kubecontrol.conf ]]; then
  # The tests run servers of their own: no system-wide "main" cluster on port 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/kubecontrol.conf
fi
# The package lists of a fresh machine may be empty or stale.
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian's package starts a registry on :5000 as a system service; the sandbox runs its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl disable --now docker-registry >&2 || true
fi
postgres_server || {
  echo "setup-apt: PostgreSQL's server is still missing (no /usr/lib/postgresql/*/bin/pg_ctl)" >&2
  exit 1
}
