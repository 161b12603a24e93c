# shellcheck shell=bash
# Two stacks of this project side by side, measured in alternation so that a busy host slows
# both alike (bench/token.sh, bench/guard.sh); sourced, not run, after scripts/lib.sh,
# scripts/env.sh and bench/lib.sh.
#
# Each stack, bench-NAME, is deployed with the real pulumi CLI in a throwaway local state
# backend: one user (bench) with a generated password, a generated CA for 127.0.0.1, the
# stand-in nginx, registry and Node.js images (scripts/lib.sh), and the stack's own config lines.
# pair_measure runs every measurement on both stacks in each repetition, the first stack first
# in odd repetitions and second in even ones, and takes the ratio second / first per
# repetition; pair_report writes the medians and the median ratios. Nothing asserts a time.
#
# The sourcing script sets, then calls pair_init:
#   PAIR=(A B)             the two stacks' names; ratios are B / A
#   PAIR_PORT[X]           X's HTTPS port on 127.0.0.1
#   PAIR_TITLE[X]          what the progress line of X's pulumi up calls it
#   PAIR_CONFIG[X]         X's config lines beyond the shared ones: one string, a line each,
#                          indented as in a stack config file ("  authenticated-registry:…")
#   PAIR_AUTH[X]           basic (the default) or token: the credentials GET /v2/ is sent
#   PAIR_KEY[X]            X's key in the results file
#   PAIR_METRICS=(F ...)   the measurements: functions F X REP that print one number (below:
#                          pair_get_v2_rate, pair_get_v2_cpu_ms, pair_get_v2_ms, pair_head_rate,
#                          pair_push_seconds; pair_head_rate needs pair_put_blob first, and
#                          pair_get_v2_cpu_ms subtracts pair_idle_cpu's figures when it ran)
#   PAIR_LABEL[F], PAIR_UNIT[F]          what the progress line calls F's figures
#   PAIR_METRIC_KEY[F], PAIR_RATIO_KEY[F]  their keys in the results file
# REPS, RATE_SECONDS and CONNECTIONS are set here, from BENCH_REPS, BENCH_RATE_SECONDS and
# BENCH_CONNECTIONS; RESULTS_DIR in bench/lib.sh.
#
# Run as root: docker push trusts each stack's CA through /etc/docker/certs.d/localhost:PORT/,
# which the script removes at the end, like the stacks, their data volumes and the images it built.

# Repetitions, the seconds of one rate measurement, and its concurrent connections.
REPS=${BENCH_REPS:-5}
RATE_SECONDS=${BENCH_RATE_SECONDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-8}

declare -a PAIR=() PAIR_METRICS=()
declare -A PAIR_PORT=() PAIR_TITLE=() PAIR_CONFIG=() PAIR_AUTH=() PAIR_KEY=()
declare -A PAIR_LABEL=() PAIR_UNIT=() PAIR_METRIC_KEY=() PAIR_RATIO_KEY=()
# What pair_deploy made, for pair_cleanup: the stacks, and the Authorization header of each.
declare -A PAIR_CREATED=() AUTH=()
# Every sample, "F/X" → "v1 v2 …"; every per-repetition ratio B / A, "F" → "r1 r2 …"; the
# host's 1-minute load average after each repetition.
declare -A PAIR_SAMPLES=() PAIR_RATIOS=()
declare -a PAIR_LOADS=()
# The blob pair_head_rate asks for (pair_put_blob).
PAIR_BLOB_PATH=""
USER_NAME=bench
work=""
# The checkout, where pulumi runs the program.
PAIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

pair_stack() { printf 'bench-%s\n' "$1"; }
pair_host() { printf 'localhost:%s\n' "${PAIR_PORT[$1]}"; }
pair_trust_dir() { printf '/etc/docker/certs.d/%s\n' "$(pair_host "$1")"; }
pair_pl() { # X ARGS...
  local x=$1
  shift
  (cd "$PAIR_REPO" && pulumi "$@" --stack "$(pair_stack "$x")" --non-interactive)
}
pair_plc() { # X ARGS...
  pair_pl "$@" --config-file "$work/Pulumi.$(pair_stack "$1").yaml"
}

