#!/usr/bin/env bash
# The Swarm runtime against itself and against one host, measured in alternation so that a busy
# host slows both sides alike; every figure is a median or a per-repetition ratio, and nothing
# asserts a time.
#
#   1. Replicas: one swarm stack (runtime swarm, publishMode host, pinned to this node) with
#      BENCH_PULLS distinct 6-layer images pushed once (bench/lib.sh). In each repetition, with
#      {proxy: 1, registry: 1} and with {proxy: 2, registry: 2} (switched by `pulumi config set
#      --path swarm.replicas.*` + `pulumi up`; the order alternates between repetitions):
#      (a) wrk, BENCH_CLIENTS keep-alive connections for BENCH_WRK_SECONDS, on an authenticated
#          GET of one layer blob (Authorization: Basic) through the edge: requests/s and MiB/s;
#      (b) the wall time of BENCH_PULLS parallel `docker pull`s, each of its own image (distinct
#          layers: the daemon shares a download of one layer between concurrent pulls, so tags
#          of one image would fetch it once), every image removed first.
#      Ratio 2 replicas / 1 replica, per repetition.
#   2. A password change: the swarm stack (2 tasks per role, rolled start-first) against a
#      single-host stack (runtime container, 127.0.0.1). In each repetition, for both (order
#      alternating): `pulumi config set --secret --path 'users[1].password' RANDOM`, then the
#      wall time of `pulumi up` while a probe loop (bounded in count and time) sends an
#      authenticated GET /v2/ as users[0] every BENCH_PROBE_MS (curl --max-time 2), from just
#      before `up` to BENCH_PROBE_TAIL s after it: failed probes and the longest time without a
#      200. Ratio swarm / single host of the up duration, per repetition.
#
# Prints the medians and ranges and the per-repetition ratios, and writes them with every sample
# to bench/results/swarm.json. Both stacks are this project's, deployed with the real pulumi CLI
# from a throwaway local state backend in a temp dir; everything made here (stacks, services,
# volumes, images, /etc/docker/certs.d entry) is removed at the end, also on failure. The
# engine must already be a swarm (`./scripts/up.sh swarm` makes it a single-node one); it is
# left as it is.
#
#   bash bench/swarm.sh      (as root: docker pull needs the CA in /etc/docker/certs.d/HOST:PORT/)
#
# Environment (defaults in brackets):
#   BENCH_REPS [3]           repetitions of each measurement
#   BENCH_CLIENTS [8]        wrk's concurrent keep-alive connections
#   BENCH_WRK_SECONDS [10]   length of one wrk run
#   BENCH_BLOB_MIB [4]       which layer wrk fetches: 1, 2, 4, 8, 16 or 32 MiB
#   BENCH_PULLS [4]          parallel docker pulls (distinct images)
#   BENCH_PROBE_MS [50]      the probe loop's period; BENCH_PROBE_TAIL [2] s after up;
#                            at most BENCH_PROBE_MAX [6000] probes and BENCH_PROBE_MAX_SECONDS [600]
#   BENCH_UP_TIMEOUT [900]   seconds any one pulumi command may take
#   BENCH_SWARM_PORT [26443], BENCH_SINGLE_PORT [26543]   the stacks' HTTPS ports
#   BENCH_RESULTS_DIR [bench/results]
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$repo/scripts/lib.sh"
# shellcheck source=../scripts/env.sh
source "$repo/scripts/env.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"

REPS=${BENCH_REPS:-3}
CLIENTS=${BENCH_CLIENTS:-8}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
BLOB_MIB=${BENCH_BLOB_MIB:-4}
PULLS=${BENCH_PULLS:-4}
PROBE_MS=${BENCH_PROBE_MS:-50}
PROBE_TAIL=${BENCH_PROBE_TAIL:-2}
PROBE_MAX=${BENCH_PROBE_MAX:-6000}
PROBE_MAX_SECONDS=${BENCH_PROBE_MAX_SECONDS:-600}
UP_TIMEOUT=${BENCH_UP_TIMEOUT:-900}
KINDS=(swarm single)
declare -A STACK=([swarm]=bench-swarm [single]=bench-single)
declare -A PORT=([swarm]=${BENCH_SWARM_PORT:-26443} [single]=${BENCH_SINGLE_PORT:-26543})
READER=reader  # users[0]: pulls and probes
ROTATED=rotated # users[1]: the password changed in part 2

