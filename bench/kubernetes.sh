#!/usr/bin/env bash
# The Kubernetes runtime on this host's single-node cluster (scripts/kube-node.sh) against itself
# and against one host, measured in alternation so that a busy host slows both sides alike;
# every figure is a median or a per-repetition ratio, and nothing asserts a time.
#
#   3. Up from nothing (run first: its last repetition leaves the stacks that 1 and 2 use): a
#      kubernetes stack (runtime kubernetes, NodePort on the node's address, {proxy: 2,
#      registry: 1}, filesystem storage on a claim) against a single-host stack (runtime
#      container, 127.0.0.1) and, when this Docker engine is a swarm already, a swarm stack
#      (publishMode host, pinned to this node, {proxy: 2, registry: 1}); none when it is not (the
#      engine is left as it is). In each repetition, every stack is destroyed (after the first)
#      and the wall time of `pulumi up` from an empty state is taken, in an order that rotates
#      between repetitions. Ratio kubernetes / single host (and swarm / single host), per
#      repetition; the destroys' times are kept too.
#   1. Replicas: the kubernetes stack with BENCH_PULLS distinct 6-layer images pushed once
#      (bench/lib.sh). Filesystem storage is one claim and so one registry pod (more are refused):
#      only the proxy is scaled, {proxy: 1} against {proxy: 2} with the registry at 1 (switched by
#      `pulumi config set --path kubernetes.replicas.proxy N` + `pulumi up`, then until exactly N
#      proxy pods run, all ready; the order alternates between repetitions):
#      (a) wrk, BENCH_CLIENTS keep-alive connections for BENCH_WRK_SECONDS, on an authenticated
#          GET of one layer blob (Authorization: Basic) through the NodePort: requests/s and MiB/s;
#      (b) the wall time of BENCH_PULLS parallel `docker pull`s, each of its own image (distinct
#          layers), every image removed first.
#      Ratio 2 proxies / 1 proxy, per repetition.
#   2. A password change: the kubernetes stack (2 proxy pods, rolled one new pod ready before an
#      old one stops) against the single-host stack (new files reloaded in place). In each
#      repetition, for both (order alternating): `pulumi config set --secret --path
#      'users[1].password' RANDOM`, then the wall time of `pulumi up` while a probe loop (bounded
#      in count and time) sends an authenticated GET /v2/ as users[0] every BENCH_PROBE_MS (curl
#      --max-time 2), from just before `up` to BENCH_PROBE_TAIL s after it: failed probes and the
#      longest time without a 200. Right after `up` returns, users[1] asks GET /v2/ with the new
#      password every 0.1 s until it is let in (at most 20 s): how long after `up` that was, and
#      how many times it was refused before. Ratio kubernetes / single host of the up duration,
#      per repetition.
#
# Prints the medians and ranges and the per-repetition ratios, and writes them with every sample
# to bench/results/kubernetes.json. The stacks are this project's, deployed with the real pulumi
# CLI from a throwaway local state backend in a temp dir. Everything made here is removed at the
# end, also on failure: the stacks (`pulumi destroy`, then `kubectl delete namespace` of the
# kubernetes stack's namespace and a sweep of the Docker objects by instance label), the
# /etc/docker/certs.d entry and the images. The node's volumes that the run's claims bound are
# emptied and offered again (scripts/kube-node.sh makes them `Retain`: a released one is never
# bound again), as they were before. The cluster is started if it is not running
# (`scripts/kube-node.sh up`) and left running; so is the Docker engine's swarm state.
#
#   bash bench/kubernetes.sh   (as root: the cluster, and docker pull with the CA in /etc/docker/certs.d/)
#
# Environment (defaults in brackets):
#   BENCH_REPS [3]           repetitions of each measurement
#   BENCH_CLIENTS [8]        wrk's concurrent keep-alive connections
#   BENCH_WRK_SECONDS [10]   length of one wrk run
#   BENCH_BLOB_MIB [4]       which layer wrk fetches: 1, 2, 4, 8, 16 or 32 MiB
#   BENCH_PULLS [4]          parallel docker pulls (distinct images); 0 skips them
#   BENCH_PROBE_MS [50]      the probe loop's period; BENCH_PROBE_TAIL [2] s after up;
#                            at most BENCH_PROBE_MAX [6000] probes and BENCH_PROBE_MAX_SECONDS [600]
#   BENCH_UP_TIMEOUT [900]   seconds any one pulumi command may take
#   BENCH_KUBE_PORT [30743]  the kubernetes stack's port and NodePort (30000-32767)
#   BENCH_SINGLE_PORT [26643], BENCH_SWARM_PORT [26743]   the other stacks' HTTPS ports
#   BENCH_RESULTS_DIR [bench/results]
#   AUTHREG_KUBE_NODE_IP [10.99.0.1], AUTHREG_KUBE_DIR   as scripts/kube-node.sh
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
NODE_IP=${AUTHREG_KUBE_NODE_IP:-10.99.0.1}
KUBE_DIR=${AUTHREG_KUBE_DIR:-$AUTHREG_CACHE_DIR/kube-node}
KINDS=(kube single) # the stacks of parts 1 and 2; part 3 adds swarm when the engine is a swarm
declare -A STACK=([kube]=bench-k8s [single]=bench-k8s-single [swarm]=bench-k8s-swarm)
declare -A PORT=([kube]=${BENCH_KUBE_PORT:-30743} [single]=${BENCH_SINGLE_PORT:-26643} [swarm]=${BENCH_SWARM_PORT:-26743})
NS=registry-${STACK[kube]} # the namespace the component makes for itself, named after it
READER=reader               # users[0]: pushes, pulls and probes
ROTATED=rotated             # users[1]: the password changed in part 2

