#!/usr/bin/env bash
# The test command: sets the machine up (scripts/setup.sh), then runs the unit tests and the
# end-to-end suite against the real Pulumi CLI and Docker engine. CI runs exactly this.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
npm run lint
"$here/lint-shell.sh"
"$here/actionlint.sh"
npm test
npm run test:e2e
