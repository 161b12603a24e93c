#!/usr/bin/env bash
# What the audit trail costs in token mode (BENCHMARKS.md, "The audit trail"): two token-mode
# stacks side by side, "unaudited" (auditLog off) and "audited" (auditLog on, so nginx asks the
# token service which user each manifest request's token names), measured in alternation so that
# a busy host slows both alike (bench/pair.sh). In each repetition, in both orders: the rate of
# authenticated manifest GETs (wrk, keep-alive, a token that may pull the repository), which is
# what the trail records and so what asks the token service, and the wall time of a 6-layer
# `docker push` (bench/lib.sh's image, fresh data each time). Prints the medians and the median
# of the per-repetition ratios audited/unaudited, and writes them to bench/results/audit.json.
# Nothing asserts a time.
#
#   bash bench/audit.sh      (as root, like the end-to-end suite: docker push needs the CA
#                            in /etc/docker/certs.d/localhost:PORT/, removed at the end)
#
# Environment: BENCH_REPS [5], BENCH_RATE_SECONDS [5], BENCH_CONNECTIONS [8],
#              BENCH_AUDIT_PORT [26843: unaudited there, audited on the next port up by 100],
#              BENCH_RESULTS_DIR [bench/results]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$repo/scripts/lib.sh"
# shellcheck source=../scripts/env.sh
source "$repo/scripts/env.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=pair.sh
source "$here/pair.sh"

BASE_PORT=${BENCH_AUDIT_PORT:-26843}
# The repository and tag the manifest GETs read, pushed once to each stack.
MANIFEST_REPOSITORY=bench/audit
TOKEN_MODE="  authenticated-registry:auth:
    mode: token
    tokenServiceImage: $AUTHREG_NODE_IMAGE"

PAIR=(unaudited audited)
PAIR_PORT=([unaudited]=$BASE_PORT [audited]=$((BASE_PORT + 100)))
PAIR_TITLE=([unaudited]="token mode, auditLog off" [audited]="token mode, auditLog on")
PAIR_CONFIG=([unaudited]=$TOKEN_MODE [audited]="$TOKEN_MODE
  authenticated-registry:auditLog: true")
PAIR_AUTH=([unaudited]=token [audited]=token)
PAIR_KEY=([unaudited]=unaudited [audited]=audited)
PAIR_METRICS=(manifest_rate pair_push_seconds)
PAIR_LABEL=([manifest_rate]="GET manifest" [pair_push_seconds]="docker push")
PAIR_UNIT=([manifest_rate]="req/s" [pair_push_seconds]="s")
PAIR_METRIC_KEY=([manifest_rate]=getManifestPerSecond [pair_push_seconds]=pushSeconds)
PAIR_RATIO_KEY=([manifest_rate]=getManifestAuditedOverUnaudited [pair_push_seconds]=pushAuditedOverUnaudited)
# A token per stack that may pull the manifest's repository (pair_deploy's has no scope).
declare -A MANIFEST_AUTH

# Pushes the 6-layer image to X as MANIFEST_REPOSITORY:1 and fetches MANIFEST_AUTH[X].
prepare_manifest() { # X
  local x=$1 ref
  ref=$(pair_host "$x")/$MANIFEST_REPOSITORY:1
  printf '%s\n' "$ref" >>"$work/images"
  six_layer_context "$work/ctx"
  DOCKER_BUILDKIT=0 docker build --quiet --tag "$ref" "$work/ctx" >/dev/null 2>&1
  docker push "$ref" >/dev/null
  MANIFEST_AUTH[$x]="Bearer $(curl -sf --cacert "$work/$x-ca.crt" --user "$(cat "$work/$x-cred")" \
    "https://$(pair_host "$x")/token?service=$(pair_host "$x")&scope=repository:$MANIFEST_REPOSITORY:pull" |
    node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')"
  # The measurement reads a manifest, not a refusal.
  [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/$x-ca.crt" -H "Authorization: ${MANIFEST_AUTH[$x]}" \
    -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
    "https://$(pair_host "$x")/v2/$MANIFEST_REPOSITORY/manifests/1") == 200 ]] || die "$x does not serve the manifest with its token"
}

# wrk on X's GET of the manifest with MANIFEST_AUTH[X]: requests per second.
manifest_rate() { # X REP
  {
    printf 'wrk.headers["Authorization"] = "%s"\n' "${MANIFEST_AUTH[$1]}"
    printf 'wrk.headers["Accept"] = "application/vnd.docker.distribution.manifest.v2+json"\n'
  } >"$work/manifest.lua"
  wrk -t2 -c"$CONNECTIONS" -d"${RATE_SECONDS}s" --timeout 30s -s "$work/manifest.lua" \
    "https://$(pair_host "$1")/v2/$MANIFEST_REPOSITORY/manifests/1" >"$work/wrk.log"
  wrk_requests_per_second "$work/wrk.log" "GET manifest on $1"
}

pair_init audit
for x in "${PAIR[@]}"; do
  pair_deploy "$x"
  prepare_manifest "$x"
done
# The audited stack writes a line per manifest GET, naming the token's user; the other none.
audited_lines=$(docker logs "$(pair_pl audited stack output proxyContainerName)" 2>/dev/null | grep -c "\"user\":\"$USER_NAME\",.*\"action\":\"pull\"" || true)
((audited_lines > 0)) || die "the audited stack's proxy logged no audit line naming $USER_NAME"
pair_measure
pair_report "$RESULTS_DIR/audit.json" "{\"settings\": {\"rateSeconds\": $RATE_SECONDS, \"connections\": $CONNECTIONS, \"cores\": $(nproc)}}"
