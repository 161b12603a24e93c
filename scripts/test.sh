#!/usr/bin/env bash
# The test command: sets the machine up for the tests (scripts/setup.sh --tests), then runs the linters, the check of
# the API report (npm run api:check), the unit tests on Node.js 24, and the end-to-end suite against the real Pulumi
# CLI and Docker engine on Node.js 22 (official builds from npm, scripts/node-lts.sh). Each line the package supports
# runs the package once: 24 the unit tests, 22 the end-to-end suite, and the machine's Node.js 20 the unit tests
# again, as a user without root, inside that suite (test/e2e/unprivileged.e2e.test.ts). CI runs exactly this.
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
PATH=$bin:$PATH npm run test:e2e
