# shellcheck shell=bash
# Sourced, not run: puts the toolchain that scripts/toolchain.sh builds first on PATH and keeps the
# engine offline (no update check, no plugin downloads: a missing plugin fails at once).
# pulumi reports v$PULUMI_VERSION, so the Automation API's version check passes as it is.
#   source scripts/env.sh
# Pulumi's folder and the state backend follow $HOME (PULUMI_HOME, PULUMI_BACKEND_URL: lib.sh);
# the passphrase and the stack are the caller's business (see scripts/stack-env.sh).

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

AUTHREG_TOOLCHAIN_BIN=$AUTHREG_CACHE_DIR/toolchain/v$PULUMI_VERSION/bin
export AUTHREG_TOOLCHAIN_BIN
case ":${PATH:-}:" in
  ":$AUTHREG_TOOLCHAIN_BIN:"*) ;;
  *) export PATH="$AUTHREG_TOOLCHAIN_BIN${PATH:+:$PATH}" ;;
esac
if [[ ! -x $AUTHREG_TOOLCHAIN_BIN/pulumi ]]; then
  printf 'warning: %s has no pulumi: run scripts/toolchain.sh\n' "$AUTHREG_TOOLCHAIN_BIN" >&2
fi

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The provider binaries are in the bin dir too; without this the engine would take them from PATH
# whatever version a program asks for, and warn "using pulumi-resource-X from $PATH" on every run.
# With it, it uses the plugins toolchain.sh registered under their exact versions.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
# The program is transpiled, not type-checked, at every preview and up: that is 3 to 4 s of each
# (BENCHMARKS.md), and `npm run lint` (tsc, strict) type-checks it in CI and before a commit.
export PULUMI_NODEJS_TRANSPILE_ONLY=true
# Node.js 22 and later keep the compiled code of every module they load here and reuse it: the
# SDK, the providers' modules and TypeScript load in a fraction of the time on every run after the
# first (a no-op preview: 2.05 s without, 1.8 s with; BENCHMARKS.md). Node.js 20 ignores it.
export NODE_COMPILE_CACHE=${NODE_COMPILE_CACHE:-$AUTHREG_CACHE_DIR/node-compile-cache}
