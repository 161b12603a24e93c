#!/usr/bin/env bash
# Token mode against basic mode (BENCHMARKS.md, "Token mode"): two stacks side by side, basic
# mode at bcrypt cost 4 (the cheapest check nginx can make on every request) and token mode at
# cost 12, measured in alternation so that a busy host slows both alike; in each repetition the
# authenticated request rate of GET /v2/ (wrk, keep-alive) and the wall time of a 6-layer
# `docker push` (bench/lib.sh's image, fresh data each time), in both orders. Prints the medians
# and the median of the per-repetition ratios token/basic, and writes them to
# bench/results/token.json. Nothing asserts a time.
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

REPS=${BENCH_REPS:-5}
RATE_SECONDS=${BENCH_RATE_SECONDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
BASE_PORT=${BENCH_TOKEN_PORT:-25443}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$repo/bench/results}
USER_NAME=bench
MODES=(basic token)
declare -A PORT=([basic]=$BASE_PORT [token]=$((BASE_PORT + 100)))
declare -A COST=([basic]=4 [token]=12)
declare -A AUTH=()

work=$(mktemp -d /tmp/authreg-bench-token.XXXXXX)
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_CONFIRMATIONS=true
export DOCKER_CONFIG=$work/docker
mkdir -p "$work/state" "$DOCKER_CONFIG" "$RESULTS_DIR"

stack() { printf 'bench-%s\n' "$1"; }
host() { printf 'localhost:%s\n' "${PORT[$1]}"; }
pl() { # MODE ARGS...
  local mode=$1
  shift
  (cd "$repo" && pulumi "$@" --stack "$(stack "$mode")" --non-interactive)
}
plc() { # MODE ARGS...
  pl "$@" --config-file "$work/Pulumi.$(stack "$1").yaml"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cleanup() {
  local mode
  for mode in "${MODES[@]}"; do
    plc "$mode" destroy --yes >/dev/null 2>&1 || true
    (cd "$repo" && pulumi stack rm --yes --force --stack "$(stack "$mode")" --non-interactive >/dev/null 2>&1) || true
    docker volume rm --force "registry-$(stack "$mode")-data" >/dev/null 2>&1 || true
    rm -rf "/etc/docker/certs.d/$(host "$mode")"
  done
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep '/bench/push:' | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

write_config() { # MODE SALT
  local mode=$1
  {
    printf '%s\n' "$2" "config:" "  authenticated-registry:domain: localhost" "  authenticated-registry:port: \"${PORT[$mode]}\"" \
      "  authenticated-registry:bindAddress: 127.0.0.1" "  authenticated-registry:users:" "    - username: $USER_NAME" \
      "  authenticated-registry:tls:" "    ipAddresses: [127.0.0.1]" \
      "  authenticated-registry:nginxImage: $AUTHREG_NGINX_IMAGE" "  authenticated-registry:registryImage: $AUTHREG_REGISTRY_IMAGE" \
      "  authenticated-registry:bcryptCost: ${COST[$mode]}"
    if [[ $mode == token ]]; then
      printf '%s\n' "  authenticated-registry:auth:" "    mode: token" "    tokenServiceImage: $AUTHREG_NODE_IMAGE"
    fi
  } >"$work/Pulumi.$(stack "$mode").yaml"
}

# Deploys MODE's stack, logs the docker client in and sets AUTH[MODE] for wrk.
deploy() { # MODE
  local mode=$1 salt password
  (cd "$repo" && pulumi stack init "$(stack "$mode")" --secrets-provider passphrase --non-interactive >/dev/null)
  salt=$(grep '^encryptionsalt:' "$repo/Pulumi.$(stack "$mode").yaml")
  rm -f "$repo/Pulumi.$(stack "$mode").yaml"
  write_config "$mode" "$salt"
  log "$mode mode, bcrypt cost ${COST[$mode]}: pulumi up"
  plc "$mode" up --yes --skip-preview >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "pulumi up failed"; }
  pl "$mode" stack output caCertificatePem >"$work/$mode-ca.crt"
  mkdir -p "/etc/docker/certs.d/$(host "$mode")" && cp "$work/$mode-ca.crt" "/etc/docker/certs.d/$(host "$mode")/ca.crt"
  password=$(pl "$mode" stack output passwords --show-secrets --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).bench)')
  docker login "$(host "$mode")" --username "$USER_NAME" --password-stdin <<<"$password" >/dev/null 2>&1
  if [[ $mode == token ]]; then
    AUTH[$mode]="Bearer $(curl -sf --cacert "$work/$mode-ca.crt" --user "$USER_NAME:$password" "https://$(host "$mode")/token?service=$(host "$mode")" |
      node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')"
  else
    AUTH[$mode]="Basic $(printf '%s:%s' "$USER_NAME" "$password" | base64 -w0)"
  fi
}