# The work dir (/tmp/authreg-bench-NAME.*), the throwaway backend and docker config, the
# cleanup on exit, and the checks that nothing is in the way.
pair_init() { # NAME
  local x image
  work=$(mktemp -d "/tmp/authreg-bench-$1.XXXXXX")
  chmod 700 "$work"
  export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_CONFIRMATIONS=true
  export DOCKER_CONFIG=$work/docker
  mkdir -p "$work/state" "$DOCKER_CONFIG" "$RESULTS_DIR"
  trap pair_cleanup EXIT
  { mkdir -p /etc/docker/certs.d 2>/dev/null && [[ -w /etc/docker/certs.d ]]; } \
    || die "docker push must trust each stack's CA in /etc/docker/certs.d: run as root"
  for x in "${PAIR[@]}"; do
    port_free "${PAIR_PORT[$x]}" || die "port ${PAIR_PORT[$x]} ($x) is in use: choose other ports"
  done
  for image in "$AUTHREG_NGINX_IMAGE" "$AUTHREG_REGISTRY_IMAGE" "$AUTHREG_NODE_IMAGE"; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing (scripts/images.sh)"
  done
}

# Removes what this run made, and nothing else.
pair_cleanup() {
  local x ref
  for x in "${PAIR[@]}"; do
    if [[ -n ${PAIR_CREATED[$x]:-} ]]; then
      pair_plc "$x" destroy --yes >/dev/null 2>&1 || true
      (cd "$PAIR_REPO" && pulumi stack rm --yes --force --stack "$(pair_stack "$x")" --non-interactive >/dev/null 2>&1) || true
      docker volume rm --force "registry-$(pair_stack "$x")-data" >/dev/null 2>&1 || true
    fi
    if [[ -f $(pair_trust_dir "$x")/.authreg-bench ]]; then rm -rf "$(pair_trust_dir "$x")"; fi
  done
  if [[ -f $work/images ]]; then
    while read -r ref; do docker rmi "$ref" >/dev/null 2>&1 || true; done <"$work/images"
  fi
  rm -rf "$work"
}

pair_write_config() { # X SALT
  local x=$1
  {
    printf '%s\n' "$2" "config:" "  authenticated-registry:domain: localhost" "  authenticated-registry:port: \"${PAIR_PORT[$x]}\"" \
      "  authenticated-registry:container:" "    bindAddress: 127.0.0.1" "  authenticated-registry:users:" "    - username: $USER_NAME" \
      "  authenticated-registry:tls:" "    ipAddresses: [127.0.0.1]" \
      "  authenticated-registry:nginxImage: $AUTHREG_NGINX_IMAGE" "  authenticated-registry:registryImage: $AUTHREG_REGISTRY_IMAGE" \
      "  authenticated-registry:guardImage: $AUTHREG_NODE_IMAGE"
    if [[ -n ${PAIR_CONFIG[$x]:-} ]]; then printf '%s\n' "${PAIR_CONFIG[$x]}"; fi
  } >"$work/Pulumi.$(pair_stack "$x").yaml"
}

