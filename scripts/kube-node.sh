#!/usr/bin/env bash
# A single-node Kubernetes on this host, for the tests that need one: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, a kubelet on a containerd of its own, kube-proxy
# (iptables) and CoreDNS, as host processes built from Go modules (scripts/toolchain.sh kubernetes-node
# etcd coredns; `up` builds what is missing, about 20 min on 2 busy cores the first time) and Debian
# packages (containerd and runc from docker.io, the CNI plugins, conntrack, nftables; ipset for
# --network-policy), which it installs when missing. Needs root.
#
#   scripts/kube-node.sh up [--images "IMAGE ..."] [--network-policy]
#       Starts what is not running and prints the admin kubeconfig's path, alone on stdout:
#         export KUBECONFIG=$(scripts/kube-node.sh up)
#       Imports the stand-in images (nginx, registry3, node, minio: lib.sh's image_tag) and IMAGE...
#       from the Docker engine into the cluster's containerd, those it lacks only. Nothing is ever
#       pulled: pods must use these images with imagePullPolicy IfNotPresent or Never.
#       --network-policy also runs kube-router's firewall controller (scripts/toolchain.sh
#       kube-router), which enforces NetworkPolicies; without it they are accepted but not enforced.
#       (Traffic from this host to the pods is always let through, as kube-router does.)
#   scripts/kube-node.sh status     the node and every pod
#   scripts/kube-node.sh env        export KUBECONFIG=...
#   scripts/kube-node.sh down [--purge]
#       Lets the kubelet stop every pod, then stops the processes `up` started (by their recorded
#       pids), runs kube-proxy --cleanup and removes the link, the cgroups and the mounts it made,
#       and the cluster's state (etcd's data: the next `up` is a fresh cluster). The certificates
#       and the imported images are kept, unless --purge, which removes the whole state directory.
#       Safe to re-run.
#
# The node, NODE_NAME, has its IP on a bridge of its own with no ports, $AUTHREG_KUBE_LINK (a
# kubelet refuses a loopback node IP, and this kernel has no dummy links); the API server listens
# on it (https://NODE_IP:6443), so that pods reach it through the kubernetes Service (10.96.0.1).
# NodePorts answer on NODE_IP only, from this host: curl http://NODE_IP:NODEPORT/. Pods get
# addresses in $AUTHREG_KUBE_POD_CIDR on the bridge authreg-cni0; Services in 10.96.0.0/16,
# cluster DNS at 10.96.0.10 (cluster.local).
#
# Env: AUTHREG_KUBE_DIR      the state directory (default $AUTHREG_CACHE_DIR/kube-node): pki,
#                            kubeconfigs, etcd's data, containerd's root, state and socket, logs, pids
#      AUTHREG_KUBE_NODE_IP  the node's IP (default 10.99.0.1), a /32 on the link below
#      AUTHREG_KUBE_LINK     the node IP's link (default authreg-kube0)
#      AUTHREG_KUBE_POD_CIDR the pods' /24 (default 10.244.0.0/24)
#
# What this host needs and so what the configuration says: cgroup v1 (kubelet failCgroupV1: false);
# no IPVS (kube-proxy in iptables mode); root without CAP_SYS_RESOURCE (containerd's
# restrict_oom_score_adj: the sandboxes' oom_score_adj of -998 would fail every pod).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

KUBE_DIR=${AUTHREG_KUBE_DIR:-$AUTHREG_CACHE_DIR/kube-node}
NODE_IP=${AUTHREG_KUBE_NODE_IP:-10.99.0.1}
NODE_LINK=${AUTHREG_KUBE_LINK:-authreg-kube0}
POD_CIDR=${AUTHREG_KUBE_POD_CIDR:-10.244.0.0/24}
NODE_NAME=authreg-kube-node
CNI_BRIDGE=authreg-cni0
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
API_PORT=6443
# etcd on ports of its own, on loopback: a host's etcd on 2379 stays untouched.
ETCD_CLIENT=127.0.0.1:12379
ETCD_PEER=127.0.0.1:12380
# Every pod's cgroup is under this one (in each v1 hierarchy), which `down` removes.
CGROUP_ROOT=authreg-kube
PAUSE_IMAGE=authreg.local/pause:1.0
COREDNS_IMAGE=authreg.local/coredns:1.15.0

