#!/usr/bin/env bash
# What limiting failed logins costs (BENCHMARKS.md, "The guard"): two basic-mode stacks side by
# side at the default bcrypt cost 8, "guarded" (the defaults: loginThrottle on, so nginx asks
# the guard before every password check) and "unthrottled" (loginThrottle.enabled false, so
# nginx asks the guard only before writes), measured in alternation so that a busy host slows
# both alike (bench/pair.sh). In each repetition, in both orders: the authenticated request rate
# of GET /v2/ (wrk, keep-alive), the CPU time the stack's containers spend per GET /v2/ (their
# cgroups' counters around a second such run, less what they use idle, measured over
# BENCH_IDLE_SECONDS after the deploy: the health checks), the time of one GET /v2/ on one
# connection, the rate of HEAD of a 1 MiB blob (bench/load.js, keep-alive) and the wall time of
# a 6-layer `docker push` (bench/lib.sh's image, fresh data each time). Prints the medians and
# the median of the per-repetition ratios guarded/unthrottled, and writes them, with every
# sample, to bench/results/guard.json. Nothing asserts a time.
#
#   bash bench/guard.sh      (as root, like the end-to-end suite: docker push needs the CA
#                            in /etc/docker/certs.d/localhost:PORT/, removed at the end)
#
# Environment: BENCH_REPS [5], BENCH_RATE_SECONDS [5], BENCH_CONNECTIONS [8],
#              BENCH_GUARD_PORT [25643: unthrottled there, guarded on the next port up by 100],
#              BENCH_GUARD_COST [8: the default bcrypt cost], BENCH_IDLE_SECONDS [10],
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

BASE_PORT=${BENCH_GUARD_PORT:-25643}
COST=${BENCH_GUARD_COST:-8}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-10}

PAIR=(unthrottled guarded)
PAIR_PORT=([unthrottled]=$BASE_PORT [guarded]=$((BASE_PORT + 100)))
PAIR_TITLE=([unthrottled]="basic mode, bcrypt cost $COST, loginThrottle off" [guarded]="basic mode, bcrypt cost $COST, loginThrottle on")
PAIR_CONFIG=(
  [unthrottled]="  authenticated-registry:bcryptCost: $COST
  authenticated-registry:loginThrottle:
    enabled: false"
  [guarded]="  authenticated-registry:bcryptCost: $COST"
)
PAIR_KEY=([unthrottled]=unthrottled [guarded]=guarded)
PAIR_METRICS=(pair_get_v2_rate pair_get_v2_cpu_ms pair_get_v2_ms pair_head_rate pair_push_seconds)
PAIR_LABEL=([pair_get_v2_rate]="GET /v2/" [pair_get_v2_cpu_ms]="CPU per GET /v2/" [pair_get_v2_ms]="one connection"
  [pair_head_rate]="HEAD blob" [pair_push_seconds]="docker push")
PAIR_UNIT=([pair_get_v2_rate]="req/s" [pair_get_v2_cpu_ms]="ms" [pair_get_v2_ms]="ms" [pair_head_rate]="req/s" [pair_push_seconds]="s")
PAIR_METRIC_KEY=([pair_get_v2_rate]=getV2PerSecond [pair_get_v2_cpu_ms]=getV2CpuMs [pair_get_v2_ms]=getV2OneConnectionMs
  [pair_head_rate]=headBlobPerSecond [pair_push_seconds]=pushSeconds)
PAIR_RATIO_KEY=([pair_get_v2_rate]=getV2GuardedOverUnthrottled [pair_get_v2_cpu_ms]=getV2CpuMsGuardedOverUnthrottled
  [pair_get_v2_ms]=getV2OneConnectionMsGuardedOverUnthrottled [pair_head_rate]=headBlobGuardedOverUnthrottled
  [pair_push_seconds]=pushGuardedOverUnthrottled)

# Which questions X's nginx asks the guard, from the config it runs: "login write" or "write".
guard_questions() { # X
  local conf
  conf=$(docker exec "$(pair_pl "$1" stack output proxyContainerName)" nginx -T 2>/dev/null) || die "cannot read the nginx config of $1"
  printf '%s\n' "$(grep -q 'auth_request /_guard/login;' <<<"$conf" && printf 'login ')$(grep -q 'auth_request /_guard/write;' <<<"$conf" && printf 'write')"
}

# "X<tab>ROLE<tab>VALUE" lines as {"X": {"ROLE": VALUE, ...}, ...}.
by_stack_and_role() {
  node -e '
    const o = {};
    for (const l of require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)) {
      const [x, role, v] = l.split("\t");
      (o[x] ??= {})[role] = Number(v);
    }
    process.stdout.write(JSON.stringify(o));'
}

pair_init guard
for x in "${PAIR[@]}"; do
  pair_deploy "$x"
  pair_put_blob "$x"
done
for x in "${PAIR[@]}"; do pair_idle_cpu "$x" "$IDLE_SECONDS"; done
# The guarded proxy asks the guard before each password check and the unthrottled one does not;
# both ask it before writes.
[[ $(guard_questions guarded) == "login write" ]] || die "the guarded proxy does not ask the guard before each password check"
[[ $(guard_questions unthrottled) == "write" ]] || die "the unthrottled proxy asks the guard before password checks, or not before writes"
step "guarded: nginx asks the guard before every password check and every write; unthrottled: before every write"
pair_measure
# Each role's idle CPU, and the median of its share of the CPU per GET /v2/.
idle=$(
  for x in "${PAIR[@]}"; do
    pair_roles "$x" | while read -r role; do printf '%s\t%s\t%s\n' "$x" "$role" "${PAIR_IDLE[$x/$role]}"; done
  done | by_stack_and_role
)
by_role=$(
  for x in "${PAIR[@]}"; do
    pair_roles "$x" | while read -r role; do
      printf '%s\t%s\t%s\n' "$x" "$role" "$(awk -F'\t' -v x="$x" -v r="$role" '$1 == x && $3 == r { print $4 }' "$work/cpu-roles.tsv" | median)"
    done
  done | by_stack_and_role
)
pair_report "$RESULTS_DIR/guard.json" \
  "{\"settings\": {\"bcryptCost\": $COST, \"rateSeconds\": $RATE_SECONDS, \"connections\": $CONNECTIONS, \"cores\": $(nproc)}, \"idleCpuMsPerSecondByRole\": $idle, \"getV2CpuMsByRole\": $by_role}" samples