# Deploys X's stack, trusts its CA, logs the docker client in and sets AUTH[X] for wrk; keeps
# the CA in $work/X-ca.crt and "user:password" in $work/X-cred.
pair_deploy() { # X
  local x=$1 stack salt password trust
  stack=$(pair_stack "$x")
  (cd "$PAIR_REPO" && pulumi stack init "$stack" --secrets-provider passphrase --non-interactive >/dev/null)
  PAIR_CREATED[$x]=1
  salt=$(grep '^encryptionsalt:' "$PAIR_REPO/Pulumi.$stack.yaml")
  rm -f "$PAIR_REPO/Pulumi.$stack.yaml"
  pair_write_config "$x" "$salt"
  log "${PAIR_TITLE[$x]}: pulumi up"
  pair_plc "$x" up --yes --skip-preview >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "pulumi up failed"; }
  pair_pl "$x" stack output caCertificatePem >"$work/$x-ca.crt"
  trust=$(pair_trust_dir "$x")
  mkdir -p "$trust" && touch "$trust/.authreg-bench" && cp "$work/$x-ca.crt" "$trust/ca.crt"
  password=$(pair_pl "$x" stack output passwords --show-secrets --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).bench)')
  (umask 077 && printf '%s:%s' "$USER_NAME" "$password" >"$work/$x-cred")
  docker login "$(pair_host "$x")" --username "$USER_NAME" --password-stdin <<<"$password" >/dev/null 2>&1
  if [[ ${PAIR_AUTH[$x]:-basic} == token ]]; then
    AUTH[$x]="Bearer $(curl -sf --cacert "$work/$x-ca.crt" --user "$USER_NAME:$password" "https://$(pair_host "$x")/token?service=$(pair_host "$x")" |
      node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')"
  else
    AUTH[$x]="Basic $(base64 -w0 <"$work/$x-cred")"
  fi
}

# wrk on X's GET /v2/ with its Authorization header, over CONNECTIONS keep-alive connections
# (2 threads) or CONNS of them: requests per second.
pair_get_v2_rate() { # X REP [CONNS]
  local conns=${3:-$CONNECTIONS}
  printf 'wrk.headers["Authorization"] = "%s"\n' "${AUTH[$1]}" >"$work/auth.lua"
  wrk -t"$((conns < 2 ? conns : 2))" -c"$conns" -d"${RATE_SECONDS}s" --timeout 30s -s "$work/auth.lua" "https://$(pair_host "$1")/v2/" >"$work/wrk.log"
  wrk_requests_per_second "$work/wrk.log"
}

# The roles (authenticated-registry.role: proxy, registry, guard, ...) of X's running containers.
pair_roles() { # X
  docker ps --filter "label=authenticated-registry.instance=registry-$(pair_stack "$1")" --format '{{.Label "authenticated-registry.role"}}' | sort -u
}

# CPU time, in ns, that X's running containers, or those of ROLE, have used so far (their
# cgroups' counters, v1 or v2).
pair_cpu_ns() { # X [ROLE]
  local id pid path ns total=0 filter=(--filter "label=authenticated-registry.instance=registry-$(pair_stack "$1")")
  if [[ -n ${2:-} ]]; then filter+=(--filter "label=authenticated-registry.role=$2"); fi
  for id in $(docker ps -q "${filter[@]}"); do
    pid=$(docker inspect --format '{{.State.Pid}}' "$id")
    path=$(awk -F: '$2 ~ /(^|,)cpuacct(,|$)/ { print $3 }' "/proc/$pid/cgroup")
    if [[ -n $path ]]; then
      ns=$(cat "/sys/fs/cgroup/cpuacct$path/cpuacct.usage")
    else
      path=$(awk -F: '$1 == 0 { print $3 }' "/proc/$pid/cgroup")
      ns=$(awk '$1 == "usage_usec" { printf "%d", $2 * 1000 }' "/sys/fs/cgroup$path/cpu.stat")
    fi
    total=$((total + ns))
  done
  printf '%s\n' "$total"
}

# The CPU milliseconds per second X's containers use, by role, while nobody asks them anything
# (their health checks: Docker runs each container's probe command every second), over SECONDS;
# kept in PAIR_IDLE[X/ROLE], which pair_get_v2_cpu_ms subtracts.
declare -A PAIR_IDLE=()
pair_idle_cpu() { # X SECONDS
  local role t0 t1
  local -a roles
  local -A before=() after=()
  mapfile -t roles < <(pair_roles "$1")
  t0=$EPOCHREALTIME
  for role in "${roles[@]}"; do before[$role]=$(pair_cpu_ns "$1" "$role"); done
  sleep "$2"
  for role in "${roles[@]}"; do after[$role]=$(pair_cpu_ns "$1" "$role"); done
  t1=$EPOCHREALTIME
  for role in "${roles[@]}"; do
    PAIR_IDLE[$1/$role]=$(awk -v a="${before[$role]}" -v b="${after[$role]}" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 / (t1 - t0) }')
  done
}