for tool in pulumi docker curl wrk node timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing (pulumi: scripts/toolchain.sh; Debian: apt-get install wrk curl)"
done
need_root "docker pull through the stack (its CA goes to /etc/docker/certs.d/)" "sudo bash bench/swarm.sh"
[[ $(docker info --format '{{.Swarm.LocalNodeState}}') == active ]] \
  || die "this Docker engine is in no swarm; ./scripts/up.sh swarm makes it a single-node one"
for kind in "${KINDS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$kind]}") 2>/dev/null; then die "port ${PORT[$kind]} is in use"; fi
done

started=$EPOCHREALTIME
work=$(mktemp -d /tmp/authreg-bench-swarm.XXXXXX)
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_CONFIRMATIONS=true
export DOCKER_CONFIG=$work/docker DOCKER_BUILDKIT=0
mkdir -p "$work/state" "$DOCKER_CONFIG" "$RESULTS_DIR"
declare -A INITIALISED=() BUILT=()
BG_PIDS=()
samples=$work/samples.tsv
: >"$samples"

host() { printf 'localhost:%s\n' "${PORT[$1]}"; }
url() { printf 'https://127.0.0.1:%s\n' "${PORT[$1]}"; }
config_file() { printf '%s/Pulumi.%s.yaml\n' "$work" "${STACK[$1]}"; }
pl() { # KIND ARGS...: pulumi in the project dir, on KIND's stack, bounded in time
  local kind=$1
  shift
  (cd "$repo" && timeout "$UP_TIMEOUT" pulumi "$@" --stack "${STACK[$kind]}" --non-interactive)
}
plc() { # KIND ARGS...: the same with KIND's config file
  pl "$@" --config-file "$(config_file "$1")"
}
# Seconds between two $EPOCHREALTIME values.
since() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$samples"; } # PART SERIES REP VALUE
image_ref() { printf '%s/bench/pull-%s:1\n' "$(host swarm)" "$1"; }

