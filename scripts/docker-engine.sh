#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine.
#
# - If `docker version` already reaches a daemon, it does nothing.
# - Otherwise it installs Debian's docker.io (dockerd 20.10, API 1.41) when dockerd is missing,
#   starts dockerd in the background (there is no systemd here) with its log in
#   $AUTHREG_CACHE_DIR/dockerd.log, and waits until `docker version` answers.
#
# The docker CLI on PATH may be newer than the daemon (e.g. CLI 28 / API 1.50 against 1.41):
# the CLI, like the Go client the Pulumi docker provider uses, negotiates the API version down
# when DOCKER_API_VERSION is unset, so nothing is pinned here. Idempotent; safe to re-run.
#
# A dockerd it starts has its pid recorded in $AUTHREG_CACHE_DIR/dockerd.pid. With --restart it
# stops that dockerd (SIGTERM, as an init system would) and starts it again; it refuses to touch
# an engine it did not start, since stopping one stops every container on the machine.
#
#   scripts/docker-engine.sh [--restart]
#
# Env: AUTHREG_DOCKERD_TIMEOUT (seconds to wait for the daemon, default 90).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

restart=false
case ${1:-} in
  --restart) restart=true ;;
  "") ;;
  *) die "unknown option $1 (expected --restart)" ;;
esac

timeout_s=${AUTHREG_DOCKERD_TIMEOUT:-90}
mkdir -p "$AUTHREG_CACHE_DIR"
dockerd_log=$AUTHREG_CACHE_DIR/dockerd.log
pid_file=$AUTHREG_CACHE_DIR/dockerd.pid

# Prints the pid of the dockerd this script started, if that process still runs.
started_pid() {
  local pid
  [[ -s $pid_file ]] || return 1
  pid=$(<"$pid_file")
  kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] && printf '%s\n' "$pid"
}

if $restart; then
  pid=$(started_pid) || die "the running Docker engine was not started by this script; restart it the way it was started"
  log "Stopping dockerd (pid $pid) to restart it"
  kill -TERM "$pid"
  deadline=$((SECONDS + timeout_s))
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || die "dockerd (pid $pid) did not exit within ${timeout_s}s of SIGTERM"
    sleep 0.5
  done
  rm -f "$pid_file"
fi

daemon_answers() { docker version >/dev/null 2>&1; }

show_versions() {
  docker version --format \
    'client {{.Client.Version}} (API {{.Client.APIVersion}}), daemon {{.Server.Version}} (API {{.Server.APIVersion}})' \
    2>/dev/null || true
}

command -v docker >/dev/null 2>&1 || NEED_CLI=1

if [[ -z ${NEED_CLI:-} ]] && daemon_answers; then
  step "docker engine already answers: $(show_versions)"
  exit 0
fi

# A daemon that runs but refuses this user: say how to get in rather than start another.
if [[ -S /var/run/docker.sock && ! -w /var/run/docker.sock && $(id -u) != 0 ]]; then
  die "the Docker engine's socket /var/run/docker.sock is not writable by $(id -un); join the docker group, then log in again:
    sudo usermod -aG docker $(id -un)"
fi

if ! command -v dockerd >/dev/null 2>&1 || [[ -n ${NEED_CLI:-} ]]; then
  log "Installing Debian's docker.io (dockerd is missing)"
  # The package's service is not started (apt_install); this script starts dockerd below.
  apt_install docker.io
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is not on PATH"
fi

# A dockerd that is already starting (pid file of a live process) is waited for, not doubled.
running_pid=""
if [[ -s /var/run/docker.pid ]]; then
  pid=$(cat /var/run/docker.pid)
  if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
    running_pid=$pid
  fi
fi

if [[ -n $running_pid ]]; then
  log "dockerd (pid $running_pid) is already running; waiting for it to answer"
else
  need_root "starting dockerd" "sudo $0"
  log "Starting dockerd in the background (log: $dockerd_log)"
  printf '\n---- %s: started by %s\n' "$(date -Is)" "$0" >>"$dockerd_log"
  # Own session, so the daemon outlives this script and its caller's process group.
  setsid dockerd >>"$dockerd_log" 2>&1 </dev/null &
  running_pid=$!
  printf '%s\n' "$running_pid" >"$pid_file"
  step "dockerd pid $running_pid"
fi

deadline=$((SECONDS + timeout_s))
until daemon_answers; do
  if ! kill -0 "$running_pid" 2>/dev/null; then
    tail -n 40 "$dockerd_log" >&2 || true
    die "dockerd exited before answering (log above: $dockerd_log)"
  fi
  if (( SECONDS >= deadline )); then
    tail -n 40 "$dockerd_log" >&2 || true
    die "dockerd did not answer 'docker version' within ${timeout_s}s (log above: $dockerd_log)"
  fi
  sleep 1
done
step "docker engine answers: $(show_versions)"
