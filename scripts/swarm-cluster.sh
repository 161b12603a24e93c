#!/usr/bin/env bash
# A Docker Swarm of several nodes on this one host, for the tests that need one. Each node is a
# Docker engine (Debian's dockerd 20.10) in a container of the swarm-node image, which
# `scripts/images.sh swarm-node` builds (`up` runs it; it needs root only to build the image's
# root file system the first time).
#
#   scripts/swarm-cluster.sh up [--nodes N] [--images "IMAGE ..."]
#       Creates, or reuses, the bridge network authreg-swarm-cluster ($AUTHREG_SWARM_NET.0/24) and
#       N nodes (default 3), authreg-swarm-node-1..N at $AUTHREG_SWARM_NET.11, .12, ...; node 1
#       initialises the swarm and is its manager, the others join as workers. Then loads the host's
#       images IMAGE... into every node that lacks them (`docker save` once, `docker load` per
#       node), and prints the manager's engine endpoint, tcp://IP:2375, alone on stdout:
#         export DOCKER_HOST=$(scripts/swarm-cluster.sh up --images "$AUTHREG_NGINX_IMAGE")
#   scripts/swarm-cluster.sh status     the manager's `docker node ls`, and the endpoint
#   scripts/swarm-cluster.sh endpoint   the endpoint only
#   scripts/swarm-cluster.sh down       removes the nodes (stopped first, so their engines stop
#                                       their containers), their volumes and the network
#
# `up` is idempotent: it starts stopped nodes, adds missing ones, joins nodes that are not in the
# swarm and loads only the images a node does not have. Everything it creates carries the label
# authenticated-registry.test=swarm-cluster:
#   docker ps -a --filter label=authenticated-registry.test=swarm-cluster   (also volumes, networks)
#
# What these machines allow, and so what tests on this cluster must use:
#   - no IPVS in the kernel: no routing mesh and no service VIPs; services use endpoint mode
#     dnsrr (NAME and tasks.NAME resolve to the task addresses) and ports published in host mode;
#   - privileged containers cannot start: a node gets every capability but SYS_RESOURCE one by
#     one, no seccomp or AppArmor profile, the host's cgroup hierarchy (cgroup v1) and namespace,
#     a volume at /var/lib/docker (overlay2 works there) and a tmpfs at /run. Its engine puts its
#     containers under the cgroup /authreg-swarm-node-I, which `down` removes.
# The engine API on port 2375 has neither TLS nor authentication. Nothing is published: only this
# host and the containers on the cluster's network reach it.
#
# Env: AUTHREG_SWARM_NET   the first three octets of the network's /24 (default 172.31.250).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

SWARM_NODE_IMAGE=$AUTHREG_SWARM_NODE_IMAGE
LABEL=authenticated-registry.test=swarm-cluster
NETWORK=authreg-swarm-cluster
NET=${AUTHREG_SWARM_NET:-172.31.250}
NODE_PREFIX=authreg-swarm-node-
API_PORT=2375

# Every capability dockerd 20.10 knows but SYS_RESOURCE, which the host engine's bounding set lacks
# (it is why --privileged fails here).
CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO
  SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
  AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)

usage() {
  die "usage: $0 up [--nodes N] [--images \"IMAGE ...\"] | status | endpoint | down"
}

node_name() { printf '%s%s\n' "$NODE_PREFIX" "$1"; }
node_ip() { printf '%s.%s\n' "$NET" $((10 + $1)); }
endpoint() { printf 'tcp://%s:%s\n' "$(node_ip 1)" "$API_PORT"; }
# in_node I CMD...: runs CMD in node I (its docker CLI talks to its own engine).
in_node() { local i=$1; shift; docker exec "$(node_name "$i")" "$@"; }
container_state() { docker container inspect --format '{{.State.Status}}' "$1" 2>/dev/null || true; }