# Everything one stack made, by its instance label, in case `pulumi destroy` could not finish.
sweep() { # INSTANCE
  local filter=label=authenticated-registry.instance=$1 ids
  ids=$(docker service ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker service rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker ps -aq --filter "$filter")
  [[ -z $ids ]] || xargs -r docker rm --force <<<"$ids" >/dev/null 2>&1
  local i
  # Swarm removes a service's containers after the service; the volume and the secrets are
  # free once they are gone (at most 60 s).
  for ((i = 0; i < 60; i++)); do
    [[ -n $(docker ps -aq --filter "$filter") ]] || break
    sleep 1
  done
  ids=$(docker secret ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker secret rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker config ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker config rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker network ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker network rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker volume ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker volume rm --force <<<"$ids" >/dev/null 2>&1
  return 0
}

# Waits until the engine answers (at most 180 s): it may be restarting under another run.
docker_ready() {
  local i
  for ((i = 0; i < 90; i++)); do
    docker info --format '{{.ID}}' >/dev/null 2>&1 && return 0
    sleep 2
  done
  return 1
}

# What this run made and is still there, one line each.
leftovers() {
  local kind filter
  for kind in "${KINDS[@]}"; do
    filter=label=authenticated-registry.instance=registry-${STACK[$kind]}
    docker service ls --filter "$filter" --format 'service {{.Name}}'
    docker ps -a --filter "$filter" --format 'container {{.Names}}'
    docker secret ls --filter "$filter" --format 'secret {{.Name}}'
    docker config ls --filter "$filter" --format 'config {{.Name}}'
    docker network ls --filter "$filter" --format 'network {{.Name}}'
    docker volume ls --filter "$filter" --format 'volume {{.Name}}'
    [[ ! -e /etc/docker/certs.d/$(host "$kind") ]] || printf 'trust dir /etc/docker/certs.d/%s\n' "$(host "$kind")"
  done
  docker image ls --format 'image {{.Repository}}:{{.Tag}}' | grep -E "^image localhost:(${PORT[swarm]}|${PORT[single]})/" || true
}

cleanup() {
  local status=$? kind pid ref attempt left
  set +e
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  log "cleaning up"
  for kind in "${KINDS[@]}"; do
    rm -rf "/etc/docker/certs.d/$(host "$kind")"
    [[ -n ${INITIALISED[$kind]:-} ]] || continue
    # The stack init's salt file in the checkout, if the run stopped before moving it.
    [[ ${INITIALISED[$kind]} == salt ]] && rm -f "$repo/Pulumi.${STACK[$kind]}.yaml"
    for ((attempt = 1; attempt <= 3; attempt++)); do
      docker_ready || step "the Docker engine does not answer"
      plc "$kind" destroy --yes --skip-preview >"$work/destroy-$kind.log" 2>&1 && break
      # An interrupted `up` leaves the stack locked in the file backend.
      rm -rf "$work/state/.pulumi/locks"
      step "pulumi destroy of ${STACK[$kind]} failed (attempt $attempt): $(grep -m1 -i 'error' "$work/destroy-$kind.log")"
    done
    docker_ready && sweep "registry-${STACK[$kind]}"
  done
  docker_ready
  while read -r ref; do docker rmi --force "$ref" >/dev/null 2>&1; done < <(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E "^localhost:(${PORT[swarm]}|${PORT[single]})/")
  for ref in "${BUILT[@]}"; do docker rmi --force "$ref" >/dev/null 2>&1; done
  if left=$(docker_ready && leftovers) && [[ -z $left ]]; then
    for kind in "${KINDS[@]}"; do [[ -z ${INITIALISED[$kind]:-} ]] || pl "$kind" stack rm --yes --force >/dev/null 2>&1; done
    rm -rf "$work"
    step "nothing left behind"
  else
    # Keep the state, so that the stacks can still be destroyed by hand.
    printf 'left behind (the stacks\x27 state is kept in %s; destroy with PULUMI_BACKEND_URL=file://%s/state PULUMI_CONFIG_PASSPHRASE=bench pulumi destroy --stack NAME --config-file %s/Pulumi.NAME.yaml):\n%s\n' \
      "$work" "$work" "$work" "${left:-the Docker engine does not answer}" >&2
    ((status != 0)) || status=1
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

write_config() { # KIND SALT
  local kind=$1 node
  node=$(docker info --format '{{.Name}}')
  {
    printf '%s\n' "$2" "config:" "  authenticated-registry:domain: localhost" "  authenticated-registry:port: \"${PORT[$kind]}\"" \
      "  authenticated-registry:users:" "    - username: $READER" "    - username: $ROTATED" \
      "  authenticated-registry:tls:" "    mode: generated" "    ipAddresses: [127.0.0.1]" \
      "  authenticated-registry:nginxImage: $AUTHREG_NGINX_IMAGE" "  authenticated-registry:registryImage: $AUTHREG_REGISTRY_IMAGE"
    if [[ $kind == swarm ]]; then
      printf '%s\n' "  authenticated-registry:runtime: swarm" "  authenticated-registry:swarm:" "    replicas: {proxy: 1, registry: 1}" \
        "    constraints: [\"node.hostname==$node\"]" "    publishMode: host" "    edgeImage: $AUTHREG_NGINX_IMAGE"
    else
      printf '%s\n' "  authenticated-registry:container:" "    bindAddress: 127.0.0.1"
    fi
  } >"$(config_file "$kind")"
}

# `pulumi up` of KIND's stack; prints its wall time in seconds. The output goes to a log,
# printed on failure.
up() { # KIND
  local kind=$1 t0
  t0=$EPOCHREALTIME
  plc "$kind" up --yes --skip-preview >"$work/up-$kind.log" 2>&1 || { tail -n 40 "$work/up-$kind.log" >&2; die "pulumi up of ${STACK[$kind]} failed"; }
  since "$t0"
}

password_of() { # KIND USER
  pl "$1" stack output passwords --show-secrets --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]])' "$2"
}
auth_header() { # USER PASSWORD: the header line for curl -H @FILE
  printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"
}

