#!/usr/bin/env bash
# Builds the sandbox's Kubernetes binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok, kwokctl) from the Go module proxy at the versions pinned
# in sandbox/k8s/go.mod and sandbox/etcd/go.mod, into a cache directory keyed by those versions.
# Idempotent: when every binary is there it returns at once without starting Go.
#
# Usage: sandbox/build-k8s.sh [--print-dir]
#   --print-dir  only print the bin directory (building nothing)
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_mod="$here/k8s/go.mod"
etcd_mod="$here/etcd/go.mod"
kwok_version="v0.7.0"
# Bump when the way binaries are built changes (flags, ldflags), so that cached ones are not reused.
build_rev=1

# Versions are read from the go.mod files so that bumping a pin there is the only edit needed.
pinned() { awk -v m="$2" '$1 == "require" { $1 = "" ; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$1"; }
k8s_version="$(pinned "$k8s_mod" k8s.io/kubernetes)"
etcd_version="$(pinned "$etcd_mod" go.etcd.io/etcd/server/v3)"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build-k8s: cannot read pinned versions from $k8s_mod / $etcd_mod" >&2
  exit 2
fi
# The key also hashes the module files: a changed replace or go.sum must not reuse old binaries.
sum="$( (cat "$k8s_mod" "$here/k8s/go.sum" "$etcd_mod" "$here/etcd/go.sum"; echo "$build_rev") | sha256sum | cut -c1-10)"
key="k8s-${k8s_version}_etcd-${etcd_version}_kwok-${kwok_version}_${sum}"
cache_root="${KUBECONTROL_SANDBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubecontrol/sandbox}"
bin="$cache_root/$key/bin"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)

if [[ "${1:-}" == "--print-dir" ]]; then
  echo "$bin"
  exit 0
fi

missing=()
for b in "${binaries[@]}"; do
  [[ -x "$bin/$b" ]] || missing+=("$b")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-k8s: Go is required to build ${missing[*]} (install Go >= 1.24, e.g. apt-get install golang-go)" >&2
  exit 2
fi

mkdir -p "$bin"
# One builder at a time: two concurrent `sandbox up` must not race on the same outputs.
exec 9>"$cache_root/$key/.build.lock"
flock 9

start=$SECONDS
# Binaries are built into a temporary name and renamed, so an interrupted build never leaves a
# half-written file that the fast path above would take for a finished one.
build_to() {
  local name="$1" module_dir="$2" ldflags="$3" pkg="$4"
  [[ -x "$bin/$name" ]] && return 0
  echo "build-k8s: building $name" >&2
  go -C "$module_dir" build -trimpath -ldflags "$ldflags" -o "$bin/.$name.tmp" "$pkg"
  mv -f "$bin/.$name.tmp" "$bin/$name"
}

minor="${k8s_version#v1.}"
minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
export CGO_ENABLED=0
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  build_to "$cmd" "$here/k8s" "-s -w$k8s_ldflags" "k8s.io/kubernetes/cmd/$cmd"
done

etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${etcd_version}"
build_to etcd "$here/etcd" "$etcd_ldflags" .

# kwokctl picks kube-apiserver flags by the Kubernetes version it believes it runs.
if [[ ! -x "$bin/kwok" || ! -x "$bin/kwokctl" ]]; then
  echo "build-k8s: installing kwok and kwokctl $kwok_version" >&2
  GOBIN="$bin" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${k8s_version}" \
    "sigs.k8s.io/kwok/cmd/kwok@${kwok_version}" "sigs.k8s.io/kwok/cmd/kwokctl@${kwok_version}"
fi

echo "build-k8s: built ${missing[*]} in $((SECONDS - start)) s into $bin" >&2
echo "$bin"
