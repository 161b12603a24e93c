#!/usr/bin/env bash
# Prepares this machine for a stack, from a fresh clone:
#   1. the Debian packages the set-up uses (only those missing are installed);
#   2. a running Docker engine (scripts/docker-engine.sh);
#   3. npm dependencies, exactly as locked (`npm ci`), and the token service's bundle;
#   4. the Pulumi CLI and plugins at the locked versions (scripts/toolchain.sh);
#   5. the images named (scripts/images.sh IMAGE...), built while 3 and 4 run.
#
#   scripts/setup.sh [--tests] [IMAGE...]
#
# ./scripts/up.sh names the images of the stack it brings up. --tests prepares the machine for the
# tests and the benchmarks as well: the Debian packages they use, the OCI conformance suite, the
# Pulumi YAML language host and the SDK generator (scripts/toolchain.sh oci-conformance
# pulumi-language-yaml pulumi-sdkgen), and every image they run (scripts/images.sh with no
# IMAGE); scripts/test.sh runs it so.
# Slow artefacts are cached in $AUTHREG_CACHE_DIR, outside the checkout; a warm run takes seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
cd "$here/.."

tests=false
images=()
for arg in "$@"; do
  case $arg in
    --tests) tests=true ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) die "unknown option $arg (expected --tests)" ;;
    *) images+=("$arg") ;;
  esac
done

# The set-up's: debootstrap builds the images' root file systems; ca-certificates lets Go fetch
# modules over HTTPS.
packages=(debootstrap ca-certificates)
# The tests': nginx, `nginx -t` of the rendered config; apache2-utils, `htpasswd -vb`; curl and
# openssl, the end-to-end checks; wrk, the request-rate benchmark; shellcheck, the linter of
# scripts/lint-shell.sh and of the workflows' run: scripts; python3 and python3-venv, the Python
# SDK's check (scripts/sdks.sh).
if $tests; then packages+=(nginx apache2-utils curl openssl wrk shellcheck python3 python3-venv); fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "Installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

"$here/docker-engine.sh"

# The images are built from Debian packages and, for registry 3 and MinIO, a Go program: mostly
# downloads, disk and compression, so they are built beside the toolchain's compilation rather
# than after it. Their lines are marked "images:".
if $tests || ((${#images[@]})); then
  if $tests; then images=(); fi
  { "$here/images.sh" "${images[@]}" 2>&1 | sed -u 's/^/images: /' >&2; exit "${PIPESTATUS[0]}"; } &
  images_pid=$!
fi

{
  if [[ package-lock.json -nt node_modules/.package-lock.json || ! -d node_modules ]]; then
    log "Installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund
  else
    log "npm dependencies are up to date"
  fi
  # The token service as one file (bin/token-service.js), which token-mode stacks upload; esbuild takes a moment.
  node scripts/bundle-token-service.js
  "$here/toolchain.sh"
  if $tests; then "$here/toolchain.sh" oci-conformance pulumi-language-yaml pulumi-sdkgen; fi
} &
toolchain_pid=$!

# Both are waited for, whichever fails first: nothing is left running.
toolchain_status=0 images_status=0
wait "$toolchain_pid" || toolchain_status=$?
if [[ -n ${images_pid:-} ]]; then wait "$images_pid" || images_status=$?; fi
((toolchain_status == 0)) || die "the npm dependencies or the toolchain failed (above)"
((images_status == 0)) || die "building the images failed (above, the lines marked images:)"