BIN_DIR=$AUTHREG_CACHE_DIR/toolchain/v$PULUMI_VERSION/bin
PKI=$KUBE_DIR/pki
RUN=$KUBE_DIR/run
LOGS=$KUBE_DIR/logs
CTRD_SOCK=$KUBE_DIR/containerd/containerd.sock
ADMIN_KUBECONFIG=$KUBE_DIR/admin.kubeconfig
# The processes `up` may start, in the order it starts them (`status` lists them so).
COMPONENTS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-router)

usage() { die "usage: $0 up [--images \"IMAGE ...\"] [--network-policy] | status | env | down [--purge]"; }

kubectl() { command "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }
ctr_k8s() { ctr --address "$CTRD_SOCK" --namespace k8s.io "$@"; }

# put FILE: stdin into FILE unless FILE holds it already. kube-proxy exits when its configuration
# file changes, and an image's context left as it was is not built again.
put() {
  local new
  new=$(cat)
  [[ -f $1 && $(<"$1") == "$new" ]] || printf '%s\n' "$new" >"$1"
}

# kubectl: one on PATH that answers (a gcloud install's dispatcher does), else built (toolchain.sh).
find_kubectl() {
  KUBECTL=$BIN_DIR/kubectl
  [[ -x $KUBECTL ]] || "$here/toolchain.sh" kubectl >&2
}

# ---------------------------------------------------------------------------------------------
# processes: each one `up` starts has its pid in run/NAME.pid; a pid counts as ours only while its
# command line still names this state directory (every component's does), so a pid the kernel
# reused for another process is never signalled.

pid_of() { # NAME: the pid if that process runs, else fails
  local f=$RUN/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ -r /proc/$pid/cmdline && $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$KUBE_DIR"* ]] || return 1
  printf '%s\n' "$pid"
}

start() { # NAME CMD...: in a session of its own, output to logs/NAME.log
  local name=$1; shift
  if pid_of "$name" >/dev/null; then step "$name: running (pid $(pid_of "$name"))"; return; fi
  # setsid in a background job is not a group leader, so it execs the command itself: $! is its pid.
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$RUN/$name.pid"
  step "$name: started (pid $!, log $LOGS/$name.log)"
}

# running PID: the process exists and is not a zombie waiting for its parent.
running() { [[ -r /proc/$1/stat && $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) != Z ]]; }

stop() { # NAME...: SIGTERM to all of them, then SIGKILL to those still running after 20 s
  local name pid i pids=() names=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$name")
    fi
    rm -f "$RUN/$name.pid"
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    local deadline=$((SECONDS + 20))
    while running "${pids[i]}" && ((SECONDS < deadline)); do sleep 0.1; done
    if running "${pids[i]}"; then kill -9 "${pids[i]}" 2>/dev/null || true; fi
    step "${names[i]}: stopped (pid ${pids[i]})"
  done
}

wait_for() { # LABEL SECONDS NAME CMD...: until CMD succeeds; fails early if process NAME died
  local label=$1 timeout=$2 name=$3 deadline
  shift 3
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ -n $name ]] && ! pid_of "$name" >/dev/null; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name exited while waiting for $label (log: $LOGS/$name.log)"
    fi
    ((SECONDS < deadline)) || die "timed out after $timeout s waiting for $label (logs: $LOGS)"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# prerequisites