for tool in pulumi kubectl docker curl wrk node timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing (pulumi, kubectl: scripts/toolchain.sh; Debian: apt-get install wrk curl)"
done
need_root "the single-node cluster and docker pull through the stack (its CA goes to /etc/docker/certs.d/)" "sudo bash bench/kubernetes.sh"
((PORT[kube] >= 30000 && PORT[kube] <= 32767)) || die "BENCH_KUBE_PORT ${PORT[kube]} is outside the NodePort range 30000-32767"
PART3_KINDS=(kube single)
SWARM_NOTE="the engine is in no swarm: no swarm stack (./scripts/up.sh swarm makes it a single-node one)"
if [[ $(docker info --format '{{.Swarm.LocalNodeState}}') == active ]]; then
  PART3_KINDS+=(swarm)
  SWARM_NOTE=""
fi
for kind in single swarm; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$kind]}") 2>/dev/null; then die "port ${PORT[$kind]} is in use"; fi
done

started=$EPOCHREALTIME
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "the cluster (scripts/kube-node.sh up) and the Kubernetes provider (scripts/toolchain.sh kubernetes-provider)"
KUBECONFIG=$(bash "$repo/scripts/kube-node.sh" up) || die "scripts/kube-node.sh up failed"
export KUBECONFIG
bash "$repo/scripts/toolchain.sh" kubernetes-provider >/dev/null || die "scripts/toolchain.sh kubernetes-provider failed"
if kubectl get services --all-namespaces -o jsonpath='{..nodePort}' | tr ' ' '\n' | grep -qx "${PORT[kube]}"; then
  die "NodePort ${PORT[kube]} is taken on the cluster; set BENCH_KUBE_PORT"
fi
if kubectl get namespace "$NS" >/dev/null 2>&1; then die "namespace $NS exists already (a run before left it?)"; fi

work=$(mktemp -d /tmp/authreg-bench-kubernetes.XXXXXX)
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_CONFIRMATIONS=true
export DOCKER_CONFIG=$work/docker DOCKER_BUILDKIT=0
mkdir -p "$work/state" "$DOCKER_CONFIG" "$RESULTS_DIR"
declare -A INITIALISED=() BUILT=()
BG_PIDS=()
samples=$work/samples.tsv
: >"$samples"

host() { # KIND: the registry's host:port, as clients name it
  if [[ $1 == kube ]]; then printf '%s:%s\n' "$NODE_IP" "${PORT[kube]}"; else printf 'localhost:%s\n' "${PORT[$1]}"; fi
}
url() { # KIND
  if [[ $1 == kube ]]; then printf 'https://%s:%s\n' "$NODE_IP" "${PORT[kube]}"; else printf 'https://127.0.0.1:%s\n' "${PORT[$1]}"; fi
}
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
image_ref() { printf '%s/bench/pull-%s:1\n' "$(host kube)" "$1"; }
image_pattern() { printf '^(%s|localhost:%s)/' "$(host kube)" "${PORT[single]}"; }