# CPU milliseconds that X's containers spend per authenticated GET /v2/, over a run like
# pair_get_v2_rate's, less what they use idle (pair_idle_cpu, if measured); unlike a rate, it
# hardly depends on what else the host runs. Each role's share goes to $work/cpu-roles.tsv
# (X, REP, ROLE, ms).
pair_get_v2_cpu_ms() { # X REP
  local role requests t0 t1
  local -a roles
  local -A before=() after=()
  mapfile -t roles < <(pair_roles "$1")
  ((${#roles[@]})) || die "no running containers of $1"
  t0=$EPOCHREALTIME
  for role in "${roles[@]}"; do before[$role]=$(pair_cpu_ns "$1" "$role"); done
  pair_get_v2_rate "$1" "$2" >/dev/null
  for role in "${roles[@]}"; do after[$role]=$(pair_cpu_ns "$1" "$role"); done
  t1=$EPOCHREALTIME
  requests=$(awk '/ requests in / { print $1; exit }' "$work/wrk.log")
  for role in "${roles[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$role" "$(awk -v a="${before[$role]}" -v b="${after[$role]}" -v idle="${PAIR_IDLE[$1/$role]:-0}" \
      -v t0="$t0" -v t1="$t1" -v n="$requests" 'BEGIN { printf "%.3f", ((b - a) / 1e6 - idle * (t1 - t0)) / n }')" >>"$work/cpu-roles.tsv"
  done
  awk -F'\t' -v x="$1" -v rep="$2" '$1 == x && $2 == rep { t += $4 } END { printf "%.3f", t }' "$work/cpu-roles.tsv"
}

# Milliseconds per authenticated GET /v2/ on one keep-alive connection: one request at a time.
pair_get_v2_ms() { # X REP
  local rate
  rate=$(pair_get_v2_rate "$1" "$2" 1)
  awk -v r="$rate" 'BEGIN { printf "%.2f", 1000 / r }'
}

# Uploads one 1 MiB blob (the same for every stack) to X as bench/head, for pair_head_rate.
pair_put_blob() { # X
  local digest
  [[ -f $work/head-blob ]] || head -c 1048576 /dev/urandom >"$work/head-blob"
  digest=sha256:$(sha256sum "$work/head-blob" | cut -d' ' -f1)
  upload_blob "https://$(pair_host "$1")" "$work/head-blob" "$digest" bench/head \
    --cacert "$work/$1-ca.crt" -H "Authorization: ${AUTH[$1]}" >/dev/null
  PAIR_BLOB_PATH=/v2/bench/head/blobs/$digest
}

# bench/load.js on X's HEAD of pair_put_blob's blob with the user's password (basic mode; wrk
# 4.1 waits for a body after a HEAD answer with a Content-Length): requests per second.
pair_head_rate() { # X REP
  [[ ${PAIR_AUTH[$1]:-basic} == basic && -n $PAIR_BLOB_PATH ]] || die "pair_head_rate: basic mode, after pair_put_blob"
  node "$PAIR_REPO/bench/load.js" --url "https://$(pair_host "$1")$PAIR_BLOB_PATH" --method HEAD --connections "$CONNECTIONS" \
    --seconds "$RATE_SECONDS" --ca "$work/$1-ca.crt" --auth-file "$work/$1-cred" >"$work/load.log" || die "load.js failed"
  load_requests_per_second "$work/load.log" "HEAD load on $1"
}

# Seconds of one `docker push` of a fresh 6-layer image (bench/lib.sh) to X's registry.
pair_push_seconds() { # X TAG
  local ref start
  ref=$(pair_host "$1")/bench/push:$2
  printf '%s\n' "$ref" >>"$work/images"
  six_layer_context "$work/ctx"
  DOCKER_BUILDKIT=0 docker build --quiet --tag "$ref" "$work/ctx" >/dev/null 2>&1
  start=$EPOCHREALTIME
  docker push "$ref" >/dev/null
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
  docker rmi "$ref" >/dev/null
}

# REPS repetitions of every PAIR_METRICS measurement on both stacks, in alternating order.
pair_measure() {
  local i f x a b parts line
  local -a order
  local -A v
  for ((i = 1; i <= REPS; i++)); do
    # Alternate which stack goes first, so a drift of the host's speed favours neither.
    order=("${PAIR[@]}")
    if ((i % 2 == 0)); then order=("${PAIR[1]}" "${PAIR[0]}"); fi
    v=()
    for f in "${PAIR_METRICS[@]}"; do
      for x in "${order[@]}"; do v[$f/$x]=$("$f" "$x" "$i"); done
    done
    parts=()
    for f in "${PAIR_METRICS[@]}"; do
      a=${v[$f/${PAIR[0]}]} b=${v[$f/${PAIR[1]}]}
      PAIR_SAMPLES[$f/${PAIR[0]}]+="$a " PAIR_SAMPLES[$f/${PAIR[1]}]+="$b "
      PAIR_RATIOS[$f]+="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }') "
      parts+=("${PAIR_LABEL[$f]} ${PAIR[0]} $a ${PAIR_UNIT[$f]}, ${PAIR[1]} $b ${PAIR_UNIT[$f]}")
    done
    PAIR_LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
    line=$(printf '%s; ' "${parts[@]}")
    step "rep $i: ${line%; }"
  done
}

pair_median_of() { tr ' ' '\n' <<<"$1" | grep . | median; } # "v1 v2 …"

# Writes FILE and prints it: the date, REPS, the members of EXTRA (a JSON object, if given),
# each stack's medians under PAIR_KEY, and medianRatios; with SAMPLES=samples also every sample,
# every per-repetition ratio and the load average after each repetition.
pair_report() { # FILE [EXTRA [SAMPLES]]
  local x f
  # shellcheck disable=SC2016 # JavaScript, not shell
  {
    for x in "${PAIR[@]}"; do
      for f in "${PAIR_METRICS[@]}"; do
        printf 'stack\t%s\t%s\t%s\t%s\n' "${PAIR_KEY[$x]}" "${PAIR_METRIC_KEY[$f]}" "$(pair_median_of "${PAIR_SAMPLES[$f/$x]}")" "${PAIR_SAMPLES[$f/$x]}"
      done
    done
    for f in "${PAIR_METRICS[@]}"; do
      printf 'ratio\t%s\t%s\t%s\n' "${PAIR_RATIO_KEY[$f]}" "$(pair_median_of "${PAIR_RATIOS[$f]}")" "${PAIR_RATIOS[$f]}"
    done
    printf 'load\t%s\n' "${PAIR_LOADS[*]}"
  } | node -e '
    const [file, reps, extra, samples] = process.argv.slice(1);
    const nums = (s) => s.trim().split(/\s+/).filter(Boolean).map(Number);
    const r = { date: new Date().toISOString(), reps: Number(reps) };
    if (extra) Object.assign(r, JSON.parse(extra));
    const medianRatios = {};
    const detail = { samples: {}, ratios: {}, loadAverage1m: [] };
    for (const line of require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)) {
      const [kind, ...f] = line.split("\t");
      if (kind === "stack") {
        (r[f[0]] ??= {})[f[1]] = Number(f[2]);
        (detail.samples[f[0]] ??= {})[f[1]] = nums(f[3]);
      } else if (kind === "ratio") {
        medianRatios[f[0]] = Number(f[1]);
        detail.ratios[f[0]] = nums(f[2]);
      } else detail.loadAverage1m = nums(f[0] || "");
    }
    r.medianRatios = medianRatios;
    const out = samples === "samples" ? { ...r, ...detail } : r;
    // Lists of numbers on one line each.
    const text = JSON.stringify(out, null, 2).replace(/\[\s*([-\d.e+,\s]*?)\s*\]/g, (_, xs) => `[${xs.split(/,\s*/).join(", ")}]`);
    require("fs").writeFileSync(file, text + "\n");
    console.log(text);
  ' "$1" "$REPS" "${2:-}" "${3:-}"
}