# wrk's requests per second for MODE's GET /v2/ with its Authorization header.
rate() { # MODE
  printf 'wrk.headers["Authorization"] = "%s"\n' "${AUTH[$1]}" >"$work/auth.lua"
  wrk -t2 -c"$CONNECTIONS" -d"${RATE_SECONDS}s" --timeout 30s -s "$work/auth.lua" "https://$(host "$1")/v2/" >"$work/wrk.log"
  if grep -qE 'Non-2xx|Socket errors' "$work/wrk.log"; then
    cat "$work/wrk.log" >&2
    die "wrk saw errors or non-2xx answers"
  fi
  awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.log"
}

# Seconds of one `docker push` of a fresh 6-layer image to MODE's registry.
push_seconds() { # MODE TAG
  local ref
  ref=$(host "$1")/bench/push:$2
  six_layer_context "$work/ctx"
  DOCKER_BUILDKIT=0 docker build --quiet --tag "$ref" "$work/ctx" >/dev/null 2>&1
  local start=$EPOCHREALTIME
  docker push "$ref" >/dev/null
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
  docker rmi "$ref" >/dev/null
}

for mode in "${MODES[@]}"; do deploy "$mode"; done

declare -A rates=() pushes=()
rate_ratios=() push_ratios=()
for ((i = 1; i <= REPS; i++)); do
  # Alternate which mode goes first, so a drift of the host's speed favours neither.
  order=("${MODES[@]}")
  if ((i % 2 == 0)); then order=(token basic); fi
  declare -A r=() p=()
  for mode in "${order[@]}"; do r[$mode]=$(rate "$mode"); done
  for mode in "${order[@]}"; do p[$mode]=$(push_seconds "$mode" "$i"); done
  for mode in "${MODES[@]}"; do
    rates[$mode]+="${r[$mode]} "
    pushes[$mode]+="${p[$mode]} "
  done
  rate_ratios+=("$(awk -v t="${r[token]}" -v b="${r[basic]}" 'BEGIN { printf "%.3f", t / b }')")
  push_ratios+=("$(awk -v t="${p[token]}" -v b="${p[basic]}" 'BEGIN { printf "%.3f", t / b }')")
  step "rep $i: GET /v2/ basic ${r[basic]}, token ${r[token]} req/s; docker push basic ${p[basic]} s, token ${p[token]} s"
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
node -e '
  const [basicRate, basicPush, tokenRate, tokenPush, rateRatio, pushRatio, reps, file] = process.argv.slice(1);
  const r = {
    date: new Date().toISOString(), reps: Number(reps),
    basicCost4: { getV2PerSecond: Number(basicRate), pushSeconds: Number(basicPush) },
    tokenCost12: { getV2PerSecond: Number(tokenRate), pushSeconds: Number(tokenPush) },
    medianRatios: { getV2TokenOverBasic: Number(rateRatio), pushTokenOverBasic: Number(pushRatio) },
  };
  require("fs").writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
  console.log(JSON.stringify(r, null, 2));
' "$(med "${rates[basic]}")" "$(med "${pushes[basic]}")" "$(med "${rates[token]}")" "$(med "${pushes[token]}")" \
  "$(printf '%s\n' "${rate_ratios[@]}" | median)" "$(printf '%s\n' "${push_ratios[@]}" | median)" "$REPS" "$RESULTS_DIR/token.json"
