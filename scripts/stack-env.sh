# shellcheck shell=bash
# Sourced with a stack name: puts the toolchain (and Node.js 22, when installed) on PATH, points
# Pulumi at the local state backend and at its folder under $HOME (lib.sh), provides the stack's
# passphrase and selects (or creates) the stack.
#   source scripts/stack-env.sh [STACK]
_authreg_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$_authreg_here/lib.sh"
# shellcheck source=env.sh
source "$_authreg_here/env.sh"
_authreg_stack=${1:-dev}

# The stack program runs on the pinned Node.js 22 LTS when the set-up has put it in the cache
# (scripts/node-lts.sh; the token service's image needs it too), else on the machine's node.
_authreg_node=$AUTHREG_CACHE_DIR/node/v$("$_authreg_here/node-lts.sh" --version 22)/bin
if [[ -x $_authreg_node/node ]]; then
  case ":$PATH:" in
    ":$_authreg_node:"*) ;;
    *) export PATH="$_authreg_node:$PATH" ;;
  esac
fi

# The backend is lib.sh's PULUMI_BACKEND_URL: $AUTHREG_STATE_DIR, the caller's PULUMI_BACKEND_URL,
# or by default $HOME/.local/state/authenticated-registry. A local one is made if missing.
_authreg_state=${PULUMI_BACKEND_URL%%\?*}
if [[ $_authreg_state == file:///* ]]; then
  mkdir -p "${_authreg_state#file://}"
fi

if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  _authreg_pass=$(stack_passphrase_file "$_authreg_stack")
  if [[ ! -s $_authreg_pass ]]; then
    mkdir -p "$(dirname "$_authreg_pass")"
    (umask 077 && head -c 32 /dev/urandom | base64 >"$_authreg_pass")
    step "generated the passphrase of stack $_authreg_stack in $_authreg_pass"
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$_authreg_pass
fi

(cd "$_authreg_here/.." && { pulumi stack select "$_authreg_stack" --non-interactive 2>/dev/null \
  || pulumi stack init "$_authreg_stack" --secrets-provider passphrase --non-interactive; }) >&2 \
  || die "could not select or create stack $_authreg_stack in $PULUMI_BACKEND_URL"
unset _authreg_here _authreg_stack _authreg_pass _authreg_node _authreg_state
