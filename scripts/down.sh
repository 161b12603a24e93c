#!/usr/bin/env bash
# Tears a stack down: `pulumi destroy` of its containers, network and generated material.
# The data volume, and the images pushed to it, are kept unless the stack sets
# deleteDataOnDestroy, so a later `up` serves them again.
#
#   ./scripts/down.sh [--purge] [STACK]      (STACK defaults to dev)
#
# --purge removes everything the stack left on this host as well, after listing it: the data
# volume (every pushed image), the nginx and registry images the stack used (unless a container
# still uses them), the docker client's trust entry /etc/docker/certs.d/HOST (needs root), the
# copy of its CA that up.sh wrote into the cache, the stack's passphrase file, and the stack itself
# with its state.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

purge=false
stack=dev
for arg in "$@"; do
  case $arg in
    --purge) purge=true ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) die "unknown option $arg (expected --purge)" ;;
    *) stack=$arg ;;
  esac
done

# shellcheck source=stack-env.sh
source "$here/stack-env.sh" "$stack"

if ! $purge; then
  pulumi destroy --yes --stack "$stack"
  exit 0
fi

# What the stack names, read from its state before destroy forgets it.
output() { pulumi stack output "$1" --stack "$stack" 2>/dev/null || true; }
host=$(output host)
volume=$(output volumeName)
volume=${volume:-registry-$stack-data}
mapfile -t images < <(pulumi stack export --stack "$stack" | node -e '
  const { deployment } = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const r of deployment.resources ?? []) {
    if (r.type === "docker:index/remoteImage:RemoteImage" && r.outputs?.name) console.log(r.outputs.name);
  }')
trust_dir=${host:+/etc/docker/certs.d/$host}
passphrase=$(stack_passphrase_file "$stack")
ca_file=$AUTHREG_CACHE_DIR/$stack-ca.crt
# Checked first, so that nothing is half removed when the last step could not run.
if [[ -n $trust_dir && -e $trust_dir ]]; then
  need_root "removing the trust entry $trust_dir" "sudo rm -rf $trust_dir   # then rerun ./scripts/down.sh --purge $stack"
fi

log "--purge of stack $stack removes:"
step "the stack's containers and network, then the stack and its state (pulumi destroy, pulumi stack rm)"
step "the data volume $volume, with every image pushed to it"
((${#images[@]})) && step "the images ${images[*]}, unless a container still uses them"
[[ -n $trust_dir && -e $trust_dir ]] && step "the docker client's trust entry $trust_dir"
[[ -e $passphrase ]] && step "the passphrase file $passphrase"
[[ -e $ca_file ]] && step "the copy of its CA $ca_file"

pulumi destroy --yes --stack "$stack"
# A swarm removes a service's containers after the service; the volume is free once they are gone.
for _ in $(seq 60); do
  [[ -z $(docker ps --all --quiet --filter "label=authenticated-registry.instance=registry-$stack") ]] && break
  sleep 0.5
done
if docker volume rm "$volume" >/dev/null 2>&1; then step "removed volume $volume"; else step "volume $volume: not present"; fi
for image in "${images[@]}"; do
  if ! docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  if docker rmi "$image" >/dev/null 2>&1; then step "removed image $image"; else step "image $image: kept, a container still uses it"; fi
done
# The stack's Pulumi.STACK.yaml is the project's, committed: kept, without the encryptionsalt
# of the passphrase removed below (a new stack of that name gets its own).
pulumi stack rm --yes --preserve-config --stack "$stack" >/dev/null && step "removed stack $stack and its state (its Pulumi.$stack.yaml is kept)"
stack_file=$here/../Pulumi.$stack.yaml
if [[ -f $stack_file ]] && grep -q '^encryptionsalt:' "$stack_file"; then
  sed -i '/^encryptionsalt:/d' "$stack_file" && step "removed the encryptionsalt from Pulumi.$stack.yaml"
fi
if [[ -e $passphrase ]]; then rm -f "$passphrase" && step "removed $passphrase"; fi
if [[ -e $ca_file ]]; then rm -f "$ca_file" && step "removed $ca_file"; fi
if [[ -n $trust_dir && -e $trust_dir ]]; then rm -rf "$trust_dir" && step "removed $trust_dir"; fi
