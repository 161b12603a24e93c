# shellcheck shell=bash
# The variables below are read by the scripts that source this file, not here.
# shellcheck disable=SC2034
# Shared helpers for the set-up scripts. Source it; do not run it.
# Every slow artefact lives in a cache outside the checkout so clean clones reuse it.

: "${AUTHREG_CACHE_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/authenticated-registry}"
export AUTHREG_CACHE_DIR

# Versions the npm lockfile pins; the engine looks plugins up by these exact versions.
PULUMI_VERSION=3.248.0
PULUMI_DOCKER_VERSION=5.0.0
PULUMI_TLS_VERSION=5.5.1
PULUMI_RANDOM_VERSION=4.21.1

# Offline stand-ins for the official images, tagged under the project's own names.
AUTHREG_NGINX_IMAGE=authenticated-registry/nginx:1.22-bookworm
AUTHREG_REGISTRY_IMAGE=authenticated-registry/registry:2.8-bookworm

# Where scripts/stack-env.sh keeps the passphrase it generates for a stack (mode 600).
stack_passphrase_file() { printf '%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/authenticated-registry/$1.passphrase"; }

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
step() { printf '    %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a long command, printing a heartbeat every 30 s so CI logs show progress.
with_heartbeat() {
  local label=$1; shift
  "$@" &
  local pid=$! start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
      step "$label: still running ($((SECONDS - start)) s)"
    fi
  done
  wait "$pid"
}