deploy() { # KIND
  local kind=$1 salt seconds
  (cd "$repo" && pulumi stack init "${STACK[$kind]}" --secrets-provider passphrase --non-interactive >/dev/null)
  INITIALISED[$kind]=salt
  # stack init writes the salt into the checkout; it moves to the stack's own config file.
  salt=$(grep '^encryptionsalt:' "$repo/Pulumi.${STACK[$kind]}.yaml")
  rm -f "$repo/Pulumi.${STACK[$kind]}.yaml"
  INITIALISED[$kind]=yes
  write_config "$kind" "$salt"
  seconds=$(up "$kind")
  step "${STACK[$kind]} up from nothing: $seconds s"
  pl "$kind" stack output caCertificatePem >"$work/$kind-ca.crt"
  auth_header "$READER" "$(password_of "$kind" "$READER")" >"$work/$kind-reader.auth"
}

running_tasks() { # SERVICE
  docker service ps "$1" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true
}

replicas=0
set_replicas() { # N
  local n=$1 seconds i
  ((n != replicas)) || return 0
  plc swarm config set --path swarm.replicas.proxy "$n"
  plc swarm config set --path swarm.replicas.registry "$n"
  seconds=$(up swarm)
  for ((i = 0; i < 60; i++)); do
    if [[ $(running_tasks "$PROXY_SERVICE") == "$n" && $(running_tasks "$REGISTRY_SERVICE") == "$n" ]]; then break; fi
    sleep 1
  done
  ((i < 60)) || die "the swarm stack did not reach $n tasks per role within 60 s"
  # The edge asks DNS for the proxy's tasks every second, nginx for the registry's every 2 s.
  sleep 3
  replicas=$n
  step "replicas {proxy: $n, registry: $n}: pulumi up $seconds s"
}

# wrk on the blob: prints "REQUESTS_PER_S MIB_PER_S".
wrk_blob() {
  wrk -t2 -c"$CLIENTS" -d"${WRK_SECONDS}s" --timeout 30s -s "$work/reader.lua" "$(url swarm)/v2/bench/pull-1/blobs/$BLOB_DIGEST" >"$work/wrk.log" 2>&1 \
    || { cat "$work/wrk.log" >&2; die "wrk failed"; }
  wrk_requests_per_second "$work/wrk.log" >/dev/null
  awk '/^Requests\/sec:/ { r = $2 }
    /^Transfer\/sec:/ { v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
      f = u == "GB" ? 1024 : u == "MB" ? 1 : u == "KB" ? 1 / 1024 : 1 / 1048576; m = v * f }
    END { printf "%s %.1f\n", r, m }' "$work/wrk.log"
}

# PULLS parallel docker pulls, each of its own image, none of them present before; sets
# PULL_SECONDS to their wall time. Runs in this shell, so that cleanup knows their pids.
PULL_SECONDS=""
pulls_seconds() {
  local j t0 pids=() failed=0
  for ((j = 1; j <= PULLS; j++)); do
    docker rmi "$(image_ref "$j")" >/dev/null 2>&1 || true
    if docker image inspect "${BUILT[$j]}" >/dev/null 2>&1; then die "image $j still present before the pull"; fi
  done
  t0=$EPOCHREALTIME
  for ((j = 1; j <= PULLS; j++)); do
    docker pull --quiet "$(image_ref "$j")" >"$work/pull-$j.log" 2>&1 &
    pids+=("$!")
  done
  BG_PIDS=("${pids[@]}")
  for j in "${pids[@]}"; do wait "$j" || failed=1; done
  PULL_SECONDS=$(since "$t0")
  BG_PIDS=()
  ((failed == 0)) || { cat "$work"/pull-*.log >&2; die "a docker pull failed"; }
}

