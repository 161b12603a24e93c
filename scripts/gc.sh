#!/usr/bin/env bash
# Garbage collection of a stack's registry, safe while it serves:
#
#   ./scripts/gc.sh [--delete-untagged] [--quiet-seconds N] [--wait-seconds N] [STACK]
#   npm run gc -- [OPTIONS] [STACK]                       (STACK defaults to dev)
#
#   1. drains writes: the guard (the token service in token mode) lets pushes under way go on to
#      their manifest, and holds new pushes and deletes; they wait, the client sees no error;
#   2. waits until no push has written for --quiet-seconds (default 3) and, with filesystem
#      storage, no upload in the data volume has changed for as long, at most --wait-seconds
#      (default 300; then it stops without collecting, and the held writes go on);
#   3. holds every write, waits --quiet-seconds for requests already past the guard, and runs the
#      registry's own `registry garbage-collect` in its container, with --delete-untagged when
#      asked (manifests no tag points to are deleted too);
#   4. lets the held writes go on, whatever happened, and prints the space it freed.
# Pulls go on throughout. A write held longer than the stack's writeHoldSeconds (default 120)
# gets 503 with Retry-After. The hold is a lease this script renews every few seconds: if it is
# killed, writes resume within 30 s.
#
# On a swarm stack it runs where the guard's and a registry's tasks are: every task of the guard
# service must be on this node (basic mode's guard is one task; in token mode, pin the token
# service or run this on its node), and the registry's storage must be what every task sees.
#
# On a Kubernetes stack it reaches the pods with kubectl (KUBECONFIG, or kubectl's default): the
# hold goes to every pod of the guard's Deployment, and the collection runs as a Job made from the
# registry's own pod template (its image, environment, Secret and volume claim; on the registry
# pod's node, where a ReadWriteOnce claim is attached), whose log it prints.
#
# The registry keeps no blob cache that could go stale (the components turn it off), so an image
# pushed again after a collection is stored again. A cron line, nightly at 03:17:
#   17 3 * * *  cd /path/to/checkout && ./scripts/gc.sh STACK >>/var/log/registry-gc.log 2>&1
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

stack=dev
delete_untagged=false
quiet_seconds=3
wait_seconds=300
while (($#)); do
  case $1 in
    --delete-untagged) delete_untagged=true ;;
    --quiet-seconds) quiet_seconds=${2:?--quiet-seconds needs a number}; shift ;;
    --wait-seconds) wait_seconds=${2:?--wait-seconds needs a number}; shift ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (expected --delete-untagged, --quiet-seconds N, --wait-seconds N)" ;;
    *) stack=$1 ;;
  esac
  shift
done
[[ $quiet_seconds =~ ^[0-9]+$ && $wait_seconds =~ ^[0-9]+$ ]] || die "--quiet-seconds and --wait-seconds take whole seconds"

