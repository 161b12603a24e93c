#!/usr/bin/env bash
# Benchmarks of the authenticated registry, side by side in one run (issue 5):
#   1. blob throughput, upload and download, 64 MiB to 1 GiB: through the TLS + auth proxy,
#      straight to the registry (a loopback port), through the seed's own nginx config and
#      through earlier configs of this project's proxy (bench/variants/);
#   2. authenticated request rate (GET /v2/, HEAD of a blob, keep-alive) at bcrypt costs
#      5, 8, 10 and 12, GET /v2/ also through the proxy config before per-request resolution of
#      the registry (bench/variants/static-upstream.conf), and the requests a docker push / pull
#      makes;
#   3. deploy and review time: pulumi up from nothing, a no-op preview, up after a password
#      change, next to `docker-compose up -d` of the seed's compose file with the same images;
#   4. the unit test suite's wall time.
#
#   npm run bench            (= bash bench/run.sh)
#
# Everything is a ratio or a figure measured in the same run; nothing here asserts a time.
# Results: bench/results/raw.csv (every sample), meta.json (the machine), summary.json and the
# CSV tables, throughput.svg; BENCHMARKS.md's tables are regenerated from them
# (node bench/report.js). A run of some phases replaces only their samples in raw.csv and keeps
# those of the other phases from the previous run (meta.json's phaseDates says which run measured
# which phase). The run deploys its own stack `bench` of this project with the real
# pulumi CLI, in a throwaway local state backend, and tears everything down at the end.
#
# Runs as root, like the end-to-end suite: `docker push` needs the stack's CA in
# /etc/docker/certs.d/localhost:PORT/ (removed again at the end).
#
# Environment (defaults in brackets):
#   BENCH_PHASES       phases to run, in order [unit compose deploy throughput rate]
#   BENCH_REPS         repetitions of each measurement; medians are reported [3]
#   BENCH_SIZES_MIB    blob sizes [64 256 1024]
#   BENCH_COSTS        bcrypt costs of the sweep [5 8 10 12]
#   BENCH_COST_SIZES_MIB  blob sizes measured again at each bcrypt cost [64 256]
#   BENCH_RATE_SECONDS length of one request-rate run [5]
#   BENCH_CONNECTIONS  keep-alive connections of a request-rate run [8]
#   BENCH_PORT         the stack's HTTPS port on 127.0.0.1 [25043]
#   BENCH_DIRECT_PORT  the registry's direct loopback port (directAccessPort) [25000]
#   BENCH_VARIANT_PORT first port of the extra nginx configs measured beside the stack; the
#                      static-file ceiling (2 ports) and the request-rate trial of the
#                      static-upstream config follow them [25143]
#   BENCH_COMPOSE_PORT, BENCH_COMPOSE_DIRECT_PORT  the seed compose file's ports [25243, 25200]
#   BENCH_VARIANTS     extra nginx configs of the throughput phase, NAME=FILE ...
#                      [seed=bench/seed/registry.conf pre-tuning=bench/variants/pre-tuning.conf
#                      static-upstream=bench/variants/static-upstream.conf]
#   BENCH_NGINX_IMAGE, BENCH_REGISTRY_IMAGE  the images of the stack and of every nginx beside
#                      it [scripts/lib.sh's AUTHREG_NGINX_IMAGE, AUTHREG_REGISTRY_IMAGE]
#   BENCH_RESULTS_DIR  where results go [bench/results]
#   BENCH_NO_REPORT=1  do not regenerate BENCHMARKS.md
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$repo/scripts/lib.sh"
# shellcheck source=../scripts/env.sh
source "$repo/scripts/env.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"

