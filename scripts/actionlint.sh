#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml, *.yaml) with actionlint and exits
# non-zero on any finding.
#   scripts/actionlint.sh [ACTIONLINT_FLAGS...]
# actionlint is built from its Go module (through the Go module proxy) at a pinned version into
# $AUTHREG_CACHE_DIR/tools/actionlint-VERSION, once; later runs reuse that binary. `run:` scripts
# are checked with shellcheck, which must be on PATH (Debian package `shellcheck`, which
# scripts/setup.sh --tests installs).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
cd "$here/.."

ACTIONLINT_VERSION=v1.7.12
actionlint=$AUTHREG_CACHE_DIR/tools/actionlint-$ACTIONLINT_VERSION

if [[ ! -x $actionlint ]]; then
  command -v go >/dev/null || die "building actionlint $ACTIONLINT_VERSION needs Go (https://go.dev/dl/)"
  log "Building actionlint $ACTIONLINT_VERSION from its Go module"
  mkdir -p "$AUTHREG_CACHE_DIR/tools"
  gobin=$(mktemp -d "$AUTHREG_CACHE_DIR/tools/.actionlint-build.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  # Outside any module, `go install PKG@VERSION` builds exactly the module's own go.mod/go.sum.
  (cd "$gobin" && GOBIN=$gobin GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
    with_heartbeat "go install actionlint" \
    go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION") \
    || die "go install github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION failed"
  # Renamed into place only once complete, so an interrupted build is never taken as cached.
  mv -f "$gobin/actionlint" "$actionlint"
  rm -rf "$gobin"
  trap - EXIT
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
shopt -u nullglob
((${#workflows[@]})) || die "no workflow files in .github/workflows"

shellcheck=$(command -v shellcheck) \
  || die "shellcheck is not installed: apt-get install shellcheck (Debian package shellcheck; scripts/setup.sh --tests installs it)"
flags=(-shellcheck "$shellcheck")

log "actionlint $ACTIONLINT_VERSION: ${workflows[*]}"
"$actionlint" "${flags[@]}" "$@" "${workflows[@]}" || die "actionlint found problems in the workflows"
step "workflows lint clean"
