#!/usr/bin/env bash
# Token mode against basic mode (BENCHMARKS.md, "Token mode"): two stacks side by side, basic
# mode at bcrypt cost 4 (the cheapest check nginx can make on every request) and token mode at
# cost 12, measured in alternation so that a busy host slows both alike; in each repetition the
# authenticated request rate of GET /v2/ (wrk, keep-alive) and the wall time of a 6-layer
# `docker push` (bench/lib.sh's image, fresh data each time), in both orders. Prints the medians
# and the median of the per-repetition ratios token/basic, and writes them to
# bench/results/token.json. Nothing asserts a time. The two-stack machinery is bench/pair.sh.
#
#   bash bench/token.sh      (as root, like the end-to-end suite: docker push needs the CA
#                            in /etc/docker/certs.d/localhost:PORT/, removed at the end)
#
# Environment: BENCH_REPS [5], BENCH_RATE_SECONDS [5], BENCH_CONNECTIONS [8],
#              BENCH_TOKEN_PORT [25443: basic there, token on the next port up by 100],
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

BASE_PORT=${BENCH_TOKEN_PORT:-25443}

PAIR=(basic token)
PAIR_PORT=([basic]=$BASE_PORT [token]=$((BASE_PORT + 100)))
PAIR_TITLE=([basic]="basic mode, bcrypt cost 4" [token]="token mode, bcrypt cost 12")
PAIR_CONFIG=(
  [basic]="  authenticated-registry:bcryptCost: 4"
  [token]="  authenticated-registry:bcryptCost: 12
  authenticated-registry:auth:
    mode: token
    tokenServiceImage: $AUTHREG_NODE_IMAGE"
)
PAIR_AUTH=([basic]=basic [token]=token)
PAIR_KEY=([basic]=basicCost4 [token]=tokenCost12)
PAIR_METRICS=(pair_get_v2_rate pair_push_seconds)
PAIR_LABEL=([pair_get_v2_rate]="GET /v2/" [pair_push_seconds]="docker push")
PAIR_UNIT=([pair_get_v2_rate]="req/s" [pair_push_seconds]="s")
PAIR_METRIC_KEY=([pair_get_v2_rate]=getV2PerSecond [pair_push_seconds]=pushSeconds)
PAIR_RATIO_KEY=([pair_get_v2_rate]=getV2TokenOverBasic [pair_push_seconds]=pushTokenOverBasic)

pair_init token
for mode in "${PAIR[@]}"; do pair_deploy "$mode"; done
pair_measure
pair_report "$RESULTS_DIR/token.json"