PHASES=${BENCH_PHASES:-unit compose deploy throughput rate}
REPS=${BENCH_REPS:-3}
SIZES=${BENCH_SIZES_MIB:-64 256 1024}
COSTS=${BENCH_COSTS:-5 8 10 12}
COST_SIZES=${BENCH_COST_SIZES_MIB:-64 256}
RATE_SECONDS=${BENCH_RATE_SECONDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
PORT=${BENCH_PORT:-25043}
DIRECT_PORT=${BENCH_DIRECT_PORT:-25000}
VARIANT_PORT=${BENCH_VARIANT_PORT:-25143}
COMPOSE_PORT=${BENCH_COMPOSE_PORT:-25243}
COMPOSE_DIRECT_PORT=${BENCH_COMPOSE_DIRECT_PORT:-25200}
VARIANTS=${BENCH_VARIANTS:-seed=$here/seed/registry.conf pre-tuning=$here/variants/pre-tuning.conf static-upstream=$here/variants/static-upstream.conf}
# The proxy config before per-request resolution: static upstream, resolved once, keep-alive.
STATIC_UPSTREAM_CONF=$here/variants/static-upstream.conf
RESULTS=${BENCH_RESULTS_DIR:-$here/results}
NGINX_IMAGE=${BENCH_NGINX_IMAGE:-$AUTHREG_NGINX_IMAGE}
REGISTRY_IMAGE=${BENCH_REGISTRY_IMAGE:-$AUTHREG_REGISTRY_IMAGE}

STACK=bench
HOST=localhost:$PORT
USER_NAME=bench
# Names this script owns; cleanup removes exactly these and nothing else.
PROXY_CONTAINER=registry-$STACK-nginx
REGISTRY_CONTAINER=registry-$STACK-registry
VOLUME=registry-$STACK-data
NETWORK=registry-$STACK-network
VARIANT_PREFIX=authreg-bench-nginx-
COMPOSE_PROJECT=authregbench
IMAGE_REPO=$HOST/bench/image
TRUST_DIR=/etc/docker/certs.d/$HOST

work=$(mktemp -d "${TMPDIR:-/tmp}/authreg-bench.XXXXXX")
chmod 700 "$work"
mkdir -p "$work/logs" "$RESULTS"
raw=$RESULTS/raw.csv
run_start=$SECONDS
stack_created=false
compose_dir=""

export PULUMI_BACKEND_URL=file://$work/state
export PULUMI_CONFIG_PASSPHRASE=bench
export PULUMI_SKIP_CONFIRMATIONS=true NO_COLOR=1
export DOCKER_CONFIG=$work/docker-config
mkdir -p "$work/state" "$DOCKER_CONFIG"
config_file=$work/Pulumi.$STACK.yaml

# ---------------------------------------------------------------------------------------------
# helpers

say() { printf '\033[1m[%02d:%02d] %s\033[0m\n' $(((SECONDS - run_start) / 60)) $(((SECONDS - run_start) % 60)) "$*" >&2; }
info() { printf '        %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
fmt() { awk -v v="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, v }'; }

# record SECTION VARIANT METRIC PARAM REP VALUE UNIT
record() { printf '%s,%s,%s,%s,%s,%s,%s\n' "$@" >>"$raw"; }

# Runs a command with its output in logs/NAME.log (a fresh file) through lib.sh's run_logged;
# on failure shows the log's end and stops.
logged() {
  local name=$1; shift
  : >"$work/logs/$name.log"
  run_logged -n 30 "$*" "$work/logs/$name.log" "$@"
}

# Times a command (seconds, 3 decimals) into $T; the command's output goes to logs/NAME.log.
T=0
timed() {
  local name=$1 t0; shift
  t0=$(now)
  logged "$name" "$@"
  T=$(since "$t0")
}

pl() { (cd "$repo" && pulumi "$@" --stack "$STACK" --non-interactive); }
plc() { local cmd=$1; shift; pl "$cmd" --config-file "$config_file" "$@"; }

outputs() {
  pl stack output --json --show-secrets >"$work/outputs.json"
  USER_NAME=$USER_NAME node -e '
    const fs = require("fs");
    const [file, dir] = process.argv.slice(1);
    const o = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(dir + "/ca.crt", o.caCertificatePem);
    fs.writeFileSync(dir + "/htpasswd", o.htpasswd, { mode: 0o600 });
    const user = process.env.USER_NAME;
    fs.writeFileSync(dir + "/cred", user + ":" + o.passwords[user], { mode: 0o600 });' "$work/outputs.json" "$work"
  CA=$work/ca.crt
  CRED=$work/cred
}

# Waits until URL answers with HTTP status $2 (curl options after it).
wait_for() {
  local url=$1 want=$2 i code; shift 2
  for ((i = 0; i < 120; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true)
    [[ $code == "$want" ]] && return 0
    sleep 0.25
  done
  die "$url did not answer $want (last: $code)"
}

# A self-signed ECDSA P-256 certificate for localhost in DIR/domain.crt, DIR/domain.key.
self_signed() {
  logged openssl-$RANDOM openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$1/domain.key" -out "$1/domain.crt"
  chmod 600 "$1/domain.key"
}

remove_variants() {
  local c
  for c in $(docker ps -aq --filter "name=^${VARIANT_PREFIX}"); do docker rm -f "$c" >/dev/null 2>&1 || true; done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  say "Tearing down"
  remove_variants
  if [[ -n $compose_dir && -f $compose_dir/docker-compose.yml ]]; then
    (cd "$compose_dir" && docker-compose -p "$COMPOSE_PROJECT" down -v >/dev/null 2>&1) || true
  fi
  if $stack_created; then
    if plc destroy --yes >"$work/logs/destroy-final.log" 2>&1; then info "pulumi destroy: done"
    else info "pulumi destroy failed (log kept: $work/logs/destroy-final.log)"; fi
    if pl stack rm --yes --force >/dev/null 2>&1; then info "stack $STACK removed"; fi
  fi
  docker rm -f "$PROXY_CONTAINER" "$REGISTRY_CONTAINER" >/dev/null 2>&1 || true
  docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  local image
  for image in $(docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" 2>/dev/null); do
    docker rmi -f "$image" >/dev/null 2>&1 || true
  done
  [[ -d $TRUST_DIR && -f $TRUST_DIR/.authreg-bench ]] && rm -rf "$TRUST_DIR"
  # The registry in the compose run writes its data as root into the temp dir.
  rm -rf "$work"
  if ((status == 0)); then say "Done in $(((SECONDS - run_start) / 60)) min $(((SECONDS - run_start) % 60)) s"
  else say "Stopped with status $status after $((SECONDS - run_start)) s"; fi
  exit "$status"
}

# ---------------------------------------------------------------------------------------------
# preflight

preflight() {
  say "Preflight"
  local tool
  local tools=(pulumi docker curl wrk node openssl ss sha256sum)
  [[ " $PHASES " == *" compose "* ]] && tools+=(docker-compose)
  for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install wrk docker-compose curl openssl iproute2; pulumi: scripts/toolchain.sh)"
  done
  [[ $(pulumi version) == "v$PULUMI_VERSION" ]] || die "pulumi $(pulumi version) on PATH, expected v$PULUMI_VERSION (scripts/toolchain.sh)"
  docker version >/dev/null 2>&1 || die "no Docker engine answers (scripts/docker-engine.sh)"
  if [[ " $PHASES " == *" rate "* ]]; then
    if ! { mkdir -p /etc/docker/certs.d 2>/dev/null && [[ -w /etc/docker/certs.d ]]; }; then
      die "the rate phase pushes to the registry and must trust its CA in /etc/docker/certs.d: run as root"
    fi
  fi
  local image
  for image in "$NGINX_IMAGE" "$REGISTRY_IMAGE"; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing (scripts/images.sh)"
  done
  # Leftovers of an interrupted run: only names this script owns.
  remove_variants
  local c
  for c in $(docker ps -aq --filter "name=^${COMPOSE_PROJECT}_"); do docker rm -f "$c" >/dev/null; done
  docker rm -f "$PROXY_CONTAINER" "$REGISTRY_CONTAINER" >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  local p n=0
  for p in "$PORT" "$DIRECT_PORT" "$COMPOSE_PORT" "$COMPOSE_DIRECT_PORT"; do
    port_free "$p" || die "port $p is in use; set BENCH_PORT/BENCH_DIRECT_PORT/BENCH_COMPOSE_PORT/... to free ones"
  done
  for p in $VARIANTS; do
    port_free $((VARIANT_PORT + n)) || die "port $((VARIANT_PORT + n)) is in use; set BENCH_VARIANT_PORT"
    [[ -f ${p#*=} ]] || die "nginx config ${p#*=} of variant ${p%%=*} does not exist"
    n=$((n + 1))
  done
  CEILING_PORT=$((VARIANT_PORT + n))
  # Two more for the static-file ceiling (TLS and plain), one for the static-upstream rate trial.
  STATIC_UPSTREAM_PORT=$((CEILING_PORT + 2))
  { port_free "$CEILING_PORT" && port_free $((CEILING_PORT + 1)) && port_free "$STATIC_UPSTREAM_PORT"; } \
    || die "ports $CEILING_PORT-$STATIC_UPSTREAM_PORT are in use; set BENCH_VARIANT_PORT"
  [[ -f $STATIC_UPSTREAM_CONF ]] || die "$STATIC_UPSTREAM_CONF is missing"
  start_raw
  write_meta
  info "phases: $PHASES; repetitions: $REPS; work dir: $work"
}

# raw.csv anew: the header, then the previous run's samples of the phases this run leaves out, so
# that a run of some phases keeps the others' figures in BENCHMARKS.md. Every sample belongs to
# the phase that records it; the run's own wall time is always this run's.
start_raw() {
  local previous=$work/raw-previous.csv
  [[ -f $raw ]] && cp "$raw" "$previous"
  printf 'section,variant,metric,param,rep,value,unit\n' >"$raw"
  [[ -f $previous ]] || return 0
  awk -F, -v run=" $PHASES " '
    NR == 1 { next }
    {
      if ($1 == "unit") p = "unit"
      else if ($1 == "deploy" && $2 == "compose") p = "compose"
      else if ($1 == "deploy" && $3 == "up_after_cost_change") p = "rate"
      else if ($1 == "deploy") p = "deploy"
      else if ($1 == "throughput") p = "throughput"
      else if ($1 == "rate" || $1 == "push" || $1 == "throughput_by_cost") p = "rate"
      else next
      if (index(run, " " p " ") == 0) { print; kept[p]++ }
    }
    END { for (p in kept) printf "%s ", p > "/dev/stderr" }' "$previous" >>"$raw" 2>"$work/kept-phases"
  KEPT_PHASES=$(cat "$work/kept-phases")
  [[ -n $KEPT_PHASES ]] && info "kept from the previous raw.csv: the samples of $KEPT_PHASES"
  return 0
}
KEPT_PHASES=""

write_meta() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  # shellcheck disable=SC2016 # JavaScript, not shell
  CPU="$cpu" MEM="$mem" KEPT_PHASES="$KEPT_PHASES" node -e '
    const { execSync } = require("child_process");
    const fs = require("fs");
    const sh = (c) => { try { return execSync(c, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(); } catch { return ""; } };
    const words = (s) => (s || "").split(/\s+/).filter(Boolean);
    const date = new Date().toISOString();
    // The date of the run that measured each phase: this one, or for a phase whose samples were
    // kept from the previous raw.csv, the date the previous meta.json gives it.
    let prev = {};
    try { prev = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { prev = {}; }
    const prevDates = prev.phaseDates || Object.fromEntries(words(prev.settings && prev.settings.phases).map((p) => [p, prev.date]));
    const phaseDates = {};
    for (const p of ["unit", "compose", "deploy", "throughput", "rate"]) {
      if (words(process.env.PHASES).includes(p)) phaseDates[p] = date;
      else if (words(process.env.KEPT_PHASES).includes(p) && prevDates[p]) phaseDates[p] = prevDates[p];
    }
    const meta = {
      date,
      phaseDates,
      cpu: process.env.CPU, cores: require("os").cpus().length, memory: process.env.MEM,
      kernel: sh("uname -sr"), os: sh(". /etc/os-release && echo $PRETTY_NAME"),
      virtualization: sh("grep -c hypervisor /proc/cpuinfo") !== "0" ? "virtual machine" : "",
      docker: sh("docker version --format \"daemon {{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}\""),
      // Docker relays published ports through its userland docker-proxy unless told not to.
      dockerUserlandProxy: /userland-proxy(=|"\s*:\s*)false/.test(sh("tr \"\\0\" \" \" </proc/$(pgrep -xo dockerd)/cmdline; cat /etc/docker/daemon.json 2>/dev/null; true")) ? "no" : "yes",
      pulumi: sh("pulumi version"), node: process.version,
      nginxImage: process.env.NGINX_IMAGE + " (" + sh(`docker run --rm ${process.env.NGINX_IMAGE} nginx -v 2>&1`).replace("nginx version: ", "") + ")",
      registryImage: process.env.REGISTRY_IMAGE + " (" + sh(`docker run --rm --entrypoint registry ${process.env.REGISTRY_IMAGE} --version`).replace(/^registry /, "") + ")",
      curl: sh("curl --version").split("\n")[0], wrk: sh("wrk -v 2>&1 | head -n1").split(" Copyright")[0],
      // Without a compose phase docker-compose need not be installed: keep the version of the run that measured it.
      dockerCompose: sh("docker-compose version --short") || (words(process.env.PHASES).includes("compose") ? "" : prev.dockerCompose || ""),
      settings: { reps: +process.env.REPS, sizesMiB: process.env.SIZES.split(" ").map(Number), costs: process.env.COSTS.split(" ").map(Number),
        costSizesMiB: process.env.COST_SIZES.split(" ").map(Number), rateSeconds: +process.env.RATE_SECONDS, connections: +process.env.CONNECTIONS, phases: process.env.PHASES },
    };
    fs.writeFileSync(process.argv[1], JSON.stringify(meta, null, 2) + "\n");
  ' "$RESULTS/meta.json"
}
export NGINX_IMAGE REGISTRY_IMAGE REPS SIZES COSTS COST_SIZES RATE_SECONDS CONNECTIONS PHASES

# ---------------------------------------------------------------------------------------------
# 4. unit test suite

phase_unit() {
  say "Unit test suite (npx jest): one cold run without the transform cache, then $REPS warm runs"
  timed jest-cold bash -c "cd '$repo' && npx jest --no-cache"
  record unit jest wall_cold "" 1 "$T" s
  info "cold: $T s"
  local rep
  for ((rep = 1; rep <= REPS; rep++)); do
    timed "jest-$rep" bash -c "cd '$repo' && npx jest"
    record unit jest wall_warm "" "$rep" "$T" s
    info "warm run $rep: $T s"
  done
}

# ---------------------------------------------------------------------------------------------
# 3b. docker-compose up -d of the seed's compose file

phase_compose() {
  say "docker-compose up -d of the seed's compose file ($REPS runs)"
  compose_dir=$work/compose
  mkdir -p "$compose_dir/auth" "$compose_dir/data"
  grep -v '^# The seed' "$here/seed/registry.conf" >"$compose_dir/auth/registry.conf"
  grep -v '^#' "$here/seed/registry.password" >"$compose_dir/auth/registry.password"
  self_signed "$compose_dir/auth"
  sed -e '/^#/d' -e "s|@DIR@|$compose_dir|g" -e "s|@NGINX_IMAGE@|$NGINX_IMAGE|" -e "s|@REGISTRY_IMAGE@|$REGISTRY_IMAGE|" \
    -e "s|@PORT@|$COMPOSE_PORT|" -e "s|@DIRECT_PORT@|$COMPOSE_DIRECT_PORT|" \
    "$here/seed/docker-compose.yml.in" >"$compose_dir/docker-compose.yml"
  local rep t0
  for ((rep = 1; rep <= REPS; rep++)); do
    t0=$(now)
    logged "compose-up-$rep" bash -c "cd '$compose_dir' && docker-compose -p $COMPOSE_PROJECT up -d"
    T=$(since "$t0")
    record deploy compose up_d "" "$rep" "$T" s
    # compose returns once the containers run; the proxy answers a little later.
    wait_for "https://localhost:$COMPOSE_PORT/v2/" 401 --cacert "$compose_dir/auth/domain.crt"
    local ready; ready=$(since "$t0")
    record deploy compose up_until_answer "" "$rep" "$ready" s
    # The seed's own credentials work against its own proxy.
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$compose_dir/auth/domain.crt" -u testuser:testpassword "https://localhost:$COMPOSE_PORT/v2/") == 200 ]] \
      || die "the seed's compose deployment refused testuser/testpassword"
    local up_d=$T
    timed "compose-down-$rep" bash -c "cd '$compose_dir' && docker-compose -p $COMPOSE_PROJECT down -v"
    record deploy compose down "" "$rep" "$T" s
    info "run $rep: up -d $(fmt "$up_d") s, answering after $(fmt "$ready") s, down $(fmt "$T") s"
  done
}

# ---------------------------------------------------------------------------------------------
# 3. pulumi deploy and review times

write_config() {
  cat >"$config_file" <<EOF
config:
  authenticated-registry:domain: localhost
  authenticated-registry:port: $PORT
  authenticated-registry:container:
    bindAddress: 127.0.0.1
    directAccessPort: $DIRECT_PORT
  authenticated-registry:users:
    - username: $USER_NAME
  authenticated-registry:tls:
    mode: generated
    ipAddresses:
      - 127.0.0.1
  authenticated-registry:nginxImage: $NGINX_IMAGE
  authenticated-registry:registryImage: $REGISTRY_IMAGE
  authenticated-registry:deleteDataOnDestroy: true
EOF
}

init_stack() {
  write_config
  logged stack-init bash -c "cd '$repo' && pulumi stack init $STACK --secrets-provider passphrase --non-interactive"
  stack_created=true
  # `stack init` has no --config-file and writes the passphrase salt into Pulumi.$STACK.yaml in
  # the checkout; move it into the stack's own config file so the checkout stays as it was.
  local written=$repo/Pulumi.$STACK.yaml
  grep '^encryptionsalt:' "$written" >>"$config_file" || die "pulumi stack init wrote no encryptionsalt to $written"
  rm -f "$written"
}

# Seconds from a container's start to its first passing health check.
health_wait() {
  docker inspect "$1" | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"))[0].State;
    const ok = ((s.Health && s.Health.Log) || []).find((l) => l.ExitCode === 0);
    if (ok) process.stdout.write(((Date.parse(ok.End) - Date.parse(s.StartedAt)) / 1000).toFixed(2));'
}

deploy_up() { # REP LABEL: pulumi up --yes (with its preview, as scripts/up.sh runs it)
  timed "up-$2-$1" plc up --yes
}

phase_deploy() {
  say "pulumi: up from nothing ($REPS runs, destroyed in between), no-op previews, up after a password change"
  init_stack
  local rep
  for ((rep = 1; rep <= REPS; rep++)); do
    deploy_up "$rep" scratch
    record deploy pulumi up_from_nothing "" "$rep" "$T" s
    local up=$T rw nw
    rw=$(health_wait "$REGISTRY_CONTAINER"); nw=$(health_wait "$PROXY_CONTAINER")
    [[ -n $rw ]] && record deploy pulumi health_wait_registry "" "$rep" "$rw" s
    [[ -n $nw ]] && record deploy pulumi health_wait_proxy "" "$rep" "$nw" s
    info "up from nothing $rep: $(fmt "$up") s (of which waiting for health checks: registry $rw s, proxy $nw s)"
    if ((rep < REPS)); then
      timed "destroy-$rep" plc destroy --yes
      record deploy pulumi destroy "" "$rep" "$T" s
      docker volume inspect "$VOLUME" >/dev/null 2>&1 && die "the data volume survived destroy although deleteDataOnDestroy is set"
    fi
  done
  for ((rep = 1; rep <= REPS; rep++)); do
    timed "preview-noop-$rep" plc preview --expect-no-changes
    record deploy pulumi preview_noop "" "$rep" "$T" s
    info "no-op preview $rep: $T s"
  done
  for ((rep = 1; rep <= REPS; rep++)); do
    logged "password-$rep" plc config set --secret --path 'users[0].password' "bench-rotated-$rep-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    deploy_up "$rep" password
    record deploy pulumi up_after_password_change "" "$rep" "$T" s
    info "up after a password change $rep: $T s"
  done
  outputs
  wait_for "https://$HOST/v2/" 200 --cacert "$CA" -u "$(cat "$CRED")"
}

ensure_stack() {
  if ! $stack_created; then
    say "Deploying stack $STACK (the deploy phase is not part of this run)"
    init_stack
    deploy_up 1 scratch
    info "pulumi up: $T s"
  fi
  outputs
  wait_for "https://$HOST/v2/" 200 --cacert "$CA" -u "$(cat "$CRED")"
}

# ---------------------------------------------------------------------------------------------
# 1. blob throughput

# Downloads one blob and prints the seconds (an upload is bench/lib.sh's upload_blob).
download() { # BASE DIGEST REPO SIZE CURL_OPTS...
  local base=$1 digest=$2 name=$3 size=$4 code t bytes; shift 4
  read -r code t bytes <<<"$(curl -sS "$@" -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$base/v2/$name/blobs/$digest")"
  [[ $code == 200 && $bytes == "$size" ]] || die "GET $base/v2/$name/blobs/$digest answered $code with $bytes bytes (expected $size)"
  printf '%s' "$t"
}

start_variants() {
  local spec name conf n=0 dir
  VARIANT_NAMES=()
  for spec in $VARIANTS; do
    name=${spec%%=*}; conf=${spec#*=}
    dir=$work/variant-$name
    mkdir -p "$dir"
    grep -v '^# The seed' "$conf" >"$dir/registry.conf"
    # The stack's own htpasswd (same user, password and cost): only the config differs.
    cp "$work/htpasswd" "$dir/registry.password"
    chmod 644 "$dir/registry.password"
    self_signed "$dir"
    cp "$dir/domain.crt" "$work/ca-$name.crt"
    logged "variant-$name" docker run -d --name "$VARIANT_PREFIX$name" --network "$NETWORK" \
      -p "127.0.0.1:$((VARIANT_PORT + n)):443" -v "$dir:/etc/nginx/conf.d:ro" "$NGINX_IMAGE"
    wait_for "https://localhost:$((VARIANT_PORT + n))/v2/" 200 --cacert "$dir/domain.crt" -u "$(cat "$CRED")"
    VARIANT_NAMES+=("$name")
    info "nginx config '$name' ($conf) on port $((VARIANT_PORT + n))"
    n=$((n + 1))
  done
}

# TARGET -> base URL and curl options, in TARGET_BASE and TARGET_OPTS.
target() {
  local i
  case $1 in
    direct) TARGET_BASE=http://127.0.0.1:$DIRECT_PORT; TARGET_OPTS=() ;;
    proxy) TARGET_BASE=https://$HOST; TARGET_OPTS=(--cacert "$CA" -u "$(cat "$CRED")") ;;
    *)
      for i in "${!VARIANT_NAMES[@]}"; do
        if [[ ${VARIANT_NAMES[i]} == "$1" ]]; then
          TARGET_BASE=https://localhost:$((VARIANT_PORT + i)); TARGET_OPTS=(--cacert "$work/ca-$1.crt" -u "$(cat "$CRED")")
        fi
      done ;;
  esac
}

phase_throughput() {
  ensure_stack
  say "Blob throughput: sizes $SIZES MiB; direct, proxy, and the nginx configs $(for v in $VARIANTS; do printf '%s ' "${v%%=*}"; done)"
  start_variants
  start_ceiling
  # shellcheck disable=SC2086 # a list of sizes
  ensure_blobs $SIZES
  local targets=(direct proxy "${VARIANT_NAMES[@]}") rep size
  for ((rep = 1; rep <= REPS; rep++)); do
    for size in $SIZES; do
      transfer_round throughput "$size" "$size" "$rep" "${targets[@]}"
    done
  done
  remove_variants
}

# Random blobs of the given sizes (MiB) in $work/blobs/SIZE, their digests in DIGESTS.
declare -A DIGESTS
ensure_blobs() {
  local size
  mkdir -p "$work/blobs"
  for size in "$@"; do
    [[ -n ${DIGESTS[$size]:-} ]] && continue
    head -c $((size * 1048576)) /dev/urandom >"$work/blobs/$size"
    DIGESTS[$size]=sha256:$(sha256sum "$work/blobs/$size" | cut -d' ' -f1)
  done
}

mibps() { awk -v s="$1" -v m="$2" 'BEGIN { printf "%.1f", m / s }'; }

# One upload and one download of a SIZE MiB blob on each target, in an order that rotates with
# REP so that no target always goes first; recorded under SECTION with PARAM.
transfer_round() { # SECTION PARAM SIZE REP TARGET...
  local section=$1 param=$2 size=$3 rep=$4 k t s up down line="rep $4, $3 MiB:"; shift 4
  local targets=("$@")
  for ((k = 0; k < ${#targets[@]}; k++)); do
    t=${targets[(k + rep - 1) % ${#targets[@]}]}
    case $t in
      tls-static | plain-static)
        s=$(static_download "$t" "$size")
        down=$(mibps "$s" "$size")
        record "$section" "$t" download_mibps "$param" "$rep" "$down" MiB/s
        line+=" $t ↓${down%.*}" ;;
      *)
        target "$t"
        s=$(upload_blob "$TARGET_BASE" "$work/blobs/$size" "${DIGESTS[$size]}" "bench/$t-$size" "${TARGET_OPTS[@]}")
        up=$(mibps "$s" "$size")
        record "$section" "$t" upload_mibps "$param" "$rep" "$up" MiB/s
        s=$(download "$TARGET_BASE" "${DIGESTS[$size]}" "bench/$t-$size" $((size * 1048576)) "${TARGET_OPTS[@]}")
        down=$(mibps "$s" "$size")
        record "$section" "$t" download_mibps "$param" "$rep" "$down" MiB/s
        line+=" $t ↑${up%.*} ↓${down%.*}" ;;
    esac
  done
  info "$line MiB/s"
}

# The ceiling of this host: the same nginx image serving the blob files themselves from the
# page cache (no registry, no auth) over TLS and over plain HTTP, through the same kind of
# published loopback port. Download only.
start_ceiling() {
  local dir=$work/ceiling
  mkdir -p "$dir/conf" "$work/blobs"
  self_signed "$dir/conf"
  cp "$dir/conf/domain.crt" "$work/ca-ceiling.crt"
  cat >"$dir/conf/static.conf" <<'EOF'
server {
  listen 443 ssl;
  ssl_certificate /etc/nginx/conf.d/domain.crt;
  ssl_certificate_key /etc/nginx/conf.d/domain.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  location /blobs/ { alias /srv/blobs/; }
}
server {
  listen 80;
  location /blobs/ { alias /srv/blobs/; }
}
EOF
  logged ceiling docker run -d --name "${VARIANT_PREFIX}ceiling" -p "127.0.0.1:$CEILING_PORT:443" \
    -p "127.0.0.1:$((CEILING_PORT + 1)):80" -v "$dir/conf:/etc/nginx/conf.d:ro" -v "$work/blobs:/srv/blobs:ro" "$NGINX_IMAGE"
  wait_for "https://localhost:$CEILING_PORT/blobs/" 403 --cacert "$work/ca-ceiling.crt"
  VARIANT_NAMES+=(tls-static plain-static)
  info "static-file ceiling: nginx serving the blob files on ports $CEILING_PORT (TLS) and $((CEILING_PORT + 1)) (plain)"
}

static_download() { # tls-static|plain-static SIZE
  local url code t bytes
  if [[ $1 == tls-static ]]; then url=https://localhost:$CEILING_PORT/blobs/$2; else url=http://127.0.0.1:$((CEILING_PORT + 1))/blobs/$2; fi
  read -r code t bytes <<<"$(curl -sS --cacert "$work/ca-ceiling.crt" -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$url")"
  [[ $code == 200 && $bytes == $(($2 * 1048576)) ]] || die "GET $url answered $code with $bytes bytes"
  printf '%s' "$t"
}

# ---------------------------------------------------------------------------------------------
# 2. request rate by bcrypt cost, and the requests of a docker push / pull

# wrk: keep-alive GETs with a Basic auth header from a Lua script. Prints requests/s.
wrk_rate() { # URL AUTH(yes|no) THREADS CONNECTIONS SECONDS LOGNAME
  local url=$1 auth=$2 threads=$3 conns=$4 secs=$5 name=$6 script=()
  if [[ $auth == yes ]]; then
    printf 'wrk.headers["Authorization"] = "Basic %s"\n' "$(base64 -w0 <"$CRED")" >"$work/auth.lua"
    script=(-s "$work/auth.lua")
  fi
  logged "$name" wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 30s --latency "${script[@]}" "$url"
  wrk_requests_per_second "$work/logs/$name.log" "$url"
}

# Mean latency of wrk's last run in ms.
wrk_latency_ms() {
  awk '$1 == "Latency" && NF >= 2 { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
       f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * f; exit }' "$work/logs/$1.log"
}

load_rate() { # URL METHOD AUTH(yes|no) LOGNAME
  local opts=(--url "$1" --method "$2" --connections "$CONNECTIONS" --seconds "$RATE_SECONDS")
  [[ $1 == https* ]] && opts+=(--ca "$CA")
  [[ $3 == yes ]] && opts+=(--auth-file "$CRED")
  node "$here/load.js" "${opts[@]}" >"$work/logs/$4.log" || die "load.js failed on $1"
  load_requests_per_second "$work/logs/$4.log" "HEAD load on $1"
}

# Counts the proxy's access-log lines after line $2: total, with credentials, and by method.
count_requests() { # SECTION LABEL PARAM SKIP
  docker logs "$PROXY_CONTAINER" 2>/dev/null | tail -n +$(($4 + 1)) >"$work/logs/access-$2-$3.log"
  awk -v sec="$1" -v lab="$2" -v p="$3" '
    { n++; if ($3 != "-") cred++; m = $6; gsub(/"/, "", m); by[m]++; if ($9 == "401") u++ }
    END {
      printf "%s,%s,requests_total,%s,1,%d,requests\n", sec, lab, p, n
      printf "%s,%s,requests_with_credentials,%s,1,%d,requests\n", sec, lab, p, cred
      printf "%s,%s,requests_401,%s,1,%d,requests\n", sec, lab, p, u
      for (k in by) printf "%s,%s,requests_%s,%s,1,%d,requests\n", sec, lab, k, p, by[k]
    }' "$work/logs/access-$2-$3.log" >>"$raw"
  awk '{ n++; if ($3 != "-") c++ } END { printf "%d requests (%d with credentials)", n, c }' "$work/logs/access-$2-$3.log"
}

log_lines() { docker logs "$PROXY_CONTAINER" 2>/dev/null | wc -l; }

# The multi-layer image of bench/lib.sh, built under $IMAGE_REPO:TAG.
build_image() { # TAG
  local ctx=$work/image-ctx
  six_layer_context "$ctx"
  logged "build-$1" env DOCKER_BUILDKIT=0 docker build --quiet --tag "$IMAGE_REPO:$1" "$ctx"
}

push_pull() { # COST
  local tag=cost$1 before t0
  build_image "$tag"
  logged "login-$tag" bash -c "docker login '$HOST' --username '$USER_NAME' --password-stdin < <(cut -d: -f2- '$CRED')"
  before=$(log_lines)
  timed "push-$tag" docker push "$IMAGE_REPO:$tag"
  record push bcrypt push_s "$1" 1 "$T" s
  local pushed; pushed=$(count_requests push push "$1" "$before")
  local push_s=$T
  logged "rmi-$tag" docker rmi "$IMAGE_REPO:$tag"
  before=$(log_lines)
  timed "pull-$tag" docker pull "$IMAGE_REPO:$tag"
  record push bcrypt pull_s "$1" 1 "$T" s
  local pulled; pulled=$(count_requests push pull "$1" "$before")
  info "docker push of a 6-layer image: $(fmt "$push_s") s, $pushed; pull: $(fmt "$T") s, $pulled"
  docker rmi "$IMAGE_REPO:$tag" >/dev/null 2>&1 || true
}

# The proxy config before per-request resolution (bench/variants/static-upstream.conf: the
# registry in a static upstream block, resolved once when nginx starts, 16 kept-alive upstream
# connections, and no access-control maps) in a second nginx container of the same image on the
# stack's network, with the stack's current htpasswd and a self-signed certificate. Against the
# stack's own proxy it gives what resolving the registry on every request through Docker's DNS,
# a new upstream connection per request, and routing through the grants cost an authenticated
# request.
start_static_upstream() {
  local dir=$work/static-upstream-rate name=${VARIANT_PREFIX}static-upstream-rate
  docker rm -f "$name" >/dev/null 2>&1 || true
  mkdir -p "$dir"
  install -m 644 "$STATIC_UPSTREAM_CONF" "$dir/registry.conf"
  install -m 644 "$work/htpasswd" "$dir/registry.password"
  [[ -f $dir/domain.crt ]] || self_signed "$dir"
  logged static-upstream docker run -d --name "$name" --network "$NETWORK" -p "127.0.0.1:$STATIC_UPSTREAM_PORT:443" \
    -v "$dir:/etc/nginx/conf.d:ro" "$NGINX_IMAGE"
  wait_for "https://localhost:$STATIC_UPSTREAM_PORT/v2/" 200 --cacert "$dir/domain.crt" -u "$(cat "$CRED")"
}

phase_rate() {
  ensure_stack
  say "Request rate at bcrypt costs $COSTS (wrk GET /v2/, load.js HEAD of a blob; $CONNECTIONS keep-alive connections, ${RATE_SECONDS} s runs)"
  # A small blob to HEAD, uploaded straight to the registry.
  head -c 1048576 /dev/urandom >"$work/head-blob"
  local digest; digest=sha256:$(sha256sum "$work/head-blob" | cut -d' ' -f1)
  upload_blob "http://127.0.0.1:$DIRECT_PORT" "$work/head-blob" "$digest" bench/head >/dev/null
  local blob_path=/v2/bench/head/blobs/$digest
  mkdir -p "$TRUST_DIR"
  touch "$TRUST_DIR/.authreg-bench"
  local rep r cost
  say "Baselines without bcrypt: the registry direct, and the proxy's /livez (TLS, no auth, nginx alone)"
  for ((rep = 1; rep <= REPS; rep++)); do
    r=$(wrk_rate "http://127.0.0.1:$DIRECT_PORT/v2/" no 2 "$CONNECTIONS" "$RATE_SECONDS" "wrk-direct-$rep")
    record rate direct get_v2_rps "" "$rep" "$r" req/s
    local h; h=$(load_rate "http://127.0.0.1:$DIRECT_PORT$blob_path" HEAD no "head-direct-$rep")
    record rate direct head_blob_rps "" "$rep" "$h" req/s
    local z; z=$(wrk_rate "https://$HOST/livez" no 2 "$CONNECTIONS" "$RATE_SECONDS" "wrk-healthz-$rep")
    record rate proxy_noauth get_healthz_rps "" "$rep" "$z" req/s
    info "run $rep: direct GET /v2/ $r req/s, direct HEAD $h req/s, proxy GET /livez $z req/s"
  done
  for cost in $COSTS; do
    logged "cost-$cost" plc config set bcryptCost "$cost"
    timed "up-cost-$cost" plc up --yes
    record deploy pulumi up_after_cost_change "$cost" 1 "$T" s
    outputs
    grep -q "^$USER_NAME:\$2y\$$(printf %02d "$cost")\\$" "$work/htpasswd" || die "the htpasswd is not at cost $cost after pulumi up"
    cp "$CA" "$TRUST_DIR/ca.crt"
    wait_for "https://$HOST/v2/" 200 --cacert "$CA" -u "$(cat "$CRED")"
    say "bcrypt cost $cost (pulumi up: $(fmt "$T") s)"
    start_static_upstream
    for ((rep = 1; rep <= REPS; rep++)); do
      # The two GET /v2/ runs back to back, the static-upstream config first in every other
      # repetition.
      if ((rep % 2 == 0)); then
        z=$(wrk_rate "https://localhost:$STATIC_UPSTREAM_PORT/v2/" yes 2 "$CONNECTIONS" "$RATE_SECONDS" "wrk-static-upstream-$cost-$rep")
      fi
      r=$(wrk_rate "https://$HOST/v2/" yes 2 "$CONNECTIONS" "$RATE_SECONDS" "wrk-get-$cost-$rep")
      if ((rep % 2 == 1)); then
        z=$(wrk_rate "https://localhost:$STATIC_UPSTREAM_PORT/v2/" yes 2 "$CONNECTIONS" "$RATE_SECONDS" "wrk-static-upstream-$cost-$rep")
      fi
      record rate proxy get_v2_rps "$cost" "$rep" "$r" req/s
      record rate proxy-static-upstream get_v2_rps "$cost" "$rep" "$z" req/s
      h=$(load_rate "https://$HOST$blob_path" HEAD yes "head-$cost-$rep")
      record rate proxy head_blob_rps "$cost" "$rep" "$h" req/s
      info "run $rep: GET /v2/ $r req/s, HEAD blob $h req/s; GET /v2/ through the static-upstream config $z req/s"
    done
    docker rm -f "${VARIANT_PREFIX}static-upstream-rate" >/dev/null
    wrk_rate "https://$HOST/v2/" yes 1 1 "$RATE_SECONDS" "wrk-latency-$cost" >/dev/null
    record rate proxy get_v2_latency_1conn_ms "$cost" 1 "$(wrk_latency_ms "wrk-latency-$cost")" ms
    info "one connection: $(wrk_latency_ms "wrk-latency-$cost") ms per authenticated request"
    push_pull "$cost"
    # shellcheck disable=SC2086 # a list of sizes
    ensure_blobs $COST_SIZES
    local size
    for ((rep = 1; rep <= REPS; rep++)); do
      for size in $COST_SIZES; do transfer_round throughput_by_cost "$cost/$size" "$size" "$rep" direct proxy; done
    done
  done
}

# ---------------------------------------------------------------------------------------------

trap cleanup EXIT
trap 'exit 130' INT TERM
preflight
for phase in $PHASES; do
  case $phase in
    unit) phase_unit ;;
    compose) phase_compose ;;
    deploy) phase_deploy ;;
    throughput) phase_throughput ;;
    rate) phase_rate ;;
    *) die "unknown phase $phase (expected unit, compose, deploy, throughput, rate)" ;;
  esac
done
record run all wall "" 1 $((SECONDS - run_start)) s
if [[ -z ${BENCH_NO_REPORT:-} ]]; then
  say "Writing the report"
  node "$here/report.js" "$RESULTS" "$repo/BENCHMARKS.md"
fi
