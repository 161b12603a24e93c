# shellcheck shell=bash
# The variables below are read by the scripts that source this file, not here.
# shellcheck disable=SC2034
# Shared helpers for the set-up scripts. Source it; do not run it.
# Every slow artefact lives in a cache outside the checkout so clean clones reuse it.

: "${AUTHREG_CACHE_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/authenticated-registry}"
export AUTHREG_CACHE_DIR

# Pulumi's own folder (its plugins, workspace settings and credentials) and the local state
# backend, both under $HOME. Left to itself, the pulumi CLI takes its folder, and the `~` of
# Pulumi.yaml's backend URL, from the account's passwd entry rather than from $HOME, so with HOME
# set elsewhere (a CI container, `sudo -E`) state and plugins would land in another home than the
# one scripts/toolchain.sh registers the plugins in. A PULUMI_HOME, PULUMI_BACKEND_URL or
# AUTHREG_STATE_DIR of the caller's wins; AUTHREG_STATE_DIR wins over PULUMI_BACKEND_URL.
: "${PULUMI_HOME:=$HOME/.pulumi}"
export PULUMI_HOME
if [[ -n ${AUTHREG_STATE_DIR:-} ]]; then
  PULUMI_BACKEND_URL=file://$AUTHREG_STATE_DIR
elif [[ -z ${PULUMI_BACKEND_URL:-} ]]; then
  AUTHREG_STATE_DIR=$HOME/.local/state/authenticated-registry
  PULUMI_BACKEND_URL=file://$AUTHREG_STATE_DIR
fi
export PULUMI_BACKEND_URL

# Versions the npm lockfile pins; the engine looks plugins up by these exact versions.
PULUMI_VERSION=3.248.0
PULUMI_DOCKER_VERSION=5.0.0
PULUMI_TLS_VERSION=5.5.1
PULUMI_RANDOM_VERSION=4.21.1
# The Kubernetes provider, which only the Kubernetes stacks and their tests use: scripts/toolchain.sh
# builds and registers it only when asked for it (kubernetes-provider), never for `up`.
PULUMI_KUBERNETES_VERSION=4.25.0

# Offline stand-ins for the official images, tagged under the project's own names (scripts/images.sh
# builds them). Each tag can be set in the environment instead, to build an image under another name.
: "${AUTHREG_NGINX_IMAGE:=authenticated-registry/nginx:1.22-bookworm}"
: "${AUTHREG_REGISTRY_IMAGE:=authenticated-registry/registry:3.1-bookworm}"
# The legacy line, Debian's distribution 2.8 package; still built, tested and selectable.
: "${AUTHREG_REGISTRY2_IMAGE:=authenticated-registry/registry:2.8-bookworm}"
# The token service's runtime: the official Node.js 22 binary on Debian bookworm.
: "${AUTHREG_NODE_IMAGE:=authenticated-registry/node:22-bookworm}"
# An S3-compatible server for the object storage tests: MinIO built from its Go module.
: "${AUTHREG_MINIO_IMAGE:=authenticated-registry/minio:2026-02-bookworm}"
# A Docker engine in a container, a node of the multi-node swarm (scripts/swarm-cluster.sh);
# built only on demand.
: "${AUTHREG_SWARM_NODE_IMAGE:=authenticated-registry/swarm-node:20.10-bookworm}"
export AUTHREG_NGINX_IMAGE AUTHREG_REGISTRY_IMAGE AUTHREG_REGISTRY2_IMAGE AUTHREG_NODE_IMAGE AUTHREG_MINIO_IMAGE \
  AUTHREG_SWARM_NODE_IMAGE

# image_tag NAME: the tag of scripts/images.sh's image NAME.
image_tag() {
  case $1 in
    nginx) printf '%s\n' "$AUTHREG_NGINX_IMAGE" ;;
    registry3) printf '%s\n' "$AUTHREG_REGISTRY_IMAGE" ;;
    registry) printf '%s\n' "$AUTHREG_REGISTRY2_IMAGE" ;;
    node) printf '%s\n' "$AUTHREG_NODE_IMAGE" ;;
    minio) printf '%s\n' "$AUTHREG_MINIO_IMAGE" ;;
    swarm-node) printf '%s\n' "$AUTHREG_SWARM_NODE_IMAGE" ;;
    *) return 1 ;;
  esac
}