ensure_network() {
  local subnet
  subnet=$(docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NETWORK" 2>/dev/null || true)
  if [[ -n $subnet ]]; then
    [[ $subnet == "$NET.0/24" ]] || die "network $NETWORK exists with subnet $subnet, not $NET.0/24: run '$0 down' first"
    step "network $NETWORK ($subnet): exists"
    return
  fi
  if ip -4 route show 2>/dev/null | grep -q "^$NET\."; then
    die "$NET.0/24 is already routed on this host (ip route); choose another with AUTHREG_SWARM_NET"
  fi
  docker network create --driver bridge --subnet "$NET.0/24" --gateway "$NET.1" \
    --opt com.docker.network.bridge.name=authreg-swarm0 --label "$LABEL" "$NETWORK" >/dev/null
  step "network $NETWORK ($NET.0/24): created"
}

# ensure_node I: node I's container exists and runs.
ensure_node() {
  local i=$1 name ip state
  name=$(node_name "$i")
  ip=$(node_ip "$i")
  state=$(container_state "$name")
  case $state in
    running)
      step "$name ($ip): running"
      local image
      image=$(docker container inspect --format '{{.Image}}' "$name")
      [[ $image == "$(docker image inspect --format '{{.Id}}' "$SWARM_NODE_IMAGE")" ]] \
        || step "$name runs an older $SWARM_NODE_IMAGE; '$0 down' and 'up' renew it"
      return
      ;;
    "") ;;
    *)
      step "$name ($ip): $state, starting it"
      docker start "$name" >/dev/null
      return
      ;;
  esac
  local caps=() cap
  for cap in "${CAPS[@]}"; do caps+=(--cap-add "$cap"); done
  docker volume create --label "$LABEL" "$name-docker" >/dev/null
  docker run -d --name "$name" --hostname "$name" --label "$LABEL" \
    --network "$NETWORK" --ip "$ip" \
    "${caps[@]}" --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    -v "$name-docker:/var/lib/docker" --tmpfs /run \
    "$SWARM_NODE_IMAGE" --cgroup-parent "/$name" >/dev/null
  step "$name ($ip): created"
}

# wait_engine I: waits until node I's dockerd answers.
wait_engine() {
  local i=$1 name deadline=$((SECONDS + 90))
  name=$(node_name "$i")
  until in_node "$i" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; do
    if [[ $(container_state "$name") != running ]] || ((SECONDS > deadline)); then
      docker logs --tail 30 "$name" >&2 || true
      die "the engine in $name did not start (docker logs $name)"
    fi
    sleep 1
  done
}

# ensure_swarm N: node 1 is the swarm's manager; nodes 2..N are workers of that swarm.
ensure_swarm() {
  local nodes=$1 ip1 i name state node_id token stale
  ip1=$(node_ip 1)
  if [[ $(in_node 1 docker info --format '{{.Swarm.LocalNodeState}}') != active ]]; then
    in_node 1 docker swarm init --advertise-addr "$ip1" >/dev/null
    step "$(node_name 1): swarm initialised (manager, $ip1:2377)"
  else
    step "$(node_name 1): manager"
  fi
  token=$(in_node 1 docker swarm join-token -q worker)
  for ((i = 2; i <= nodes; i++)); do
    name=$(node_name "$i")
    state=$(in_node "$i" docker info --format '{{.Swarm.LocalNodeState}}')
    node_id=$(in_node "$i" docker info --format '{{.Swarm.NodeID}}')
    if [[ $state == active ]] && in_node 1 docker node inspect "$node_id" >/dev/null 2>&1; then
      step "$name: worker"
      continue
    fi
    # In another swarm (node 1 was re-created): leave it first.
    if [[ $state != inactive ]]; then in_node "$i" docker swarm leave --force >/dev/null 2>&1 || true; fi
    # A node re-created under the same name leaves its old entry behind (down, or not yet seen
    # to be): this node is not in the swarm, so every entry with its name is stale.
    for stale in $(in_node 1 docker node ls --filter "name=$name" --format '{{.ID}} {{.Hostname}}' |
      awk -v n="$name" '$2 == n { print $1 }'); do
      in_node 1 docker node rm --force "$stale" >/dev/null
    done
    in_node "$i" docker swarm join --token "$token" --advertise-addr "$(node_ip "$i")" "$ip1:2377" >/dev/null
    step "$name: joined as a worker"
  done
}

