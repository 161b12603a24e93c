#!/usr/bin/env bash
# The test command: sets the machine up for the tests (scripts/setup.sh --tests), then runs the linters, the check of
# the API report (npm run api:check), the unit tests on Node.js 24, and the end-to-end suite against the real Pulumi
# CLI and Docker engine on Node.js 22 (official builds from npm, scripts/node-lts.sh). Each line the package supports
# runs the package once: 24 the unit tests, 22 the end-to-end suite, and the machine's Node.js 20 the unit tests
# again, as a user without root, inside that suite (test/e2e/unprivileged.e2e.test.ts). The suites that touch the
# whole engine or the account's home run alone, the others in two lanes side by side (below). CI runs exactly this.
# `npm run test:e2e` runs the suite on the machine's Node.js.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
cd "$here/.."
"$here/setup.sh" --tests
# shellcheck source=env.sh
source "$here/env.sh"
npm run lint
npm run api:check
"$here/lint-shell.sh"
"$here/actionlint.sh"

bin=$("$here/node-lts.sh" 24)
log "Unit tests on Node.js $(PATH=$bin:$PATH node --version)"
PATH=$bin:$PATH npm test

bin=$("$here/node-lts.sh" 22)
log "End-to-end suite on Node.js $(PATH=$bin:$PATH node --version)"
# e2e SUITE...: those suites (test/e2e/SUITE.e2e.test.ts), one after another.
e2e() {
  local suite files=()
  for suite in "$@"; do files+=("test/e2e/$suite.e2e.test.ts"); done
  PATH=$bin:$PATH npx jest --runInBand --config jest.e2e.config.js "${files[@]}"
}
# First, alone, the suites that restart the Docker engine (faults), make it a swarm and leave it
# (upgrade), or watch that nothing writes into the account's home (home).
alone=(faults upgrade home)
# Then the others in two lanes side by side: each suite has its own stacks, ports, files and
# docker client settings, and one lane left the machine's two cores two-thirds idle. Each lane's
# output is printed when it ends; the run fails if either fails.
lane1=(yaml unprivileged token environments access throttle package sdks retention audit)
lane2=(reload conformance registry gc s3 operations immutable webhooks mirror)
# Every suite is in exactly one place.
listed=$(printf '%s\n' "${alone[@]}" "${lane1[@]}" "${lane2[@]}" | sort)
present=$(find test/e2e -name '*.e2e.test.ts' -printf '%f\n' | sed 's/\.e2e\.test\.ts$//' | sort)
[[ $listed == "$present" ]] || die "scripts/test.sh lists the end-to-end suites wrongly (< listed, > present):"$'\n'"$(diff <(echo "$listed") <(echo "$present"))"
e2e "${alone[@]}"
lane_logs=$(mktemp -d)
e2e "${lane1[@]}" >"$lane_logs/1.log" 2>&1 &
lane1_pid=$!
e2e "${lane2[@]}" >"$lane_logs/2.log" 2>&1 &
lane2_pid=$!
failed=0
wait "$lane1_pid" || failed=1
log "End-to-end lane 1: ${lane1[*]}"
cat "$lane_logs/1.log"
wait "$lane2_pid" || failed=1
log "End-to-end lane 2: ${lane2[*]}"
cat "$lane_logs/2.log"
rm -rf "$lane_logs"
((failed == 0)) || die "an end-to-end lane failed (above)"