# The probe loop: an authenticated GET /v2/ as READER every PROBE_MS until STOPFILE exists,
# at most PROBE_MAX probes and PROBE_MAX_SECONDS. One line per probe: start end http_code.
probe_loop() { # KIND OUT STOPFILE
  local kind=$1 out=$2 stop=$3 n=0 deadline=$((SECONDS + PROBE_MAX_SECONDS)) t0 t1 code rest
  : >"$out"
  while [[ ! -e $stop ]] && ((n < PROBE_MAX && SECONDS < deadline)); do
    t0=$EPOCHREALTIME
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$work/$kind-ca.crt" -H @"$work/$kind-reader.auth" "$(url "$kind")/v2/") || code=${code:-000}
    t1=$EPOCHREALTIME
    printf '%s %s %s\n' "$t0" "$t1" "$code" >>"$out"
    n=$((n + 1))
    rest=$((PROBE_MS * 1000 - (${t1/./} - ${t0/./})))
    if ((rest > 0)); then sleep "$(printf '%d.%06d' $((rest / 1000000)) $((rest % 1000000)))"; fi
  done
}

# One password change on KIND under the probe loop; sets ROTATION to "UP_SECONDS PROBES FAILED
# LONGEST_GAP_S". Runs in this shell, so that cleanup knows the probe loop's pid.
ROTATION=""
rotate() { # KIND
  local kind=$1 password probes=$work/probes-$1.txt stop=$work/stop t0 t1 loop0 loop1 pid seconds
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  plc "$kind" config set --secret --path 'users[1].password' "$password"
  rm -f "$stop"
  loop0=$EPOCHREALTIME
  probe_loop "$kind" "$probes" "$stop" &
  pid=$!
  BG_PIDS=("$pid")
  sleep 0.5
  t0=$EPOCHREALTIME
  plc "$kind" up --yes --skip-preview >"$work/up-$kind.log" 2>&1 || { tail -n 40 "$work/up-$kind.log" >&2; die "pulumi up of ${STACK[$kind]} failed"; }
  t1=$EPOCHREALTIME
  sleep "$PROBE_TAIL"
  touch "$stop"
  wait "$pid"
  BG_PIDS=()
  loop1=$EPOCHREALTIME
  seconds=$(since "$t0" "$t1")
  # The change took effect: the new password opens /v2/.
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$work/$kind-ca.crt" -H @<(auth_header "$ROTATED" "$password") "$(url "$kind")/v2/") == 200 ]] \
    || die "${STACK[$kind]}: the new password of $ROTATED is refused after pulumi up"
  # The longest time without a 200: between the ends of successive 200s, and from the loop's
  # start to the first and from the last to the loop's end.
  ROTATION=$(awk -v a="$loop0" -v b="$loop1" -v s="$seconds" 'BEGIN { last = a }
    { n++; if ($3 != 200) f++; else { g = $2 - last; if (g > m) m = g; last = $2 } }
    END { g = b - last; if (g > m) m = g; printf "%s %d %d %.3f\n", s, n, f, m }' "$probes")
}

# --- set-up ---
log "deploying ${STACK[swarm]} (runtime swarm, host publishing, 127.0.0.1:${PORT[swarm]} via the edge) and ${STACK[single]} (one host, 127.0.0.1:${PORT[single]})"
for kind in "${KINDS[@]}"; do deploy "$kind"; done
replicas=1
PROXY_SERVICE=$(pl swarm stack output proxyServiceName)
REGISTRY_SERVICE=$(pl swarm stack output registryServiceName)
mkdir -p "/etc/docker/certs.d/$(host swarm)"
cp "$work/swarm-ca.crt" "/etc/docker/certs.d/$(host swarm)/ca.crt"
docker login "$(host swarm)" --username "$READER" --password-stdin <<<"$(password_of swarm "$READER")" >/dev/null 2>&1 || die "docker login failed"
printf 'wrk.headers["Authorization"] = "%s"\n' "$(sed 's/^Authorization: //' "$work/swarm-reader.auth")" >"$work/reader.lua"

log "building and pushing $PULLS distinct 6-layer images (63 MiB each) once"
for ((j = 1; j <= PULLS; j++)); do
  six_layer_context "$work/ctx"
  docker build --quiet --tag "$(image_ref "$j")" "$work/ctx" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "docker build failed"; }
  BUILT[$j]=$(docker image inspect --format '{{.Id}}' "$(image_ref "$j")")
  docker push --quiet "$(image_ref "$j")" >/dev/null || die "docker push failed"
