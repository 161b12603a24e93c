#!/usr/bin/env bash
# Prepares this machine for the stack and the tests, from a fresh clone:
#   1. Debian packages the tests and scripts use (only those missing are installed);
#   2. npm dependencies, exactly as locked (`npm ci`), and the token service's bundle;
#   3. the Pulumi CLI and plugins at the locked versions (scripts/toolchain.sh);
#   4. a running Docker engine (scripts/docker-engine.sh);
#   5. the offline nginx, registry and Node.js images (scripts/images.sh).
# Slow artefacts are cached in $AUTHREG_CACHE_DIR, outside the checkout; a warm run takes seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
cd "$here/.."

# nginx: `nginx -t` of the rendered config; apache2-utils: `htpasswd -vb`; curl and openssl:
# end-to-end checks; debootstrap: the offline images; wrk: the request-rate benchmark;
# the linter of scripts/lint-shell.sh and of the workflows' run: scripts: shellcheck.
packages=(nginx apache2-utils curl openssl debootstrap ca-certificates wrk shellcheck)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "Installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

if [[ package-lock.json -nt node_modules/.package-lock.json || ! -d node_modules ]]; then
  log "Installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
else
  log "npm dependencies are up to date"
fi
# The token service as one file (bin/token-service.js), which token-mode stacks upload; esbuild takes a moment.
node scripts/bundle-token-service.js

"$here/toolchain.sh"
"$here/docker-engine.sh"
"$here/images.sh"
