#!/usr/bin/env bash
# Previews each environment, with the policy pack, as the pull-request workflow does.
#
#   npm run preview [-- STACK...]      (default: every Pulumi.<stack>.yaml in the project)
#
# The stacks must exist in the current backend (the local one under $HOME that scripts/lib.sh
# names, or PULUMI_BACKEND_URL); ./scripts/up.sh creates dev. Each stack's passphrase comes from
# PULUMI_CONFIG_PASSPHRASE_<STACK> (upper case), else PULUMI_CONFIG_PASSPHRASE(_FILE), else the
# file scripts/stack-env.sh generated for it. A swarm stack with no placement constraint is
# pinned to this engine's node first, as ./scripts/up.sh does. Exits non-zero if any preview fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$here/.."

stacks=("$@")
if ((${#stacks[@]} == 0)); then
  for file in Pulumi.*.yaml; do
    stack=${file#Pulumi.}
    stacks+=("${stack%.yaml}")
  done
fi

failed=()
for stack in "${stacks[@]}"; do
  log "pulumi preview ($stack)"
  var=PULUMI_CONFIG_PASSPHRASE_$(tr '[:lower:]-' '[:upper:]_' <<<"$stack")
  generated=$(stack_passphrase_file "$stack")
  passphrase_env=()
  if [[ -n ${!var:-} ]]; then
    passphrase_env=(PULUMI_CONFIG_PASSPHRASE="${!var}")
  elif [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} && -s $generated ]]; then
    passphrase_env=(PULUMI_CONFIG_PASSPHRASE_FILE="$generated")
  fi
  if ! env "${passphrase_env[@]}" pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; then
    step "stack $stack does not exist in this backend; create it with ./scripts/up.sh $stack or pulumi stack init $stack"
    failed+=("$stack")
    continue
  fi
  env "${passphrase_env[@]}" bash -c "source '$here/lib.sh' && pin_swarm_stack '$stack'"
  if ! env "${passphrase_env[@]}" pulumi preview --stack "$stack" --diff --policy-pack policy --non-interactive; then
    failed+=("$stack")
  fi
done

if ((${#failed[@]})); then
  die "preview failed for: ${failed[*]}"
fi
log "previews passed: ${stacks[*]}"