done
rm -rf "$work/ctx"
# The layer wrk fetches: the one whose size is closest to BLOB_MIB.
BLOB_DIGEST=$(curl -sf --cacert "$work/swarm-ca.crt" -H @"$work/swarm-reader.auth" \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
  "$(url swarm)/v2/bench/pull-1/manifests/1" | node -e '
    const layers = JSON.parse(require("fs").readFileSync(0, "utf8")).layers, want = Number(process.argv[1]) * 1048576;
    layers.sort((a, b) => Math.abs(a.size - want) - Math.abs(b.size - want));
    process.stdout.write(layers[0].digest + " " + layers[0].size);' "$BLOB_MIB")
BLOB_BYTES=${BLOB_DIGEST#* }
BLOB_DIGEST=${BLOB_DIGEST% *}
step "wrk fetches $BLOB_DIGEST ($BLOB_BYTES bytes)"

# --- 1. replicas ---
log "1. replicas 1 against 2: wrk ($CLIENTS connections, ${WRK_SECONDS} s) on the blob, $PULLS parallel docker pulls; $REPS repetitions"
for ((i = 1; i <= REPS; i++)); do
  order=(1 2)
  if ((i % 2 == 0)); then order=(2 1); fi
  declare -A rps=() mibs=() pull=()
  for n in "${order[@]}"; do
    set_replicas "$n"
    out=$(wrk_blob)
    read -r "rps[$n]" "mibs[$n]" <<<"$out"
    pulls_seconds
    pull[$n]=$PULL_SECONDS
    record replicas "wrk_rps_$n" "$i" "${rps[$n]}"
    record replicas "wrk_mibs_$n" "$i" "${mibs[$n]}"
    record replicas "pull_s_$n" "$i" "${pull[$n]}"
    step "rep $i, {proxy: $n, registry: $n}: ${rps[$n]} req/s, ${mibs[$n]} MiB/s; $PULLS docker pulls ${pull[$n]} s"
  done
  step "rep $i ratios 2/1: wrk req/s $(ratio "${rps[2]}" "${rps[1]}"), MiB/s $(ratio "${mibs[2]}" "${mibs[1]}"), pull time $(ratio "${pull[2]}" "${pull[1]}")"
done

# --- 2. password change ---
set_replicas 2
log "2. a password change: pulumi up on the swarm (2 tasks per role) against one host, probing GET /v2/ every $PROBE_MS ms; $REPS repetitions"
for ((i = 1; i <= REPS; i++)); do
  order=("${KINDS[@]}")
  if ((i % 2 == 0)); then order=(single swarm); fi
  declare -A upsec=()
  for kind in "${order[@]}"; do
    rotate "$kind"
    read -r "upsec[$kind]" probes failed gap <<<"$ROTATION"
    record rotation "up_s_$kind" "$i" "${upsec[$kind]}"
    record rotation "probes_$kind" "$i" "$probes"
    record rotation "failed_$kind" "$i" "$failed"
    record rotation "gap_s_$kind" "$i" "$gap"
    step "rep $i, ${STACK[$kind]}: pulumi up ${upsec[$kind]} s; $failed of $probes probes failed; longest without a 200: $gap s"
  done
  step "rep $i ratio swarm/single of the up time: $(ratio "${upsec[swarm]}" "${upsec[single]}")"
done

# --- results ---
wall=$(since "$started")
node - "$samples" "$RESULTS_DIR/swarm.json" "$wall" "$REPS" "$CLIENTS" "$WRK_SECONDS" "$BLOB_BYTES" "$PULLS" "$PROBE_MS" "$PROBE_TAIL" \
  "$(docker version --format '{{.Server.Version}}')" "$(nproc)" <<'EOF'
const fs = require("fs");
const [file, out, wall, reps, clients, wrkSeconds, blobBytes, pulls, probeMs, probeTail, dockerVersion, cores] = process.argv.slice(2);
const series = {};
for (const line of fs.readFileSync(file, "utf8").trim().split("\n")) {
  const [, name, rep, value] = line.split("\t");
  (series[name] ??= [])[Number(rep) - 1] = Number(value);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r3 = (x) => Math.round(x * 1000) / 1000;
const stat = (xs) => ({ median: r3(median(xs)), min: r3(Math.min(...xs)), max: r3(Math.max(...xs)), samples: xs });
const ratios = (a, b) => {
  const xs = series[a].map((x, i) => r3(x / series[b][i]));
  return { median: r3(median(xs)), min: Math.min(...xs), max: Math.max(...xs), perRepetition: xs };
};
const result = {
  date: new Date().toISOString(),
  wallSeconds: Number(wall),
  machine: { cores: Number(cores), docker: dockerVersion },
  settings: { reps: Number(reps), wrkConnections: Number(clients), wrkSeconds: Number(wrkSeconds), blobBytes: Number(blobBytes),
    parallelPulls: Number(pulls), pullImage: "6 layers, 1-32 MiB, 63 MiB; each pull its own image", probePeriodMs: Number(probeMs),
    probeTailSeconds: Number(probeTail), swarm: "single node, publishMode host (edge), filesystem storage pinned to the node" },
  replicas: {
    one: { wrkRequestsPerSecond: stat(series.wrk_rps_1), wrkMiBPerSecond: stat(series.wrk_mibs_1), parallelPullSeconds: stat(series.pull_s_1) },
    two: { wrkRequestsPerSecond: stat(series.wrk_rps_2), wrkMiBPerSecond: stat(series.wrk_mibs_2), parallelPullSeconds: stat(series.pull_s_2) },
    ratioTwoOverOne: { wrkRequestsPerSecond: ratios("wrk_rps_2", "wrk_rps_1"), wrkMiBPerSecond: ratios("wrk_mibs_2", "wrk_mibs_1"),
      parallelPullSeconds: ratios("pull_s_2", "pull_s_1") },
  },
  passwordChange: Object.fromEntries(["swarm", "single"].map((k) => [k === "swarm" ? "swarm" : "singleHost", {
    upSeconds: stat(series[`up_s_${k}`]), probes: series[`probes_${k}`], failedProbes: series[`failed_${k}`],
    failedProbesTotal: series[`failed_${k}`].reduce((a, b) => a + b, 0), longestGapWithout200Seconds: stat(series[`gap_s_${k}`]),
  }])),
};
result.passwordChange.ratioSwarmOverSingleHostUpSeconds = ratios("up_s_swarm", "up_s_single");
fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
const f = (s) => `${s.median} (${s.min}–${s.max})`;
const row = (label, a, b, c) => console.log(`  ${label.padEnd(34)}${String(a).padEnd(26)}${String(b).padEnd(26)}${c}`);
const per = (r) => `${r.perRepetition.join(", ")}; median ${r.median}`;
const R = result.replicas, P = result.passwordChange, Q = R.ratioTwoOverOne;
console.log(`\nmedians (range) of ${reps} repetitions`);
row("replicas per role", "1", "2", "2 / 1, per repetition");
row(`wrk blob GET, ${clients} conns: req/s`, f(R.one.wrkRequestsPerSecond), f(R.two.wrkRequestsPerSecond), per(Q.wrkRequestsPerSecond));
row("wrk blob GET: MiB/s", f(R.one.wrkMiBPerSecond), f(R.two.wrkMiBPerSecond), per(Q.wrkMiBPerSecond));
row(`${pulls} parallel docker pulls: s`, f(R.one.parallelPullSeconds), f(R.two.parallelPullSeconds), per(Q.parallelPullSeconds));
row("password change", "swarm (2 per role)", "single host", "swarm / single, per repetition");
row("pulumi up: s", f(P.swarm.upSeconds), f(P.singleHost.upSeconds), per(P.ratioSwarmOverSingleHostUpSeconds));
row("failed probes / probes", P.swarm.failedProbes.map((x, i) => `${x}/${P.swarm.probes[i]}`).join(", "),
  P.singleHost.failedProbes.map((x, i) => `${x}/${P.singleHost.probes[i]}`).join(", "), "");
row("longest without a 200: s", f(P.swarm.longestGapWithout200Seconds), f(P.singleHost.longestGapWithout200Seconds), "");
console.log(`whole run ${wall} s; written to ${out}`);
EOF