# load_images N IMAGE...: every node 1..N gets the host's IMAGEs (same image ID), saved once.
load_images() {
  local nodes=$1 i image id start=$SECONDS
  shift
  local -A host_id=()
  for image in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) || die "image $image is not on this host"
    host_id[$image]=$id
  done
  local missing_nodes=() missing_images=()
  local -A wanted=()
  for ((i = 1; i <= nodes; i++)); do
    local lacks=false
    for image in "$@"; do
      if [[ $(in_node "$i" docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true) != "${host_id[$image]}" ]]; then
        lacks=true
        wanted[$image]=1
      fi
    done
    if $lacks; then missing_nodes+=("$i"); fi
  done
  if ((${#missing_nodes[@]} == 0)); then
    step "images on every node: $*"
    return
  fi
  missing_images=("${!wanted[@]}")
  archive=$(mktemp "${TMPDIR:-/tmp}/authreg-swarm-images.XXXXXX.tar")
  trap 'rm -f "$archive"' EXIT
  docker save -o "$archive" "${missing_images[@]}"
  step "saved ${missing_images[*]} ($(du -h "$archive" | cut -f1), $((SECONDS - start)) s)"
  for i in "${missing_nodes[@]}"; do
    docker exec -i "$(node_name "$i")" docker load -q <"$archive" >/dev/null
    step "loaded into $(node_name "$i") ($((SECONDS - start)) s)"
  done
  rm -f "$archive"
  trap - EXIT
}

cmd_up() {
  local nodes=3 images="" i
  while (($#)); do
    case $1 in
      --nodes) nodes=${2:-}; shift 2 || usage ;;
      --nodes=*) nodes=${1#*=}; shift ;;
      --images) images=${2:-}; shift 2 || usage ;;
      --images=*) images=${1#*=}; shift ;;
      *) usage ;;
    esac
  done
  if ! [[ $nodes =~ ^[1-9][0-9]?$ ]] || ((nodes > 50)); then die "--nodes takes 1 to 50, not '$nodes'"; fi
  local image_list=()
  read -r -a image_list <<<"$images"

  local start=$SECONDS
  "$here/images.sh" swarm-node
  log "Swarm cluster: $nodes nodes on $NETWORK"
  ensure_network
  for ((i = 1; i <= nodes; i++)); do ensure_node "$i"; done
  for ((i = 1; i <= nodes; i++)); do wait_engine "$i"; done
  ensure_swarm "$nodes"
  local extra
  extra=$(docker ps -a --filter "label=$LABEL" --format '{{.Names}}' |
    awk -v p="$NODE_PREFIX" -v n="$nodes" 'index($0, p) == 1 && substr($0, length(p) + 1) + 0 > n' | paste -sd' ' -)
  [[ -z $extra ]] || step "more nodes than asked for are running: $extra"
  if ((${#image_list[@]})); then load_images "$nodes" "${image_list[@]}"; fi
  docker -H "$(endpoint)" version --format '{{.Server.Version}}' >/dev/null \
    || die "the manager's engine does not answer on $(endpoint)"
  step "cluster up ($((SECONDS - start)) s); manager: $(endpoint)"
  endpoint
}

cmd_status() {
  [[ $(container_state "$(node_name 1)") == running ]] || die "no cluster runs ($0 up)"
  in_node 1 docker node ls
  printf 'manager: %s\n' "$(endpoint)"
}

cmd_down() {
  local containers volumes networks
  log "Removing the swarm cluster"
  mapfile -t containers < <(docker ps -aq --filter "label=$LABEL")
  if ((${#containers[@]})); then
    # A graceful stop (all at once): each node's engine stops its containers, removing their cgroups.
    docker stop -t 30 "${containers[@]}" >/dev/null
    docker rm -v "${containers[@]}" >/dev/null
  fi
  mapfile -t volumes < <(docker volume ls -q --filter "label=$LABEL")
  if ((${#volumes[@]})); then docker volume rm "${volumes[@]}" >/dev/null; fi
  mapfile -t networks < <(docker network ls -q --filter "label=$LABEL")
  if ((${#networks[@]})); then docker network rm "${networks[@]}" >/dev/null; fi
  # The nodes' cgroup parents (see above), if this user may remove them; busy ones stay.
  local dirs=()
  shopt -s nullglob
  dirs=(/sys/fs/cgroup/*/"$NODE_PREFIX"[0-9]*)
  shopt -u nullglob
  if ((${#dirs[@]})) && [[ -w ${dirs[0]%/*} ]]; then
    find "${dirs[@]}" -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
  step "removed ${#containers[@]} nodes, ${#volumes[@]} volumes, ${#networks[@]} networks"
}

# The nodes live in this host's engine: a DOCKER_HOST exported from `up`'s output (a node's
# engine) must not send this script's own commands to the cluster.
if [[ ${DOCKER_HOST:-} == tcp://"$NET".* ]]; then unset DOCKER_HOST; fi
docker version >/dev/null 2>&1 || die "no Docker engine answers (scripts/docker-engine.sh starts one)"
case ${1:-} in
  up) shift; cmd_up "$@" ;;
  status) cmd_status ;;
  endpoint) endpoint ;;
  down) cmd_down ;;
  *) usage ;;
esac
