#!/usr/bin/env bash
# Lints every shell script (*.sh under scripts/ and bench/) with shellcheck and exits non-zero on
# any finding. Settings, such as following `source`d files, are in .shellcheckrc.
#   scripts/lint-shell.sh [SHELLCHECK_FLAGS...]
# It needs shellcheck (Debian package `shellcheck`; scripts/setup.sh --tests installs it) and fails without it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
cd "$here/.."

command -v shellcheck >/dev/null 2>&1 \
  || die "shellcheck is not installed: apt-get install shellcheck (Debian package shellcheck; scripts/setup.sh --tests installs it)"

mapfile -t files < <(find scripts bench -type f -name '*.sh' | LC_ALL=C sort)
((${#files[@]})) || die "no shell scripts under scripts/ or bench/"

log "shellcheck $(shellcheck --version | awk '/^version:/ { print $2 }'): ${#files[@]} scripts"
shellcheck "$@" "${files[@]}" || die "shellcheck found problems in the shell scripts"
step "shell scripts lint clean"
