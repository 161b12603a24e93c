#!/usr/bin/env bash
# Token mode against basic mode, in one run on one stack (BENCHMARKS.md, "Token mode"):
#   basic mode at bcrypt cost 4 (the cheapest check nginx can make on every request), then the
#   same stack switched by `pulumi up` to token mode at cost 12; in each, the authenticated
#   request rate of GET /v2/ (wrk, keep-alive) and the wall time of a 6-layer `docker push`
#   (bench/lib.sh's image, fresh data each time). Prints the medians and the ratios
#   token/basic, and writes them to bench/results/token.json. Nothing asserts a time.
#
#   bash bench/token.sh      (as root, like the end-to-end suite: docker push needs the CA
#                            in /etc/docker/certs.d/localhost:PORT/, removed at the end)
#
# Environment: BENCH_REPS [3], BENCH_RATE_SECONDS [5], BENCH_CONNECTIONS [8],
#              BENCH_TOKEN_PORT [25443], BENCH_RESULTS_DIR [bench/results]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$repo/scripts/lib.sh"
# shellcheck source=../scripts/env.sh
source "$repo/scripts/env.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"

REPS=${BENCH_REPS:-3}
RATE_SECONDS=${BENCH_RATE_SECONDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
PORT=${BENCH_TOKEN_PORT:-25443}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$repo/bench/results}
HOST=localhost:$PORT
STACK=bench-token
USER_NAME=bench
TRUST_DIR=/etc/docker/certs.d/$HOST

work=$(mktemp -d /tmp/authreg-bench-token.XXXXXX)
config_file=$work/Pulumi.$STACK.yaml
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_CONFIRMATIONS=true
export DOCKER_CONFIG=$work/docker
mkdir -p "$work/state" "$DOCKER_CONFIG" "$RESULTS_DIR"

pl() { (cd "$repo" && pulumi "$@" --stack "$STACK" --non-interactive --config-file "$config_file"); }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cleanup() {
  pl destroy --yes >/dev/null 2>&1 || true
  (cd "$repo" && pulumi stack rm --yes --force --stack "$STACK" --non-interactive >/dev/null 2>&1) || true
  docker volume rm --force "registry-$STACK-data" >/dev/null 2>&1 || true
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$HOST/bench/*" | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$TRUST_DIR" "$work"
}
trap cleanup EXIT

write_config() { # MODE COST
  {
    printf '%s\n' "$salt" "config:" "  authenticated-registry:domain: localhost" "  authenticated-registry:port: \"$PORT\"" \
      "  authenticated-registry:bindAddress: 127.0.0.1" "  authenticated-registry:users:" "    - username: $USER_NAME" \
      "  authenticated-registry:tls:" "    ipAddresses: [127.0.0.1]" \
      "  authenticated-registry:nginxImage: $AUTHREG_NGINX_IMAGE" "  authenticated-registry:registryImage: $AUTHREG_REGISTRY_IMAGE" \
      "  authenticated-registry:bcryptCost: $2"
    if [[ $1 == token ]]; then
      printf '%s\n' "  authenticated-registry:auth:" "    mode: token" "    tokenServiceImage: $AUTHREG_NODE_IMAGE"
    fi
  } >"$config_file"
}

# wrk's requests per second for GET /v2/ with the given Authorization header value.
rate() { # AUTHORIZATION
  printf 'wrk.headers["Authorization"] = "%s"\n' "$1" >"$work/auth.lua"
  wrk -t2 -c"$CONNECTIONS" -d"${RATE_SECONDS}s" --timeout 30s -s "$work/auth.lua" "https://$HOST/v2/" >"$work/wrk.log"
  if grep -qE 'Non-2xx|Socket errors' "$work/wrk.log"; then
    cat "$work/wrk.log" >&2
    die "wrk saw errors or non-2xx answers"
  fi
  awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.log"
}

# Seconds of one `docker push` of a fresh 6-layer image.
push_seconds() { # TAG
  six_layer_context "$work/ctx"
  DOCKER_BUILDKIT=0 docker build --quiet --tag "$HOST/bench/push:$1" "$work/ctx" >/dev/null
  local start=$EPOCHREALTIME
  docker push "$HOST/bench/push:$1" >/dev/null
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
  docker rmi "$HOST/bench/push:$1" >/dev/null
}

measure() { # MODE COST -> sets RATE and PUSH (medians)
  local mode=$1 cost=$2 password auth rates=() pushes=() i
  write_config "$mode" "$cost"
  log "$mode mode, bcrypt cost $cost: pulumi up"
  pl up --yes --skip-preview >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "pulumi up failed"; }
  pl stack output caCertificatePem >"$work/ca.crt"
  mkdir -p "$TRUST_DIR" && cp "$work/ca.crt" "$TRUST_DIR/ca.crt"
  password=$(pl stack output passwords --show-secrets --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).bench)')
  docker login "$HOST" --username "$USER_NAME" --password-stdin <<<"$password" >/dev/null
  if [[ $mode == token ]]; then
    auth="Bearer $(curl -sf --cacert "$work/ca.crt" --user "$USER_NAME:$password" "https://$HOST/token?service=$HOST" |
      node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')"
  else
    auth="Basic $(printf '%s:%s' "$USER_NAME" "$password" | base64 -w0)"
  fi
  for ((i = 1; i <= REPS; i++)); do
    rates+=("$(rate "$auth")")
    pushes+=("$(push_seconds "$mode-$i")")
    step "rep $i: GET /v2/ ${rates[-1]} req/s, docker push ${pushes[-1]} s"
  done
  RATE=$(printf '%s\n' "${rates[@]}" | median)
  PUSH=$(printf '%s\n' "${pushes[@]}" | median)
}

(cd "$repo" && pulumi stack init "$STACK" --secrets-provider passphrase --non-interactive >/dev/null)
salt=$(grep '^encryptionsalt:' "$repo/Pulumi.$STACK.yaml")
rm -f "$repo/Pulumi.$STACK.yaml"

measure basic 4
basic_rate=$RATE basic_push=$PUSH
measure token 12
token_rate=$RATE token_push=$PUSH

node -e '
  const [basicRate, basicPush, tokenRate, tokenPush, reps, file] = process.argv.slice(1);
  const r = {
    date: new Date().toISOString(), reps: Number(reps),
    basicCost4: { getV2PerSecond: Number(basicRate), pushSeconds: Number(basicPush) },
    tokenCost12: { getV2PerSecond: Number(tokenRate), pushSeconds: Number(tokenPush) },
    ratios: { getV2TokenOverBasic: +(tokenRate / basicRate).toFixed(2), pushTokenOverBasic: +(tokenPush / basicPush).toFixed(2) },
  };
  require("fs").writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
  console.log(JSON.stringify(r, null, 2));
' "$basic_rate" "$basic_push" "$token_rate" "$token_push" "$REPS" "$RESULTS_DIR/token.json"
