#!/usr/bin/env bash
# Prepares the Python that runs the sandbox's moto launcher, and prints its path on stdout.
#
#   sandbox/setup-python.sh            # idempotent; instant when already done
#
# Uses python3 as it is when it already has moto 5.2.1 and Flask; otherwise creates a
# virtualenv in the sandbox cache (${KUBECONTROL_SANDBOX_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kubecontrol/sandbox}/venv)
# with moto[server]==5.2.1 and the AWS CLI. Everything but the final path goes to stderr.
set -euo pipefail

MOTO_VERSION=5.2.1
CACHE="${KUBECONTROL_SANDBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubecontrol/sandbox}"
VENV="$CACHE/venv"
CHECK="import moto, flask, werkzeug, boto3, cryptography, sys; sys.exit(0 if moto.__version__ == '$MOTO_VERSION' else 3)"

usable() { "$1" -c "$CHECK" >/dev/null 2>&1; }

if [ -x "$VENV/bin/python" ] && usable "$VENV/bin/python"; then
  echo "$VENV/bin/python"
  exit 0
fi
if command -v python3 >/dev/null 2>&1 && usable python3; then
  command -v python3
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-python.sh: python3 not found; install it: apt-get install -y python3 python3-venv" >&2
  exit 3
fi

echo "setup-python.sh: installing moto[server]==$MOTO_VERSION and awscli into $VENV" >&2
mkdir -p "$CACHE"
if ! python3 -m venv "$VENV" >&2; then
  echo "setup-python.sh: python3 cannot create a virtualenv; install it: apt-get install -y python3-venv" >&2
  exit 3
fi
# botocore and the AWS CLI pinned to the versions the launcher's mends were tested with: moto
# parses requests with botocore's models, so a newer botocore can change what it accepts.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "moto[server]==$MOTO_VERSION" "boto3==1.43.11" "botocore==1.43.11" "awscli==1.45.11" >&2
if ! usable "$VENV/bin/python"; then
  echo "setup-python.sh: $VENV/bin/python still cannot import moto $MOTO_VERSION and Flask" >&2
  exit 4
fi
echo "$VENV/bin/python"
