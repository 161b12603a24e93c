#!/usr/bin/env bash
# Garbage collection of a stack's registry, safe while it serves:
#
#   ./scripts/gc.sh [--delete-untagged] [--quiet-seconds N] [--wait-seconds N] [STACK]
#   npm run gc -- [OPTIONS] [STACK]                       (STACK defaults to dev)
#
#   1. makes the registry read-only at the proxy: writes (POST, PUT, PATCH, DELETE) get 503 with
#      a registry-style JSON error and Retry-After, pulls go on (a flag file nginx looks for on
#      every request; no reload, no restart);
#   2. waits for uploads in flight: until no upload in the data volume has changed for
#      --quiet-seconds (default 3), at most --wait-seconds (default 300; then it stops without
#      collecting, and the registry is writable again);
#   3. runs the registry's own `registry garbage-collect` in its container, with
#      --delete-untagged when asked (manifests no tag points to are deleted too);
#   4. makes the registry writable again, whatever happened, and prints the space it freed.
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
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (expected --delete-untagged, --quiet-seconds N, --wait-seconds N)" ;;
    *) stack=$1 ;;
  esac
  shift
done
[[ $quiet_seconds =~ ^[0-9]+$ && $wait_seconds =~ ^[0-9]+$ ]] || die "--quiet-seconds and --wait-seconds take whole seconds"

# shellcheck source=stack-env.sh
source "$here/stack-env.sh" "$stack"
proxy=$(pulumi stack output proxyContainerName --stack "$stack" 2>/dev/null) || die "stack $stack has no proxyContainerName output: is it up?"
registry=$(pulumi stack output registryContainerName --stack "$stack" 2>/dev/null) || die "stack $stack has no registryContainerName output"
# The proxy names the flag file its nginx looks for in a label.
flag=$(docker inspect --format '{{ index .Config.Labels "authenticated-registry.read-only-flag" }}' "$proxy") ||
  die "no container $proxy: is stack $stack up?"
[[ -n $flag ]] || die "$proxy has no read-only flag label: it predates read-only support; run ./scripts/up.sh $stack first"
data=/data/docker/registry/v2

in_registry() { docker exec "$registry" "$@"; }
used_kib() { in_registry du -sk "$data" 2>/dev/null | cut -f1 || echo 0; }

writable() {
  docker exec --user 0 "$proxy" rm -f "$flag" && step "registry writable again"
}
trap writable EXIT

log "Garbage collection of stack $stack ($registry behind $proxy)"
docker exec --user 0 "$proxy" touch "$flag" || die "could not make the registry read-only at $proxy"
step "registry read-only: writes get 503, pulls go on"

# Uploads in flight write under repositories/*/_uploads/; wait until none has changed for a while.
# With S3 storage that directory is in the bucket, out of sight: wait the quiet time once instead.
on_volume=true
if docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$registry" | grep -qx 'REGISTRY_STORAGE=s3'; then
  on_volume=false
fi
if $on_volume; then
  mark=/tmp/authenticated-registry-gc-mark
  start=$SECONDS
  while :; do
    in_registry touch "$mark"
    sleep "$quiet_seconds"
    if [[ -z $(in_registry find "$data/repositories" -path '*/_uploads/*' -newer "$mark" -print 2>/dev/null | head -n 1) ]]; then
      break
    fi
    if ((SECONDS - start >= wait_seconds)); then
      die "uploads were still being written after ${wait_seconds} s; nothing collected (retry later, or raise --wait-seconds)"
    fi
    step "uploads in flight; waiting"
  done
  step "no upload has changed for ${quiet_seconds} s"
else
  step "object storage: waiting ${quiet_seconds} s for uploads in flight to finish"
  sleep "$quiet_seconds"
fi

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
in_registry registry "${args[@]}" "$config" | tail -n 5 >&2
if $on_volume; then
  after=$(used_kib)
  step "data: $((before / 1024)) MiB before, $((after / 1024)) MiB after ($(((before - after) / 1024)) MiB freed)"
fi