# stack_images STACK: the scripts/images.sh names of the images a stack of this project runs, for
# `up` to build only those: nginx and node, which every stack runs, and each other stand-in whose
# tag the stack's settings name (Pulumi.yaml, Pulumi.STACK.yaml): the registry 3 or the 2.8
# image, ... It reads the files, so it needs neither pulumi nor the stack in a backend.
stack_images() {
  local root name files=()
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  for name in Pulumi.yaml "Pulumi.$1.yaml"; do
    if [[ -f $root/$name ]]; then files+=("$root/$name"); fi
  done
  printf '%s\n' nginx node
  for name in registry3 registry minio swarm-node; do
    if ((${#files[@]})) && grep -qF -- "$(image_tag "$name")" "${files[@]}"; then printf '%s\n' "$name"; fi
  done
}

# Where scripts/stack-env.sh keeps the passphrase it generates for a stack (mode 600).
stack_passphrase_file() { printf '%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/authenticated-registry/$1.passphrase"; }

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
step() { printf '    %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# need_root WHAT COMMAND: stops, before anything is half done, unless this runs as root; the
# message says what needs root and the exact command that does it.
need_root() {
  [[ $(id -u) == 0 ]] || die "$1 needs root; run this, then rerun:
    $2"
}

# apt_install PKG...: installs Debian packages without starting their services. invoke-rc.d asks
# /usr/sbin/policy-rc.d before it starts anything, and its exit code 101 forbids it (Debian's
# convention); one is put in place for the install only, unless the host already has its own.
# So installing nginx never starts a web server, and nothing here signals a process it did not
# start. Without root it prints the command to run instead.
apt_install() {
  need_root "installing the Debian packages $*" "sudo apt-get install -y --no-install-recommends $*"
  local policy=/usr/sbin/policy-rc.d placed=false status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# authenticated-registry: start no service while it installs packages.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    placed=true
  fi
  mkdir -p "$AUTHREG_CACHE_DIR"
  # In a subshell: run_logged exits on failure, and the policy must be removed even then.
  (run_logged "apt-get install $*" "$AUTHREG_CACHE_DIR/apt.log" \
    env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@"' apt "$@") \
    || status=$?
  if $placed; then rm -f "$policy"; fi
  return "$status"
}

# with_heartbeat LABEL CMD...: runs CMD, printing "LABEL: still running (N s)" on stderr every
# 30 s so CI logs show progress, and returns CMD's status as soon as it ends (the benchmarks time
# commands through it). CMD runs in the background: its stdin is /dev/null. Needs bash >= 5.1
# (wait -n -p).
with_heartbeat() {
  local label=$1; shift
  ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501)) || die "with_heartbeat needs bash 5.1 or later (this is $BASH_VERSION)"
  "$@" &
  local pid=$! start=$SECONDS beat=30 ticker="" ended status
  while :; do
    if [[ -z $ticker ]]; then
      sleep 1 >/dev/null 2>&1 &
      ticker=$!
    fi
    # wait unsets `ended` first and names no job when a trapped signal interrupts it.
    if wait -n -p ended "$pid" "$ticker"; then status=0; else status=$?; fi
    ended=${ended:-}
    if [[ $ended == "$pid" ]] || { [[ -z $ended ]] && ! kill -0 "$pid" 2>/dev/null; }; then
      kill "$ticker" 2>/dev/null || true
      wait "$ticker" 2>/dev/null || true
      # The command ended but the interrupted wait did not report it: ask for its status.
      if [[ $ended != "$pid" ]]; then
        if wait "$pid"; then status=0; else status=$?; fi
      fi
      return "$status"
    elif [[ $ended == "$ticker" ]]; then
      ticker=""
      if ((SECONDS - start >= beat)); then
        step "$label: still running ($((SECONDS - start)) s)"
        beat=$((beat + 30))
      fi
    fi
  done
}

# run_logged [-n LINES] [-v REGEX] LABEL LOGFILE CMD...: runs CMD with its output (stdout and
# stderr) appended to LOGFILE, after a line naming the command, and a heartbeat on stderr
# (with_heartbeat LABEL). If CMD fails, prints the last LINES lines of LOGFILE (default 40),
# leaving out the lines that match the extended REGEX if given, and stops with
# "LABEL failed (full log: LOGFILE)". Truncate LOGFILE first for a log of this run only.
run_logged() {
  local lines=40 exclude=""
  while (($#)); do
    case $1 in
      -n) lines=$2; shift 2 ;;
      -v) exclude=$2; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  local label=$1 logf=$2; shift 2
  printf '\n---- %s: %s\n' "$(date -Is)" "$*" >>"$logf"
  if ! with_heartbeat "$label" _append_output_to "$logf" "$@"; then
    if [[ -n $exclude ]]; then
      grep -Ev -- "$exclude" "$logf" | tail -n "$lines" >&2 || true
    else
      tail -n "$lines" "$logf" >&2 || true
    fi
    die "$label failed (full log: $logf)"
  fi
}
# (run_logged's helper: CMD with its output appended to file $1.)
_append_output_to() { local f=$1; shift; "$@" >>"$f" 2>&1; }

# Makes this engine a single-node swarm when it is in none. The swarm's ports (2377, 7946, 4789)
# are advertised and listened on loopback only, so nothing outside this host can join it.
ensure_single_node_swarm() {
  local state
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  case $state in
    active) return 0 ;;
    inactive)
      docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
      step "this Docker engine is now a single-node swarm (docker swarm leave --force undoes it)" ;;
    *) die "this Docker engine's swarm state is $state; expected active or inactive" ;;
  esac
}

# A swarm stack (runtime: swarm) with filesystem storage keeps its images in a volume on one
# node, so its tasks must be pinned there. With no constraint set, pins them to this engine's
# node: it writes swarm.constraints into the stack's Pulumi.STACK.yaml, as the first `up` writes
# its encryptionsalt. Other stacks are left alone. Call with the stack selected.
pin_swarm_stack() {
  local stack=$1 node
  [[ $(pulumi config get runtime --stack "$stack" 2>/dev/null || true) == swarm ]] || return 0
  [[ $(pulumi config get --path storage.kind --stack "$stack" 2>/dev/null || echo filesystem) == filesystem ]] || return 0
  [[ $(pulumi config get --path swarm.constraints --stack "$stack" 2>/dev/null || echo '[]') == "[]" ]] || return 0
  node=$(docker info --format '{{.Name}}')
  pulumi config set --path 'swarm.constraints[0]' "node.hostname==$node" --stack "$stack"
  step "pinned stack $stack's tasks to this node ($node), which holds its data volume"
}