# The Docker objects of one stack (single host or swarm), by its instance label, in case
# `pulumi destroy` could not finish.
sweep_docker() { # INSTANCE
  local filter=label=authenticated-registry.instance=$1 ids i
  ids=$(docker service ls -q --filter "$filter" 2>/dev/null || true)
  [[ -z $ids ]] || xargs -r docker service rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker ps -aq --filter "$filter")
  [[ -z $ids ]] || xargs -r docker rm --force <<<"$ids" >/dev/null 2>&1
  # Swarm removes a service's containers after the service (at most 60 s).
  for ((i = 0; i < 60; i++)); do
    [[ -n $(docker ps -aq --filter "$filter") ]] || break
    sleep 1
  done
  ids=$(docker secret ls -q --filter "$filter" 2>/dev/null || true)
  [[ -z $ids ]] || xargs -r docker secret rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker config ls -q --filter "$filter" 2>/dev/null || true)
  [[ -z $ids ]] || xargs -r docker config rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker network ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker network rm <<<"$ids" >/dev/null 2>&1
  ids=$(docker volume ls -q --filter "$filter")
  [[ -z $ids ]] || xargs -r docker volume rm --force <<<"$ids" >/dev/null 2>&1
  return 0
}

# The node's volumes (PersistentVolumes) that a claim of NS bound, one "NAME PHASE PATH" a line.
claimed_volumes() {
  kubectl get persistentvolumes -o go-template='{{range .items}}{{if .spec.claimRef}}{{if eq .spec.claimRef.namespace "'"$NS"'"}}{{.metadata.name}} {{.status.phase}} {{if .spec.hostPath}}{{.spec.hostPath.path}}{{end}}{{"\n"}}{{end}}{{end}}{{end}}'
}

