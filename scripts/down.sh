#!/usr/bin/env bash
# Tears a stack down: `pulumi destroy` of its containers, network and generated material.
# The data volume, and the images pushed to it, are kept unless the stack sets
# deleteDataOnDestroy; remove it by hand with `docker volume rm registry-STACK-data`.
#
#   ./scripts/down.sh [STACK]      (STACK defaults to dev)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stack=${1:-dev}
# shellcheck source=stack-env.sh
source "$here/stack-env.sh" "$stack"
pulumi destroy --yes --stack "$stack"