ensure_packages() {
  local pkg missing=()
  # containerd and runc come with docker.io, which scripts/docker-engine.sh needs anyway.
  # nftables: nft, which alone can remove the empty tables kube-proxy leaves (down).
  for pkg in containerd runc containernetworking-plugins conntrack iptables nftables openssl curl gcc libc6-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "Installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

ensure_binaries() {
  # Built when missing or when their recipe changed; a warm run only checks the stamps.
  "$here/toolchain.sh" kubernetes-node etcd coredns >&2
  find_kubectl
}

# ---------------------------------------------------------------------------------------------
# certificates and kubeconfigs

# cert NAME CN [O] [SAN]: a key and a certificate signed by the cluster's CA, for client and server
# use, valid for ten years.
cert() {
  local name=$1 cn=$2 o=${3:-} san=${4:-} subj ext
  subj="/CN=$cn"
  if [[ -n $o ]]; then subj="/O=$o/CN=$cn"; fi
  ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth,serverAuth"
  if [[ -n $san ]]; then ext+=$'\n'"subjectAltName=$san"; fi
  openssl req -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -out "$PKI/$name.crt" -days 3650 -extfile <(printf '%s\n' "$ext") 2>/dev/null
  rm -f "$PKI/$name.csr"
}

kubeconfig() { # NAME: KUBE_DIR/NAME.kubeconfig with the client certificate pki/NAME.*
  put "$KUBE_DIR/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: authreg-kube
  cluster:
    certificate-authority: $PKI/ca.crt
    server: https://$NODE_IP:$API_PORT
users:
- name: $1
  user:
    client-certificate: $PKI/$1.crt
    client-key: $PKI/$1.key
contexts:
- name: authreg-kube
  context: {cluster: authreg-kube, user: $1}
current-context: authreg-kube
EOF
  chmod 600 "$KUBE_DIR/$1.kubeconfig"
}

ensure_pki() {
  # Made anew when the node's IP or name changed (the API server's certificate names the IP).
  local params="node $NODE_NAME $NODE_IP"
  if [[ -f $PKI/ca.crt && $(cat "$PKI/params" 2>/dev/null) == "$params" ]]; then
    step "certificates: in place"
  else
    rm -rf "$PKI"
    mkdir -p "$PKI"
    chmod 700 "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 \
      -subj "/CN=authreg-kube-ca" 2>/dev/null
    cert kube-apiserver kube-apiserver "" "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    # The API server's identity towards the kubelets: full rights, as kubeadm's apiserver-kubelet-client.
    cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
    cert admin authreg-kube-admin system:masters
    # The components' users, which the default RBAC roles (system:node-proxier, ...) and the Node
    # authorizer know by these names.
    cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,DNS:$NODE_NAME"
    cert kube-controller-manager system:kube-controller-manager
    cert kube-scheduler system:kube-scheduler
    cert kube-proxy system:kube-proxy
    # kube-router's (--network-policy), bound to its own ClusterRole (start_kube_router).
    cert kube-router system:authreg-kube-router
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    printf '%s\n' "$params" >"$PKI/params"
    step "certificates: made (CA $PKI/ca.crt)"
  fi
  local name
  for name in admin kubelet kube-controller-manager kube-scheduler kube-proxy kube-router; do kubeconfig "$name"; done
}

# ---------------------------------------------------------------------------------------------
# network and cgroups

ensure_link() {
  if ip link show "$NODE_LINK" >/dev/null 2>&1; then
    [[ $(ip -4 addr show dev "$NODE_LINK") == *" $NODE_IP/"* ]] \
      || die "link $NODE_LINK exists without $NODE_IP: '$0 down' first, or choose AUTHREG_KUBE_LINK"
    step "link $NODE_LINK ($NODE_IP): exists"
    return
  fi
  if [[ $(ip -4 -o addr show) == *" $NODE_IP/"* ]]; then
    die "$NODE_IP is on another link of this host; choose another with AUTHREG_KUBE_NODE_IP"
  fi
  ip link add "$NODE_LINK" type bridge
  ip addr add "$NODE_IP/32" dev "$NODE_LINK"
  ip link set "$NODE_LINK" up
  step "link $NODE_LINK ($NODE_IP/32): created"
}

# The iptables tables (nf_tables: ip and ip6) of this host before the cluster's first process
# started, in run/iptables-tables: kube-proxy makes mangle (and ip6's filter and nat when the host
# uses no IPv6 rules), and --cleanup empties them but leaves them.
record_tables() {
  local f=$RUN/iptables-tables
  [[ -f $f ]] && return
  { iptables-save | sed -n 's/^\*/ip /p'; ip6tables-save | sed -n 's/^\*/ip6 /p'; } >"$f"
}

# Removes the tables `up` found missing that hold nothing but empty built-in chains now.
remove_new_tables() {
  local f=$RUN/iptables-tables family table save
  [[ -f $f ]] || return 0
  for family in ip ip6; do
    save=iptables-save
    [[ $family == ip6 ]] && save=ip6tables-save
    for table in filter nat mangle raw security; do
      grep -qx "$family $table" "$f" && continue
      # Present, with no rule and no chain of its own (built-in chains are listed as :NAME POLICY).
      local dump
      dump=$($save -t "$table" 2>/dev/null | grep -v '^#') || continue
      [[ -n $dump ]] || continue
      if ! grep -qvE '^(\*|:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT |COMMIT$)' <<<"$dump"; then
        nft delete table "$family" "$table" 2>/dev/null && step "$family $table: removed the empty table"
      fi
    done
  done
  rm -f "$f"
}

cgroup_dirs() { # the cluster's cgroup in each v1 hierarchy ([--all]: and in the v2 one, where runc makes it)
  local d
  for d in /sys/fs/cgroup/*/; do
    [[ -f ${d}cgroup.procs ]] || continue
    [[ ${1:-} == --all || ${d%/} != /sys/fs/cgroup/unified ]] && printf '%s%s\n' "$d" "$CGROUP_ROOT"
  done
}

ensure_cgroups() {
  local dir
  while read -r dir; do
    [[ -d $dir ]] && continue
    mkdir "$dir"
    # A new v1 cpuset has no CPUs or memory nodes: its parent's.
    if [[ -f $dir/cpuset.cpus ]]; then
      cat "${dir%/*}/cpuset.cpus" >"$dir/cpuset.cpus"
      cat "${dir%/*}/cpuset.mems" >"$dir/cpuset.mems"
    fi
  done < <(cgroup_dirs)
}

# ---------------------------------------------------------------------------------------------
# configuration files

write_configs() {
  mkdir -p "$KUBE_DIR/containerd" "$KUBE_DIR/cni/net.d" "$KUBE_DIR/kubelet" "$KUBE_DIR/pod-logs" "$KUBE_DIR/etcd"
  # Its own root, state and sockets: the Docker engine's containerd is never used.
  put "$KUBE_DIR/containerd/config.toml" <<EOF
version = 2
root = "$KUBE_DIR/containerd/root"
state = "$KUBE_DIR/containerd/state"
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$KUBE_DIR/containerd/debug.sock"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_IMAGE"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    restrict_oom_score_adj = true
    # The pods' network namespaces under the state dir rather than /var/run/netns.
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$KUBE_DIR/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
  [plugins."io.containerd.internal.v1.opt"]
    path = "$KUBE_DIR/containerd/opt"
EOF
  # The Docker engine's FORWARD policy is DROP: the firewall plugin accepts what the pods send and
  # the answers to it (its chains CNI-FORWARD and CNI-ADMIN), so that pods reach each other and
  # Services. ipMasq: the pods reach beyond this host (CoreDNS the host's resolver) from its address.
  put "$KUBE_DIR/cni/net.d/10-authreg.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "authreg-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$KUBE_DIR/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall", "backend": "iptables"},
    {"type": "loopback"}
  ]
}
EOF
  put "$KUBE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This host is on cgroup v1, which kubelet 1.35 and later refuse unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
failSwapOn: false
containerRuntimeEndpoint: unix://$CTRD_SOCK
address: $NODE_IP
port: 10250
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: /etc/resolv.conf
podCIDR: $POD_CIDR
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
# Nothing can be pulled here: the images are imported, and must not be collected or evicted.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
makeIPTablesUtilChains: false
podLogsDir: $KUBE_DIR/pod-logs
EOF
  put "$KUBE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $KUBE_DIR/kube-proxy.kubeconfig
# No IPVS in this kernel.
mode: iptables
hostnameOverride: $NODE_NAME
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clusterCIDR: $POD_CIDR
detectLocalMode: ClusterCIDR
# NodePorts on the node's IP only, not on every address of this host.
nodePortAddresses: ["$NODE_IP/32"]
iptables:
  masqueradeAll: false
  localhostNodePorts: false
# The conntrack sysctls are the host's: left alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# ---------------------------------------------------------------------------------------------
# the components

start_etcd() {
  start etcd "$BIN_DIR/etcd" --name "$NODE_NAME" --data-dir "$KUBE_DIR/etcd" \
    --listen-client-urls "http://$ETCD_CLIENT" --advertise-client-urls "http://$ETCD_CLIENT" \
    --listen-peer-urls "http://$ETCD_PEER" --initial-advertise-peer-urls "http://$ETCD_PEER" \
    --initial-cluster "$NODE_NAME=http://$ETCD_PEER" --listen-metrics-urls "" \
    --log-level warn
}

start_containerd() {
  start containerd containerd --config "$KUBE_DIR/containerd/config.toml"
}

start_apiserver() {
  start kube-apiserver "$BIN_DIR/kube-apiserver" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$API_PORT" \
    --etcd-servers="http://$ETCD_CLIENT" \
    --tls-cert-file="$PKI/kube-apiserver.crt" --tls-private-key-file="$PKI/kube-apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false
}

start_controllers() {
  start kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$KUBE_DIR/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$KUBE_DIR/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$KUBE_DIR/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10257 \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=true --service-cluster-ip-range="$SERVICE_CIDR" \
    --allocate-node-cidrs=false --leader-elect=false --profiling=false
  start kube-scheduler "$BIN_DIR/kube-scheduler" \
    --kubeconfig="$KUBE_DIR/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$KUBE_DIR/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$KUBE_DIR/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false --profiling=false
}

start_node() {
  start kubelet "$BIN_DIR/kubelet" --config="$KUBE_DIR/kubelet/config.yaml" \
    --kubeconfig="$KUBE_DIR/kubelet.kubeconfig" --root-dir="$KUBE_DIR/kubelet" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
  start kube-proxy "$BIN_DIR/kube-proxy" --config="$KUBE_DIR/kube-proxy.yaml"
}

# kube-router's NetworkPolicy controller alone (no routing: one node; no service proxy:
# kube-proxy's), with the rights its upstream manifests give it.
start_kube_router() {
  kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "authreg:kube-router"}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "authreg:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "authreg:kube-router"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:authreg-kube-router"}
EOF
  # down removes its chains and sets only when it ran.
  touch "$RUN/kube-router.ran"
  start kube-router "$BIN_DIR/kube-router" --kubeconfig="$KUBE_DIR/kube-router.kubeconfig" \
    --run-firewall=true --run-router=false --run-service-proxy=false \
    --hostname-override="$NODE_NAME" --enable-ipv6=false --health-port=0 --metrics-port=0
}

# kube-router --cleanup-config fails here (it cleans IPVS too, which this kernel lacks): its
# iptables chains (KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-*), the jumps to them and its
# ipsets (KUBE-SRC-*, KUBE-DST-*) are removed by name.
cleanup_kube_router() {
  [[ -f $RUN/kube-router.ran ]] || return 0
  local chain rule rules set sets chains=()
  for chain in INPUT FORWARD OUTPUT; do
    rules=$(iptables -S "$chain" 2>/dev/null | grep -F -- '--comment "kube-router netpol' || true)
    while read -r rule; do
      if [[ -n $rule ]]; then eval "iptables -D ${rule#-A }"; fi
    done <<<"$rules"
  done
  mapfile -t chains < <(iptables -S | awk '/^-N (KUBE-ROUTER-|KUBE-POD-FW-|KUBE-NWPLCY-)/ { print $2 }')
  for chain in "${chains[@]}"; do iptables -F "$chain"; done
  for chain in "${chains[@]}"; do iptables -X "$chain"; done
  sets=$(ipset list -n 2>/dev/null | grep -E '^(KUBE-SRC-|KUBE-DST-)' || true)
  for set in $sets; do ipset destroy "$set" 2>/dev/null || true; done
  rm -f "$RUN/kube-router.ran"
  step "iptables: removed kube-router's chains (${#chains[@]})"
}

api_ready() {
  curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://$NODE_IP:$API_PORT/readyz"
}
node_ready() {
  [[ $(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

# ---------------------------------------------------------------------------------------------
# images

# build_image TAG DIR FILE...: docker build of DIR, unless TAG exists and was built from these FILEs.
build_image() {
  local tag=$1 dir=$2 sum
  shift 2
  sum=$(cd "$dir" && sha256sum "$@")
  if docker image inspect "$tag" >/dev/null 2>&1 && [[ $(cat "$dir/.built" 2>/dev/null) == "$sum" ]]; then return; fi
  docker build -t "$tag" "$dir" >"$LOGS/image-build.log" 2>&1 \
    || { tail -n 20 "$LOGS/image-build.log" >&2; die "building $tag failed (log: $LOGS/image-build.log)"; }
  printf '%s\n' "$sum" >"$dir/.built"
  step "image $tag: built"
}

# The pause image: a static binary of a few lines of C that sleeps until signalled and reaps
# orphans, FROM scratch; built by the Docker engine and imported like the others.
build_pause_image() {
  local dir=$KUBE_DIR/images/pause
  mkdir -p "$dir"
  put "$dir/pause.c" <<'EOF'
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>
static void down(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction stop = {0}, child = {0};
  stop.sa_handler = down;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGTERM, &stop, NULL);
  child.sa_handler = reap;
  child.sa_flags = SA_NOCLDSTOP;
  sigemptyset(&child.sa_mask);
  sigaction(SIGCHLD, &child, NULL);
  for (;;) pause();
}
EOF
  if [[ ! -x $dir/pause || $dir/pause.c -nt $dir/pause ]]; then
    gcc -Os -static -o "$dir/pause" "$dir/pause.c"
    strip "$dir/pause"
  fi
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' | put "$dir/Dockerfile"
  build_image "$PAUSE_IMAGE" "$dir" Dockerfile pause
}

# CoreDNS FROM scratch: the static binary (toolchain.sh coredns); its Corefile is a ConfigMap.
build_coredns_image() {
  local dir=$KUBE_DIR/images/coredns
  mkdir -p "$dir"
  cmp -s "$BIN_DIR/coredns" "$dir/coredns" || cp "$BIN_DIR/coredns" "$dir/coredns"
  printf 'FROM scratch\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' | put "$dir/Dockerfile"
  build_image "$COREDNS_IMAGE" "$dir" Dockerfile coredns
}

# import_images IMAGE...: those whose Docker image ID containerd has not imported under that name.
import_images() {
  local image id want=() start=$SECONDS have
  mkdir -p "$KUBE_DIR/images/imported"
  have=$(ctr_k8s images ls -q)
  for image in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) \
      || die "image $image is not in the Docker engine (scripts/images.sh builds the stand-ins)"
    # docker save names an image as docker.io/NAME when it has no registry host.
    if [[ $(cat "$KUBE_DIR/images/imported/${image//[\/:]/_}" 2>/dev/null) == "$id" ]] \
        && grep -qxE "(docker\.io/)?${image//./\\.}" <<<"$have"; then
      continue
    fi
    want+=("$image")
  done
  if ((${#want[@]} == 0)); then step "images: in containerd"; return; fi
  docker save "${want[@]}" | ctr_k8s images import - >/dev/null
  for image in "${want[@]}"; do
    docker image inspect --format '{{.Id}}' "$image" >"$KUBE_DIR/images/imported/${image//[\/:]/_}"
  done
  step "images imported: ${want[*]} ($((SECONDS - start)) s)"
}

# ---------------------------------------------------------------------------------------------
# cluster add-ons

# Volumes for claims: the node has no storage provisioner, so `up` offers a default StorageClass
# `local` and $VOLUME_COUNT volumes of ${VOLUME_SIZE} on its disk (directories under the state
# directory, writable by any pod user), which claims of that class bind when their pod is
# scheduled. A released volume is not reused: `down` removes them with the cluster's state.
VOLUME_COUNT=6
VOLUME_SIZE=20Gi
apply_volumes() {
  local i items=()
  for ((i = 1; i <= VOLUME_COUNT; i++)); do
    mkdir -p "$KUBE_DIR/volumes/local-$i"
    chmod 0777 "$KUBE_DIR/volumes/local-$i"
    items+=("{\"apiVersion\": \"v1\", \"kind\": \"PersistentVolume\", \"metadata\": {\"name\": \"local-$i\"},
      \"spec\": {\"capacity\": {\"storage\": \"$VOLUME_SIZE\"}, \"accessModes\": [\"ReadWriteOnce\"],
        \"persistentVolumeReclaimPolicy\": \"Retain\", \"storageClassName\": \"local\",
        \"hostPath\": {\"path\": \"$KUBE_DIR/volumes/local-$i\", \"type\": \"Directory\"}}}")
  done
  kubectl apply -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
   "metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
   "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"},
  $(IFS=,; printf '%s' "${items[*]}")
]}
JSON
}

apply_coredns() {
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        forward . /etc/resolv.conf
        cache 30
        loop
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      # The host's resolver is the upstream; the node's own resolv.conf.
      dnsPolicy: Default
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        securityContext:
          capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
          readOnlyRootFilesystem: true
        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10, failureThreshold: 5}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 1}
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 128Mi}}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: $DNS_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
EOF
}

# ---------------------------------------------------------------------------------------------

cmd_up() {
  local extra="" start=$SECONDS network_policy=false
  while (($#)); do
    case $1 in
      --images) extra=${2:-}; shift 2 || usage ;;
      --images=*) extra=${1#*=}; shift ;;
      --network-policy) network_policy=true; shift ;;
      *) usage ;;
    esac
  done
  local images=() name extra_list=()
  for name in nginx registry3 node minio; do images+=("$(image_tag "$name")"); done
  read -r -a extra_list <<<"$extra"
  images+=("${extra_list[@]}")

  need_root "the Kubernetes node (containerd, kubelet, links, iptables)" "sudo $0 up"
  ensure_packages
  if $network_policy && ! command -v ipset >/dev/null 2>&1; then apt_install ipset; fi
  docker version >/dev/null 2>&1 || die "no Docker engine answers (scripts/docker-engine.sh starts one)"
  ensure_binaries
  if $network_policy; then "$here/toolchain.sh" kube-router >&2; fi
  log "Kubernetes node $NODE_NAME ($NODE_IP) in $KUBE_DIR"
  mkdir -p "$KUBE_DIR" "$RUN" "$LOGS"
  ensure_pki
  write_configs
  ensure_link
  ensure_cgroups
  record_tables

  start_etcd
  start_containerd
  start_apiserver
  # Images are built and imported while the API server starts.
  wait_for "containerd's socket" 30 containerd test -S "$CTRD_SOCK"
  build_pause_image
  build_coredns_image
  import_images "$PAUSE_IMAGE" "$COREDNS_IMAGE" "${images[@]}"
  wait_for "the API server (/readyz)" 90 kube-apiserver api_ready
  step "API server ready ($((SECONDS - start)) s)"
  start_controllers
  start_node
  wait_for "node $NODE_NAME Ready" 120 kubelet node_ready
  step "node Ready ($((SECONDS - start)) s)"
  wait_for "the kube-system service account" 60 kube-controller-manager kubectl -n kube-system get serviceaccount default
  apply_coredns
  apply_volumes
  if $network_policy; then start_kube_router; fi
  wait_for "CoreDNS" 120 kubelet kubectl -n kube-system rollout status deployment/coredns --timeout=2s
  step "cluster up ($((SECONDS - start)) s); kubectl: $KUBECTL; KUBECONFIG=$ADMIN_KUBECONFIG"
  printf '%s\n' "$ADMIN_KUBECONFIG"
}

cmd_status() {
  local name pid
  for name in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$name"); then
      printf '%-24s pid %-8s rss %s MiB\n' "$name" "$pid" $(($(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status") / 1024))
    else
      printf '%-24s not running\n' "$name"
    fi
  done
  pid_of kube-apiserver >/dev/null || die "the cluster is not up ($0 up)"
  find_kubectl
  kubectl get nodes -o wide
  kubectl get pods -A -o wide
  printf 'KUBECONFIG=%s\n' "$ADMIN_KUBECONFIG"
}

# ip link names of the pods' veths on the CNI bridge.
bridge_ports() { ip -o link show master "$CNI_BRIDGE" 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1; }

cmd_down() {
  local purge=false start=$SECONDS
  case ${1:-} in
    "") ;;
    --purge) purge=true ;;
    *) usage ;;
  esac
  need_root "stopping the Kubernetes node" "sudo $0 down"
  log "Stopping the Kubernetes node in $KUBE_DIR"
  # 1. The kubelet stops every pod (their containers, then CNI DEL: veths and addresses), with
  #    the controllers and the scheduler stopped first so that nothing starts them again.
  if pid_of kubelet >/dev/null && pid_of kube-apiserver >/dev/null && [[ -f $ADMIN_KUBECONFIG ]]; then
    stop kube-scheduler kube-controller-manager
    KUBECTL=$BIN_DIR/kubectl
    if [[ -x $KUBECTL ]]; then
      kubectl delete pods --all --all-namespaces --grace-period=2 --wait=true --timeout=60s >/dev/null 2>&1 \
        || step "some pods did not stop within 60 s; their containers are killed below"
      local i
      for ((i = 0; i < 50; i++)); do
        [[ -z $(ctr_k8s tasks ls -q 2>/dev/null) ]] && break
        sleep 0.2
      done
      step "pods stopped by the kubelet"
    fi
  fi
  stop kube-router kube-proxy kubelet kube-scheduler kube-controller-manager
  cleanup_kube_router
  # kube-proxy's iptables rules and chains (KUBE-SERVICES, KUBE-NODEPORTS, ...).
  if [[ -x $BIN_DIR/kube-proxy ]]; then
    "$BIN_DIR/kube-proxy" --cleanup --proxy-mode=iptables >>"$LOGS/kube-proxy.log" 2>&1 || true
  fi
  # 2. Anything left in the cluster's containerd (a pod the kubelet could not stop), then containerd.
  if pid_of containerd >/dev/null && [[ -S $CTRD_SOCK ]]; then
    local task container tasks
    tasks=$(ctr_k8s tasks ls -q 2>/dev/null || true)
    for task in $tasks; do ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
    if [[ -n $tasks ]]; then sleep 1; fi
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true; done
    for container in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers delete "$container" >/dev/null 2>&1 || true; done
  fi
  stop containerd kube-apiserver
  # Its shims outlive it; those of this containerd name its socket on their command line.
  local pid
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $CTRD_SOCK( |\$)" || true); do
    kill -9 "$pid" 2>/dev/null || true
    step "containerd shim $pid: killed"
  done
  stop etcd
  # 3. What the kubelet, kube-proxy and the CNI plugins leave behind: the empty KUBE-FIREWALL
  #    chains of the kubelet (kube-proxy --cleanup leaves them), the pods' veths and bridge.
  local ipt
  for ipt in iptables ip6tables; do
    if [[ $($ipt -S KUBE-FIREWALL 2>/dev/null) == "-N KUBE-FIREWALL" ]]; then
      while $ipt -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
      while $ipt -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
      $ipt -X KUBE-FIREWALL 2>/dev/null && step "$ipt: removed the empty chain KUBE-FIREWALL"
    fi
  done
  # The CNI firewall plugin's chains, once no pod has rules in them (the plugin removes a pod's
  # on CNI DEL but keeps its chains).
  if [[ $(iptables -S CNI-FORWARD 2>/dev/null | grep -vc -e '^-N CNI-FORWARD$' -e '-j CNI-ADMIN$') == 0 \
      && $(iptables -S CNI-ADMIN 2>/dev/null) == "-N CNI-ADMIN" ]]; then
    while iptables -D FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD 2>/dev/null; do :; done
    iptables -F CNI-FORWARD && iptables -X CNI-FORWARD && iptables -X CNI-ADMIN \
      && step "iptables: removed the CNI firewall plugin's chains"
  fi
  remove_new_tables
  local veth
  for veth in $(bridge_ports); do ip link del "$veth" 2>/dev/null || true; done
  if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then ip link del "$CNI_BRIDGE" && step "link $CNI_BRIDGE: removed"; fi
  if ip link show "$NODE_LINK" >/dev/null 2>&1; then ip link del "$NODE_LINK" && step "link $NODE_LINK: removed"; fi
  # 4. Mounts under the state directory (the containers' root file systems, the pods' volumes and
  #    network namespaces), deepest first, then the cluster's cgroups.
  local mounts=() mnt
  mapfile -t mounts < <(awk -v d="$KUBE_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  for mnt in "${mounts[@]}"; do umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; done
  if ((${#mounts[@]})); then step "unmounted ${#mounts[@]} mounts under $KUBE_DIR"; fi
  local dir
  while read -r dir; do
    if [[ -d $dir ]]; then find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done < <(cgroup_dirs --all)
  # 5. The cluster's state: the next `up` starts a fresh cluster (certificates and images kept).
  if [[ -d $KUBE_DIR ]]; then
    if $purge; then
      rm -rf "$KUBE_DIR"
      step "removed $KUBE_DIR"
    else
      rm -rf "$KUBE_DIR/etcd" "$KUBE_DIR/kubelet" "$KUBE_DIR/pod-logs" "$KUBE_DIR/cni/ipam" "$KUBE_DIR/containerd/state" "$KUBE_DIR/volumes"
    fi
  fi
  step "down ($((SECONDS - start)) s)"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  status) cmd_status ;;
  env) printf 'export KUBECONFIG=%s\n' "$ADMIN_KUBECONFIG" ;;
  down) shift; cmd_down "$@" ;;
  *) usage ;;
esac