# Once the claims are gone: each volume they bound, emptied and offered again (Available).
# scripts/kube-node.sh's volumes are `Retain`, so a released one would stay unusable.
free_volumes() {
  local i pv phase path busy
  for ((i = 0; i < 30; i++)); do
    busy=$(claimed_volumes | awk '$2 != "Released"')
    [[ -n $busy ]] || break
    sleep 1
  done
  while read -r pv phase path; do
    [[ -n $pv && $phase == Released ]] || continue
    if [[ $path != "$KUBE_DIR"/volumes/* || ! -d $path ]]; then
      step "volume $pv ($path) left Released: not one of scripts/kube-node.sh's directories"
      continue
    fi
    find "$path" -mindepth 1 -delete
    kubectl patch persistentvolume "$pv" --type json -p '[{"op": "remove", "path": "/spec/claimRef"}]' >/dev/null
  done < <(claimed_volumes)
}

# `pulumi destroy` of KIND's stack (three attempts), then what it may have left: the namespace,
# the volumes, the Docker objects. Prints the wall time of the destroy that succeeded.
destroy() { # KIND
  local kind=$1 attempt t0 seconds=""
  for ((attempt = 1; attempt <= 3; attempt++)); do
    t0=$EPOCHREALTIME
    if plc "$kind" destroy --yes --skip-preview >"$work/destroy-$kind.log" 2>&1; then
      seconds=$(since "$t0")
      break
    fi
    # An interrupted `up` leaves the stack locked in the file backend.
    rm -rf "$work/state/.pulumi/locks"
    step "pulumi destroy of ${STACK[$kind]} failed (attempt $attempt): $(grep -m1 -i 'error' "$work/destroy-$kind.log")"
  done
  if [[ $kind == kube ]]; then
    kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s >/dev/null 2>&1
    free_volumes
  else
    sweep_docker "registry-${STACK[$kind]}"
  fi
  printf '%s\n' "$seconds"
  [[ -n $seconds ]]
}

# What this run made and is still there, one line each.
leftovers() {
  local kind filter
  kubectl get namespace "$NS" >/dev/null 2>&1 && printf 'namespace %s\n' "$NS"
  claimed_volumes | awk '{ printf "persistent volume %s (%s)\n", $1, $2 }'
  for kind in single swarm; do
    filter=label=authenticated-registry.instance=registry-${STACK[$kind]}
    docker service ls --filter "$filter" --format 'service {{.Name}}' 2>/dev/null || true
    docker ps -a --filter "$filter" --format 'container {{.Names}}'
    docker network ls --filter "$filter" --format 'network {{.Name}}'
    docker volume ls --filter "$filter" --format 'volume {{.Name}}'
  done
  [[ ! -e /etc/docker/certs.d/$(host kube) ]] || printf 'trust dir /etc/docker/certs.d/%s\n' "$(host kube)"
  docker image ls --format 'image {{.Repository}}:{{.Tag}}' | grep -E "^image $(image_pattern | tr -d '^')" || true
}

cleanup() {
  local status=$? kind pid ref left
  set +e
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  log "cleaning up"
  rm -rf "/etc/docker/certs.d/$(host kube)"
  for kind in "${PART3_KINDS[@]}"; do
    [[ -n ${INITIALISED[$kind]:-} ]] || continue
    # The stack init's salt file in the checkout, if the run stopped before moving it.
    [[ ${INITIALISED[$kind]} == salt ]] && rm -f "$repo/Pulumi.${STACK[$kind]}.yaml"
    destroy "$kind" >/dev/null
  done
  while read -r ref; do docker rmi --force "$ref" >/dev/null 2>&1; done < <(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E "$(image_pattern)")
  for ref in "${BUILT[@]}"; do docker rmi --force "$ref" >/dev/null 2>&1; done
  left=$(leftovers)
  if [[ -z $left ]]; then
    for kind in "${PART3_KINDS[@]}"; do [[ -z ${INITIALISED[$kind]:-} ]] || pl "$kind" stack rm --yes --force >/dev/null 2>&1; done
    rm -rf "$work"
    step "nothing left behind"
  else
    # Keep the state, so that the stacks can still be destroyed by hand.
    printf 'left behind (the stacks\x27 state is kept in %s; destroy with PULUMI_BACKEND_URL=file://%s/state PULUMI_CONFIG_PASSPHRASE=bench pulumi destroy --stack NAME --config-file %s/Pulumi.NAME.yaml):\n%s\n' \
      "$work" "$work" "$work" "$left" >&2
    ((status != 0)) || status=1
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

write_config() { # KIND SALT
  local kind=$1 node
  {
    printf '%s\n' "$2" "config:" "  authenticated-registry:port: \"${PORT[$kind]}\"" \
      "  authenticated-registry:users:" "    - username: $READER" "    - username: $ROTATED" \
      "  authenticated-registry:nginxImage: $AUTHREG_NGINX_IMAGE" "  authenticated-registry:registryImage: $AUTHREG_REGISTRY_IMAGE" \
      "  authenticated-registry:guardImage: $AUTHREG_NODE_IMAGE" "  authenticated-registry:deleteDataOnDestroy: true" \
      "  authenticated-registry:tls:" "    mode: generated"
    case $kind in
      kube)
        printf '%s\n' "    ipAddresses: [$NODE_IP]" "  authenticated-registry:domain: $NODE_IP" "  authenticated-registry:runtime: kubernetes" \
          "  authenticated-registry:kubernetes:" "    replicas: {proxy: 2, registry: 1}" "    serviceType: NodePort" "    storageSize: 5Gi"
        ;;
      swarm)
        node=$(docker info --format '{{.Name}}')
        printf '%s\n' "    ipAddresses: [127.0.0.1]" "  authenticated-registry:domain: localhost" "  authenticated-registry:runtime: swarm" \
          "  authenticated-registry:swarm:" "    replicas: {proxy: 2, registry: 1}" "    constraints: [\"node.hostname==$node\"]" \
          "    publishMode: host" "    edgeImage: $AUTHREG_NGINX_IMAGE"
        ;;
      single)
        printf '%s\n' "    ipAddresses: [127.0.0.1]" "  authenticated-registry:domain: localhost" \
          "  authenticated-registry:container:" "    bindAddress: 127.0.0.1"
        ;;
    esac
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

init_stack() { # KIND
  local kind=$1 salt
  (cd "$repo" && pulumi stack init "${STACK[$kind]}" --secrets-provider passphrase --non-interactive >/dev/null)
  INITIALISED[$kind]=salt
  # stack init writes the salt into the checkout; it moves to the stack's own config file.
  salt=$(grep '^encryptionsalt:' "$repo/Pulumi.${STACK[$kind]}.yaml")
  rm -f "$repo/Pulumi.${STACK[$kind]}.yaml"
  INITIALISED[$kind]=yes
  write_config "$kind" "$salt"
}

password_of() { # KIND USER
  pl "$1" stack output passwords --show-secrets --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]])' "$2"
}
auth_header() { # USER PASSWORD: the header line for curl -H @FILE
  printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"
}

# The proxy Deployment's pods: "PODS READY", pods that are stopping counted in PODS only.
proxy_pods() {
  kubectl --namespace "$NS" get pods --selector "$PROXY_SELECTOR" \
    -o go-template='{{range .items}}{{if .metadata.deletionTimestamp}}stopping{{else}}{{range .status.conditions}}{{if eq .type "Ready"}}{{.status}}{{end}}{{end}}{{end}}{{"\n"}}{{end}}' \
    | awk '{ n++ } $1 == "True" { r++ } END { printf "%d %d\n", n, r }'
}

replicas=2
set_replicas() { # N
  local n=$1 seconds i
  ((n != replicas)) || return 0
  plc kube config set --path kubernetes.replicas.proxy "$n"
  seconds=$(up kube)
  # up returns once the rollout is done; a pod scaled away still serves a few seconds.
  for ((i = 0; i < 90; i++)); do
    [[ $(proxy_pods) != "$n $n" ]] || break
    sleep 1
  done
  ((i < 90)) || die "the proxy did not come to exactly $n ready pods within 90 s ($(proxy_pods))"
  # kube-proxy rewrites the NodePort's rules about a second after the endpoints change.
  sleep 2
  replicas=$n
  step "replicas {proxy: $n, registry: 1}: pulumi up $seconds s, then $i s until $n pods"
}

# wrk on the blob: prints "REQUESTS_PER_S MIB_PER_S".
wrk_blob() {
  wrk -t2 -c"$CLIENTS" -d"${WRK_SECONDS}s" --timeout 30s -s "$work/reader.lua" "$(url kube)/v2/bench/pull-1/blobs/$BLOB_DIGEST" >"$work/wrk.log" 2>&1 \
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
# LONGEST_GAP_S NEW_PASSWORD_ACCEPTED_AFTER_S NEW_PASSWORD_REFUSALS". Runs in this shell, so that cleanup knows the probe loop's pid.
ROTATION=""
rotate() { # KIND
  local kind=$1 password probes=$work/probes-$1.txt stop=$work/stop t0 t1 loop0 loop1 pid seconds code refused accepted
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
  # The change took effect: the new password opens /v2/. Asked at once and every 0.1 s until it
  # does (at most 20 s), while the probe loop goes on: how long after `up` returned it did, and
  # how many times it was refused before.
  auth_header "$ROTATED" "$password" >"$work/rotated.auth"
  refused=0
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$work/$kind-ca.crt" -H @"$work/rotated.auth" "$(url "$kind")/v2/") || code=${code:-000}
    [[ $code != 200 ]] || break
    refused=$((refused + 1))
    if awk -v s="$(since "$t1")" 'BEGIN { exit !(s >= 20) }'; then
      die "${STACK[$kind]}: the new password of $ROTATED is still refused 20 s after pulumi up (last answer $code, $refused refusals)"
    fi
    sleep 0.1
  done
  accepted=$(since "$t1")
  sleep "$PROBE_TAIL"
  touch "$stop"
  wait "$pid"
  BG_PIDS=()
  loop1=$EPOCHREALTIME
  seconds=$(since "$t0" "$t1")
  # The longest time without a 200: between the ends of successive 200s, and from the loop's
  # start to the first and from the last to the loop's end.
  ROTATION=$(awk -v a="$loop0" -v b="$loop1" -v s="$seconds" 'BEGIN { last = a }
    { n++; if ($3 != 200) f++; else { g = $2 - last; if (g > m) m = g; last = $2 } }
    END { g = b - last; if (g > m) m = g; printf "%s %d %d %.3f", s, n, f, m }' "$probes")
  ROTATION+=" $accepted $refused"
}

# --- 3. up from nothing (its last repetition leaves the stacks of 1 and 2 up) ---
log "3. pulumi up from nothing: ${PART3_KINDS[*]} (kubernetes: NodePort $(host kube), {proxy: 2, registry: 1}; one host: 127.0.0.1:${PORT[single]}); $REPS repetitions, destroyed in between"
[[ -z $SWARM_NOTE ]] || step "$SWARM_NOTE"
for kind in "${PART3_KINDS[@]}"; do init_stack "$kind"; done
for ((i = 1; i <= REPS; i++)); do
  # The order rotates: each kind goes first in turn.
  order=()
  for ((k = 0; k < ${#PART3_KINDS[@]}; k++)); do order+=("${PART3_KINDS[(k + i - 1) % ${#PART3_KINDS[@]}]}"); done
  if ((i > 1)); then
    for kind in "${order[@]}"; do
      seconds=$(destroy "$kind") || die "pulumi destroy of ${STACK[$kind]} failed"
      record deploy "destroy_s_$kind" "$((i - 1))" "$seconds"
      step "rep $i, ${STACK[$kind]} destroyed: $seconds s"
    done
  fi
  declare -A upsec=()
  for kind in "${order[@]}"; do
    upsec[$kind]=$(up "$kind")
    record deploy "up_s_$kind" "$i" "${upsec[$kind]}"
    step "rep $i, ${STACK[$kind]} up from nothing: ${upsec[$kind]} s"
  done
  line="rep $i ratio kubernetes/single of up from nothing: $(ratio "${upsec[kube]}" "${upsec[single]}")"
  [[ -z ${upsec[swarm]:-} ]] || line+="; swarm/single: $(ratio "${upsec[swarm]}" "${upsec[single]}")"
  step "$line"
done
if [[ -n ${INITIALISED[swarm]:-} ]]; then
  destroy swarm >/dev/null || die "pulumi destroy of ${STACK[swarm]} failed"
fi

# --- set-up of 1 and 2 ---
for kind in "${KINDS[@]}"; do
  pl "$kind" stack output caCertificatePem >"$work/$kind-ca.crt"
  auth_header "$READER" "$(password_of "$kind" "$READER")" >"$work/$kind-reader.auth"
done
[[ $(pl kube stack output kubernetesNamespace) == "$NS" ]] || die "the kubernetes stack's namespace is not $NS"
PROXY_DEPLOYMENT=$(pl kube stack output proxyDeploymentName)
# shellcheck disable=SC2016 # a Go template's variables, not the shell's
PROXY_SELECTOR=$(kubectl --namespace "$NS" get deployment "$PROXY_DEPLOYMENT" \
  -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}')
PROXY_SELECTOR=${PROXY_SELECTOR%,}
for ((i = 0; i < 90; i++)); do
  [[ $(proxy_pods) != "2 2" ]] || break
  sleep 1
done
mkdir -p "/etc/docker/certs.d/$(host kube)"
cp "$work/kube-ca.crt" "/etc/docker/certs.d/$(host kube)/ca.crt"
docker login "$(host kube)" --username "$READER" --password-stdin <<<"$(password_of kube "$READER")" >/dev/null 2>&1 || die "docker login to $(host kube) failed"
printf 'wrk.headers["Authorization"] = "%s"\n' "$(sed 's/^Authorization: //' "$work/kube-reader.auth")" >"$work/reader.lua"

pushes=$((PULLS > 1 ? PULLS : 1))
log "building and pushing $pushes distinct 6-layer images (63 MiB each) once, to $(host kube)"
for ((j = 1; j <= pushes; j++)); do
  six_layer_context "$work/ctx"
  docker build --quiet --tag "$(image_ref "$j")" "$work/ctx" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "docker build failed"; }
  BUILT[$j]=$(docker image inspect --format '{{.Id}}' "$(image_ref "$j")")
  docker push --quiet "$(image_ref "$j")" >/dev/null || die "docker push to $(host kube) failed"
done
rm -rf "$work/ctx"
# The layer wrk fetches: the one whose size is closest to BLOB_MIB.
BLOB_DIGEST=$(curl -sf --cacert "$work/kube-ca.crt" -H @"$work/kube-reader.auth" \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
  "$(url kube)/v2/bench/pull-1/manifests/1" | node -e '
    const layers = JSON.parse(require("fs").readFileSync(0, "utf8")).layers, want = Number(process.argv[1]) * 1048576;
    layers.sort((a, b) => Math.abs(a.size - want) - Math.abs(b.size - want));
    process.stdout.write(layers[0].digest + " " + layers[0].size);' "$BLOB_MIB")
BLOB_BYTES=${BLOB_DIGEST#* }
BLOB_DIGEST=${BLOB_DIGEST% *}
step "wrk fetches $BLOB_DIGEST ($BLOB_BYTES bytes)"

# --- 1. replicas ---
log "1. proxy pods 1 against 2 (registry 1: filesystem storage): wrk ($CLIENTS connections, ${WRK_SECONDS} s) on the blob, $PULLS parallel docker pulls; $REPS repetitions"
for ((i = 1; i <= REPS; i++)); do
  order=(1 2)
  if ((i % 2 == 0)); then order=(2 1); fi
  declare -A rps=() mibs=() pull=()
  for n in "${order[@]}"; do
    set_replicas "$n"
    out=$(wrk_blob)
    read -r "rps[$n]" "mibs[$n]" <<<"$out"
    record replicas "wrk_rps_$n" "$i" "${rps[$n]}"
    record replicas "wrk_mibs_$n" "$i" "${mibs[$n]}"
    line="rep $i, {proxy: $n, registry: 1}: ${rps[$n]} req/s, ${mibs[$n]} MiB/s"
    if ((PULLS > 0)); then
      pulls_seconds
      pull[$n]=$PULL_SECONDS
      record replicas "pull_s_$n" "$i" "${pull[$n]}"
      line+="; $PULLS docker pulls ${pull[$n]} s"
    fi
    step "$line"
  done
  line="rep $i ratios 2/1: wrk req/s $(ratio "${rps[2]}" "${rps[1]}"), MiB/s $(ratio "${mibs[2]}" "${mibs[1]}")"
  ((PULLS == 0)) || line+=", pull time $(ratio "${pull[2]}" "${pull[1]}")"
  step "$line"
done

# --- 2. password change ---
set_replicas 2
log "2. a password change: pulumi up on kubernetes (2 proxy pods) against one host, probing GET /v2/ every $PROBE_MS ms; $REPS repetitions"
for ((i = 1; i <= REPS; i++)); do
  order=("${KINDS[@]}")
  if ((i % 2 == 0)); then order=(single kube); fi
  declare -A upsec=()
  for kind in "${order[@]}"; do
    rotate "$kind"
    read -r "upsec[$kind]" probes failed gap accepted refused <<<"$ROTATION"
    record rotation "rot_up_s_$kind" "$i" "${upsec[$kind]}"
    record rotation "probes_$kind" "$i" "$probes"
    record rotation "failed_$kind" "$i" "$failed"
    record rotation "gap_s_$kind" "$i" "$gap"
    record rotation "accepted_s_$kind" "$i" "$accepted"
    record rotation "refused_$kind" "$i" "$refused"
    step "rep $i, ${STACK[$kind]}: pulumi up ${upsec[$kind]} s; $failed of $probes probes failed; longest without a 200: $gap s; new password accepted $accepted s after up ($refused refusals before)"
  done
  step "rep $i ratio kubernetes/single of the up time: $(ratio "${upsec[kube]}" "${upsec[single]}")"
done

# --- results ---
wall=$(since "$started")
node - "$samples" "$RESULTS_DIR/kubernetes.json" "$wall" "$REPS" "$CLIENTS" "$WRK_SECONDS" "$BLOB_BYTES" "$PULLS" "$PROBE_MS" "$PROBE_TAIL" \
  "$(docker version --format '{{.Server.Version}}')" "$(kubectl version -o json 2>/dev/null | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).serverVersion.gitVersion)')" \
  "$(nproc)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "${SWARM_NOTE:-swarm stack measured}" <<'EOF'
const fs = require("fs");
const [file, out, wall, reps, clients, wrkSeconds, blobBytes, pulls, probeMs, probeTail, dockerVersion, kubeVersion, cores, loadBefore, loadAfter, swarmNote] =
  process.argv.slice(2);
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
const stat = (name) => {
  const xs = series[name];
  return xs ? { median: r3(median(xs)), min: r3(Math.min(...xs)), max: r3(Math.max(...xs)), samples: xs } : null;
};
const ratios = (a, b) => {
  if (!series[a] || !series[b]) return null;
  const xs = series[a].map((x, i) => r3(x / series[b][i]));
  return { median: r3(median(xs)), min: Math.min(...xs), max: Math.max(...xs), perRepetition: xs };
};
const side = (n) => ({ wrkRequestsPerSecond: stat(`wrk_rps_${n}`), wrkMiBPerSecond: stat(`wrk_mibs_${n}`), parallelPullSeconds: stat(`pull_s_${n}`) });
const kinds = { kube: "kubernetes", single: "singleHost", swarm: "swarm" };
const result = {
  date: new Date().toISOString(),
  wallSeconds: Number(wall),
  machine: { cores: Number(cores), docker: dockerVersion, kubernetes: kubeVersion, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
  settings: {
    reps: Number(reps), wrkConnections: Number(clients), wrkSeconds: Number(wrkSeconds), blobBytes: Number(blobBytes),
    parallelPulls: Number(pulls), pullImage: "6 layers, 1-32 MiB, 63 MiB; each pull its own image", probePeriodMs: Number(probeMs),
    probeTailSeconds: Number(probeTail),
    kubernetes: "single-node cluster (scripts/kube-node.sh), NodePort on the node's address, filesystem storage on a claim: one registry pod; only the proxy scaled",
    singleHost: "runtime container, 127.0.0.1",
    swarm: swarmNote,
  },
  upFromNothing: {
    ...Object.fromEntries(Object.entries(kinds).filter(([k]) => series[`up_s_${k}`]).map(([k, label]) => [label, { upSeconds: stat(`up_s_${k}`), destroySeconds: stat(`destroy_s_${k}`) }])),
    ratioKubernetesOverSingleHost: ratios("up_s_kube", "up_s_single"),
    ratioSwarmOverSingleHost: ratios("up_s_swarm", "up_s_single"),
  },
  replicas: {
    proxyOne: side(1), proxyTwo: side(2),
    ratioTwoOverOne: { wrkRequestsPerSecond: ratios("wrk_rps_2", "wrk_rps_1"), wrkMiBPerSecond: ratios("wrk_mibs_2", "wrk_mibs_1"),
      parallelPullSeconds: ratios("pull_s_2", "pull_s_1") },
  },
  passwordChange: Object.fromEntries(["kube", "single"].map((k) => [kinds[k], {
    upSeconds: stat(`rot_up_s_${k}`), probes: series[`probes_${k}`], failedProbes: series[`failed_${k}`],
    failedProbesTotal: series[`failed_${k}`].reduce((a, b) => a + b, 0), longestGapWithout200Seconds: stat(`gap_s_${k}`),
    newPasswordAcceptedSecondsAfterUp: stat(`accepted_s_${k}`), newPasswordRefusalsAfterUp: series[`refused_${k}`],
  }])),
};
result.passwordChange.ratioKubernetesOverSingleHostUpSeconds = ratios("rot_up_s_kube", "rot_up_s_single");
fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
const f = (s) => (s ? `${s.median} (${s.min}–${s.max})` : "-");
const row = (label, a, b, c) => console.log(`  ${label.padEnd(34)}${String(a).padEnd(26)}${String(b).padEnd(26)}${c}`);
const per = (r) => (r ? `${r.perRepetition.join(", ")}; median ${r.median}` : "");
const U = result.upFromNothing, R = result.replicas, P = result.passwordChange, Q = R.ratioTwoOverOne;
console.log(`\nmedians (range) of ${reps} repetitions`);
row("up from nothing", "kubernetes", "single host", "kubernetes / single, per repetition");
row("pulumi up: s", f(U.kubernetes.upSeconds), f(U.singleHost.upSeconds), per(U.ratioKubernetesOverSingleHost));
row("pulumi destroy: s", f(U.kubernetes.destroySeconds), f(U.singleHost.destroySeconds), "");
if (U.swarm) row("swarm: pulumi up, destroy: s", f(U.swarm.upSeconds), f(U.swarm.destroySeconds), `swarm / single: ${per(U.ratioSwarmOverSingleHost)}`);
else console.log(`  (${swarmNote})`);
row("proxy pods (registry 1)", "1", "2", "2 / 1, per repetition");
row(`wrk blob GET, ${clients} conns: req/s`, f(R.proxyOne.wrkRequestsPerSecond), f(R.proxyTwo.wrkRequestsPerSecond), per(Q.wrkRequestsPerSecond));
row("wrk blob GET: MiB/s", f(R.proxyOne.wrkMiBPerSecond), f(R.proxyTwo.wrkMiBPerSecond), per(Q.wrkMiBPerSecond));
if (Q.parallelPullSeconds) row(`${pulls} parallel docker pulls: s`, f(R.proxyOne.parallelPullSeconds), f(R.proxyTwo.parallelPullSeconds), per(Q.parallelPullSeconds));
row("password change", "kubernetes (2 proxies)", "single host", "kubernetes / single, per repetition");
row("pulumi up: s", f(P.kubernetes.upSeconds), f(P.singleHost.upSeconds), per(P.ratioKubernetesOverSingleHostUpSeconds));
row("failed probes / probes", P.kubernetes.failedProbes.map((x, i) => `${x}/${P.kubernetes.probes[i]}`).join(", "),
  P.singleHost.failedProbes.map((x, i) => `${x}/${P.singleHost.probes[i]}`).join(", "), "");
row("longest without a 200: s", f(P.kubernetes.longestGapWithout200Seconds), f(P.singleHost.longestGapWithout200Seconds), "");
row("new password accepted after up: s", f(P.kubernetes.newPasswordAcceptedSecondsAfterUp), f(P.singleHost.newPasswordAcceptedSecondsAfterUp), "");
row("refusals of it after up", P.kubernetes.newPasswordRefusalsAfterUp.join(", "), P.singleHost.newPasswordRefusalsAfterUp.join(", "), "");
console.log(`load average ${loadBefore} before, ${loadAfter} after; whole run ${wall} s; written to ${out}`);
EOF
