#!/usr/bin/env bash
# The registry from Pulumi YAML against the same registry from TypeScript (BENCHMARKS.md, "From
# any language"): the YAML example (examples/yaml, the component provider of provider/) and a
# stack of this project's TypeScript program with the same three users and grants, both on the
# real engine. Each is deployed once (its `pulumi up` timed), then the no-op `pulumi preview` of
# each is timed in alternation, the TypeScript one first in odd repetitions and second in even
# ones, so that a busy host slows both alike. Prints the medians and the median of the
# per-repetition ratios YAML / TypeScript, and writes them to bench/results/languages.json.
# Nothing asserts a time.
#
#   bash bench/languages.sh
#
# Environment: BENCH_REPS [5], BENCH_LANGUAGES_PORT [25843: TypeScript there, YAML on the next
#              port up by 100], BENCH_RESULTS_DIR [bench/results]
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
BASE_PORT=${BENCH_LANGUAGES_PORT:-25843}

languages=(typescript yaml)
declare -A project_dir=([typescript]=$repo [yaml]=$repo/examples/yaml)
declare -A port=([typescript]=$BASE_PORT [yaml]=$((BASE_PORT + 100)))
declare -A created=() up_seconds=() samples=()
ratios=()

work=$(mktemp -d /tmp/authreg-bench-languages.XXXXXX)
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=bench PULUMI_SKIP_CONFIRMATIONS=true
mkdir -p "$work/state" "$RESULTS_DIR"

stack_of() { printf 'bench-languages-%s\n' "$1"; }
pl() { # LANGUAGE ARGS...: the CLI on LANGUAGE's project, stack and config file
  local language=$1
  shift
  (cd "${project_dir[$language]}" && pulumi "$@" --stack "$(stack_of "$language")" --non-interactive \
    --config-file "$work/Pulumi.$(stack_of "$language").yaml")
}

# Removes what this run made, and nothing else.
cleanup() {
  local language
  for language in "${languages[@]}"; do
    if [[ -n ${created[$language]:-} ]]; then
      pl "$language" destroy --yes >/dev/null 2>&1 || true
      pl "$language" stack rm --yes --force >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

for language in "${languages[@]}"; do
  port_free "${port[$language]}" || die "port ${port[$language]} ($language) is in use: choose BENCH_LANGUAGES_PORT"
done
for image in "$AUTHREG_NGINX_IMAGE" "$AUTHREG_REGISTRY_IMAGE" "$AUTHREG_NODE_IMAGE"; do
  docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing (scripts/images.sh)"
done

# The same registry in both languages: the YAML example's users and grants, written as this
# project's stack config for the TypeScript program; the data volume goes with the stack.
config_of() { # LANGUAGE
  if [[ $1 == yaml ]]; then
    printf '%s\n' "config:" "  registry-yaml:port: ${port[yaml]}" "  registry-yaml:deleteDataOnDestroy: true" \
      "  registry-yaml:nginxImage: $AUTHREG_NGINX_IMAGE" "  registry-yaml:registryImage: $AUTHREG_REGISTRY_IMAGE" \
      "  registry-yaml:guardImage: $AUTHREG_NODE_IMAGE"
    return
  fi
  printf '%s\n' "config:" "  authenticated-registry:domain: localhost" "  authenticated-registry:port: \"${port[typescript]}\"" \
    "  authenticated-registry:container:" "    bindAddress: 127.0.0.1" "  authenticated-registry:deleteDataOnDestroy: true" \
    "  authenticated-registry:tls:" "    ipAddresses: [127.0.0.1]" \
    "  authenticated-registry:nginxImage: $AUTHREG_NGINX_IMAGE" "  authenticated-registry:registryImage: $AUTHREG_REGISTRY_IMAGE" \
    "  authenticated-registry:guardImage: $AUTHREG_NODE_IMAGE" "  authenticated-registry:users:" \
    "    - {username: ci, access: [{repositories: ['team/**'], actions: [pull, push]}]}" \
    "    - {username: deploy, access: [{repositories: ['team/**'], actions: [pull]}]}" \
    "    - {username: admin, catalog: true, access: [{repositories: ['**'], actions: [pull, push, delete]}]}"
}

seconds_of() { # COMMAND...: runs it, prints its wall time in seconds
  local start=$EPOCHREALTIME
  "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; die "$* failed"; }
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }'
}

for language in "${languages[@]}"; do
  stack=$(stack_of "$language")
  (cd "${project_dir[$language]}" && pulumi stack init "$stack" --secrets-provider passphrase --non-interactive >/dev/null)
  created[$language]=1
  salt=$(grep '^encryptionsalt:' "${project_dir[$language]}/Pulumi.$stack.yaml")
  rm -f "${project_dir[$language]}/Pulumi.$stack.yaml"
  { printf '%s\n' "$salt"; config_of "$language"; } >"$work/Pulumi.$stack.yaml"
  log "$language: pulumi up"
  up_seconds[$language]=$(seconds_of pl "$language" up --yes --skip-preview)
  step "$language: up in ${up_seconds[$language]} s"
done

for ((rep = 1; rep <= REPS; rep++)); do
  order=("${languages[@]}")
  if ((rep % 2 == 0)); then order=(yaml typescript); fi
  declare -A this=()
  for language in "${order[@]}"; do
    this[$language]=$(seconds_of pl "$language" preview --expect-no-changes)
    samples[$language]+="${this[$language]} "
  done
  ratios+=("$(awk -v y="${this[yaml]}" -v t="${this[typescript]}" 'BEGIN { printf "%.2f\n", y / t }')")
  step "repetition $rep: no-op preview TypeScript ${this[typescript]} s, YAML ${this[yaml]} s"
done

median_of() { tr ' ' '\n' | grep . | median; }
ts_median=$(median_of <<<"${samples[typescript]}")
yaml_median=$(median_of <<<"${samples[yaml]}")
ratio_median=$(printf '%s\n' "${ratios[@]}" | median)
log "no-op preview: TypeScript $ts_median s, YAML $yaml_median s, YAML / TypeScript $ratio_median (median of $REPS)"
log "first up: TypeScript ${up_seconds[typescript]} s, YAML ${up_seconds[yaml]} s"
node -e '
const [file, reps, tsUp, yamlUp, ts, yaml, ratio, tsSamples, yamlSamples, ratios] = process.argv.slice(1);
const list = (s) => s.trim().split(/\s+/).map(Number);
require("fs").writeFileSync(file, JSON.stringify({
  date: new Date().toISOString(), reps: Number(reps),
  upSeconds: { typescript: Number(tsUp), yaml: Number(yamlUp) },
  noOpPreviewSeconds: { typescript: Number(ts), yaml: Number(yaml) },
  noOpPreviewYamlOverTypescript: Number(ratio),
  samples: { typescript: list(tsSamples), yaml: list(yamlSamples), yamlOverTypescript: list(ratios) },
}, null, 2) + "\n");
' "$RESULTS_DIR/languages.json" "$REPS" "${up_seconds[typescript]}" "${up_seconds[yaml]}" "$ts_median" "$yaml_median" \
  "$ratio_median" "${samples[typescript]}" "${samples[yaml]}" "${ratios[*]}"
step "wrote $RESULTS_DIR/languages.json"
