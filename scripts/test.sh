#!/usr/bin/env bash
# The test command: sets the machine up for the tests (scripts/setup.sh --tests), then runs the linters, the check of
# the API report (npm run api:check), the unit tests on the machine's Node.js and on the LTS lines users run (22 and
# 24, official builds from npm, scripts/node-lts.sh), and the end-to-end suite against the real Pulumi CLI and Docker
# engine on Node.js 22. CI runs exactly this. `npm run test:e2e` runs the suite on the machine's Node.js.
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

log "Unit tests on the machine's Node.js $(node --version)"
npm test
for lts in 22 24; do
  bin=$("$here/node-lts.sh" "$lts")
  log "Unit tests on Node.js $(PATH=$bin:$PATH node --version)"
  PATH=$bin:$PATH npm test
done

bin=$("$here/node-lts.sh" 22)
log "End-to-end suite on Node.js $(PATH=$bin:$PATH node --version)"
PATH=$bin:$PATH npm run test:e2e
