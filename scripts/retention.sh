#!/usr/bin/env bash
# Tag retention of a stack's registry, by its `retention` rules as deployed (the stack's output,
# from Pulumi.STACK.yaml's authenticated-registry:retention at the last `up`):
#
#   ./scripts/retention.sh [--apply] [--user NAME] [STACK]
#   npm run retention -- [OPTIONS] [STACK]                 (STACK defaults to dev)
#
#   1. lists the repositories (the catalog) and, in each a rule covers, every tag with its
#      manifest's digest and its image's creation time, through the proxy as NAME (which needs
#      pull and delete there, and the catalog; required when the stack has more than one user);
#   2. prints each tag, kept or deleted, and why: the newest N, a kept pattern (v*), older than
#      the limit, immutable (immutableTags, never deleted). Without --apply nothing is deleted;
#   3. with --apply deletes those tags through the registry API, each with its manifest (by its
#      digest) when no tag that stays points to it, else the tag alone (registry 3); then collects
#      the garbage (scripts/gc.sh, with --delete-untagged when a rule asks), which frees the space.
#
# On a swarm or Kubernetes stack the collection runs as scripts/gc.sh says for them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

stack=dev
apply=false
retention_args=()
while (($#)); do
  case $1 in
    --apply) apply=true; retention_args+=(--apply) ;;
    --user) retention_args+=(--user "${2:?--user needs a user name}"); shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (expected --apply, --user NAME)" ;;
    *) stack=$1 ;;
  esac
  shift
done

# shellcheck source=stack-env.sh
source "$here/stack-env.sh" "$stack"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
outputs=$(pulumi stack output --json --show-secrets --stack "$stack") || die "stack $stack has no outputs: is it up?"
log "Retention of stack $stack$($apply || printf ' (a dry run)')"
printf '%s\n' "$outputs" |
  (cd "$here/.." && node node_modules/ts-node/dist/bin.js --transpile-only scripts/retention.ts "${retention_args[@]}" "$summary")
if $apply; then
  read -r deleted untagged < <(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(s.deleted, s.deleteUntagged)' "$summary")
  gc_args=()
  if [[ $untagged == true ]]; then gc_args+=(--delete-untagged); fi
  if ((deleted > 0)) || [[ $untagged == true ]]; then
    "$here/gc.sh" "${gc_args[@]}" "$stack"
  fi
fi