# shellcheck source=stack-env.sh
source "$here/stack-env.sh" "$stack"
# The containers to work in: by name on one host, or this node's tasks of each service on a swarm.
outputs=$(pulumi stack output --json --stack "$stack" 2>/dev/null) || die "stack $stack has no outputs: is it up?"
output() { node -e 'const o = JSON.parse(process.argv[1]); process.stdout.write(o[process.argv[2]] ?? "")' "$outputs" "$1"; }
local_tasks() { docker ps --filter "label=com.docker.swarm.service.name=$1" --format '{{.Names}}'; }
namespace=$(output kubernetesNamespace)
if [[ -n $namespace ]]; then
  command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH: a Kubernetes stack's pods are reached with it"
  kube() { kubectl --namespace "$namespace" "$@"; }
  # The running pods of a Deployment, by its own selector.
  deployment_pods() {
    local selector
    # shellcheck disable=SC2016 # a Go template, not shell
    selector=$(kube get deployment "$1" -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}') ||
      die "no Deployment $1 in namespace $namespace: is the stack up, and KUBECONFIG its cluster's?"
    # Not those being deleted: a pod scaled away keeps running a while after.
    # shellcheck disable=SC2016 # a Go template, not shell
    kube get pods --selector "${selector%,}" --field-selector status.phase=Running \
      -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}'
  }
  registry_deployment=$(output registryDeploymentName)
  registry=$(deployment_pods "$registry_deployment" | head -n 1)
  [[ -n $registry ]] || die "no pod of $registry_deployment runs"
  mapfile -t guards < <(deployment_pods "$(output guardDeploymentName)")
  ((${#guards[@]} > 0)) || die "no pod of $(output guardDeploymentName) runs"
elif [[ -n $(output registryServiceName) ]]; then
  registry=$(local_tasks "$(output registryServiceName)" | head -n 1)
  [[ -n $registry ]] || die "no task of $(output registryServiceName) runs on this node; run this where one does"
  guard_service=$(output guardServiceName)
  [[ -n $guard_service ]] || die "stack $stack has no guardServiceName output: it predates the write hold; run ./scripts/up.sh $stack first"
  mapfile -t guards < <(local_tasks "$guard_service")
  running=$(docker service ps --filter desired-state=running --quiet "$guard_service" | wc -l)
  ((${#guards[@]} == running && running > 0)) ||
    die "$running task(s) of $guard_service run, ${#guards[@]} on this node: the hold must reach every one; run this on the node that has them all"
else
  registry=$(output registryContainerName)
  guards=("$(output guardContainerName)")
  [[ -n ${guards[0]} ]] || die "stack $stack has no guardContainerName output: it predates the write hold; run ./scripts/up.sh $stack first"
fi
data=/data/docker/registry/v2
# The guard's port inside its container (tokenServicePort in components/tokenService/files.ts).
guard_port=5001
lease_seconds=30

# A command in a container of the registry or of a guard: docker exec, or kubectl exec in a pod.
in_container() {
  if [[ -n $namespace ]]; then kube exec "$1" -- "${@:2}"; else docker exec "$1" "${@:2}"; fi
}
in_registry() { in_container "$registry" "$@"; }
used_kib() { in_registry du -sk "$data" 2>/dev/null | cut -f1 || echo 0; }

# maintenance PHASE: sets every guard's phase for a lease; prints the first one's
# "PHASE PUSHES_UNDER_WAY WAITING". The endpoint answers on loopback only, hence docker exec.
maintenance() {
  local guard state first=
  for guard in "${guards[@]}"; do
    # shellcheck disable=SC2016 # JavaScript, not shell
    state=$(in_container "$guard" node -e '
      const [port, phase, lease, quiet] = process.argv.slice(1);
      fetch(`http://127.0.0.1:${port}/_guard/maintenance?phase=${phase}&leaseSeconds=${lease}&quietSeconds=${quiet}`)
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
        .then((s) => console.log(`${s.phase} ${s.pushesUnderWay} ${s.waiting}`))
        .catch((e) => { console.error(e.message); process.exit(1); });
    ' "$guard_port" "$1" "$lease_seconds" "$quiet_seconds") || return 1
    first=${first:-$state}
  done
  printf '%s\n' "$first"
}

phase_file=$(mktemp)
renewer=
open_again() {
  [[ -n $renewer ]] && kill "$renewer" 2>/dev/null
  maintenance open >/dev/null && step "writes go on"
  rm -f "$phase_file"
}
trap open_again EXIT

log "Garbage collection of stack $stack ($registry; guard ${guards[*]})"
echo draining >"$phase_file"
maintenance draining >/dev/null || die "could not reach the guard in ${guards[*]}"
# Renews the lease in the current phase until this script ends.
(while sleep 5; do maintenance "$(cat "$phase_file")" >/dev/null || true; done) &
renewer=$!
step "draining: pushes under way finish, new pushes and deletes wait"

# Uploads in flight write under repositories/*/_uploads/ (a long layer streams in one request the
# guard saw only at its start): with filesystem storage, also wait until none has changed for a
# while. With S3 storage that directory is in the bucket, out of sight.
on_volume=true
if [[ -n $namespace ]]; then
  # shellcheck disable=SC2016 # a Go template, not shell
  environment=$(kube get deployment "$registry_deployment" -o go-template='{{range (index .spec.template.spec.containers 0).env}}{{.name}}={{.value}}{{"\n"}}{{end}}')
else
  environment=$(docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$registry")
fi
if grep -qx 'REGISTRY_STORAGE=s3' <<<"$environment"; then on_volume=false; fi
# quiet_round: true when, over the quiet time, no push wrote and no upload on the volume changed.
mark=/tmp/authenticated-registry-gc-mark
quiet_round() {
  if $on_volume; then in_registry touch "$mark"; fi
  sleep "$quiet_seconds"
  local state
  state=$(maintenance "$(cat "$phase_file")") || die "could not reach the guard in ${guards[*]}"
  if $on_volume && [[ -n $(in_registry find "$data/repositories" -path '*/_uploads/*' -newer "$mark" -print 2>/dev/null | head -n 1) ]]; then
    return 1
  fi
  [[ $(cut -d' ' -f2 <<<"$state") == 0 ]]
}
start=$SECONDS
until quiet_round; do
  if ((SECONDS - start >= wait_seconds)); then
    die "pushes were still under way after ${wait_seconds} s; nothing collected (retry later, or raise --wait-seconds)"
  fi
  step "pushes under way; waiting"
done
echo closed >"$phase_file"
maintenance closed >/dev/null || die "could not reach the guard in ${guards[*]}"
step "every write waits; ${quiet_seconds} s for requests already past the guard"
until quiet_round; do
  if ((SECONDS - start >= wait_seconds)); then
    die "uploads were still being written after ${wait_seconds} s; nothing collected (retry later, or raise --wait-seconds)"
  fi
  step "uploads in flight; waiting"
done

# The config file is where each line's image keeps it: registry 3 and 2.8 differ.
config=
for candidate in /etc/distribution/config.yml /etc/docker/registry/config.yml; do
  if in_registry test -f "$candidate"; then config=$candidate && break; fi
done
[[ -n $config ]] || die "no registry config found in $registry"
args=(garbage-collect)
$delete_untagged && args+=(--delete-untagged)
$on_volume && before=$(used_kib)
log "registry ${args[*]} $config"
if [[ -n $namespace ]]; then
  # A Job from the registry's pod template: the same image, environment, Secret and claim. Its pod
  # is labelled a role of its own, so no Service sends it requests.
  job=$registry_deployment-gc-$(date +%s)
  node=$(kube get pod "$registry" -o jsonpath='{.spec.nodeName}')
  kube get deployment "$registry_deployment" -o json | node -e '
    const [job, node, ...args] = process.argv.slice(1);
    const deployment = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const spec = deployment.spec.template.spec;
    const labels = { ...deployment.spec.template.metadata.labels, "authenticated-registry.role": "garbage-collection" };
    delete labels["app.kubernetes.io/component"];
    spec.containers = spec.containers.map(({ readinessProbe, livenessProbe, lifecycle, ports, ...container }) => ({
      ...container,
      command: ["registry"],
      args,
    }));
    spec.restartPolicy = "Never";
    spec.nodeName = node;
    console.log(JSON.stringify({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: job, labels },
      spec: { backoffLimit: 0, ttlSecondsAfterFinished: 3600, template: { metadata: { labels }, spec } },
    }));
  ' "$job" "$node" "${args[@]}" "$config" | kube apply -f - >/dev/null
  until status=$(kube get job "$job" -o jsonpath='{.status.succeeded}/{.status.failed}') && [[ $status != / ]]; do sleep 1; done
  kube logs "job/$job" | tail -n 5 >&2
  [[ ${status%/*} == 1 ]] || die "the collection Job $job failed (kubectl -n $namespace describe job $job)"
  kube delete job "$job" --wait=false >/dev/null
else
# A swarm task keeps its secret environment (object storage keys) in a file its start reads.
in_registry sh -c 'if [ -f /run/secrets/environment ]; then set -a && . /run/secrets/environment && set +a; fi; exec "$@"' sh \
  registry "${args[@]}" "$config" | tail -n 5 >&2
fi
if $on_volume; then
  after=$(used_kib)
  step "data: $((before / 1024)) MiB before, $((after / 1024)) MiB after ($(((before - after) / 1024)) MiB freed)"
fi
