#!/usr/bin/env bash
# Makes the Pulumi engine this project needs available, built from Go modules into a cache outside
# the checkout, and registers the resource plugins with the engine (in $PULUMI_HOME, lib.sh):
#   pulumi v$PULUMI_VERSION, pulumi-language-nodejs, pulumi-analyzer-policy,
#   pulumi-resource-docker $PULUMI_DOCKER_VERSION, -tls $PULUMI_TLS_VERSION, -random $PULUMI_RANDOM_VERSION
# into $AUTHREG_CACHE_DIR/toolchain/v$PULUMI_VERSION/bin (source scripts/env.sh to use it).
# Named, it builds one of the other Go programs instead, into the same directory, and nothing else.
#
# Usage: scripts/toolchain.sh [--force] [PROGRAM...]
#   (no PROGRAM)           the engine and its plugins, what every stack needs
#   distribution-registry  the registry 3 image's binary (scripts/images.sh asks for it)
#   minio                  the MinIO image's binary (scripts/images.sh asks for it)
#   oci-conformance        the conformance suite the end-to-end tests run (scripts/setup.sh --tests)
#   --force                rebuilds what is asked for
#
# The machines reach package registries only (no GitHub releases, no get.pulumi.com), so each binary
# is compiled from a small wrapper module under scripts/toolchain/NAME/ whose go.mod and go.sum pin
# every dependency. What each one is built from, and where that differs from upstream's build:
#   pulumi                  github.com/pulumi/pulumi/pkg/v3 ./cmd/pulumi at v$PULUMI_VERSION, upstream flags.
#   pulumi-language-nodejs  The module upstream builds it from (.../sdk/nodejs/cmd/pulumi-language-nodejs/v3)
#                           is refused by the module proxy (its version list and the release commit).
#                           Built instead from the package sources of the last release where the host
#                           was part of sdk/v3 (v3.68.0), with scripts/toolchain/pulumi-language-nodejs/
#                           runplugin.go in place of its RunPlugin stub, so that policy packs run. The
#                           engine still speaks its protocol (it falls back from GetRequiredPackages to
#                           GetRequiredPlugins) and @pulumi/pulumi's run script still takes its flags.
#                           It reports version 3.68.0 and ignores Pulumi.yaml's runtime options (it
#                           uses its defaults: TypeScript on, npm).
#   pulumi-resource-*       The providers' own modules (github.com/pulumi/pulumi-NAME/provider/vN) are
#                           refused by the proxy too. Each wrapper re-creates the provider's thin Pulumi
#                           layer: the upstream Terraform provider, served through
#                           pulumi-terraform-bridge v3.120.0 (the newest the proxy serves), with the
#                           resource tokens and names of the npm SDK of the same version. The schema
#                           is generated at build time by the bridge's tfgen and checked against the
#                           installed npm SDK (scripts/toolchain/check-sdk-names.js) when it is there.
#       random   terraform-provider-random at the commit pulumi-random 4.21.1 pins: same provider.
#       tls      terraform-provider-tls 4.0.4 (2023-02, the newest commit the proxy serves; the
#                checksum database lacks it, so go.sum records its hash): no max_path_length.
#       docker   kreuzwerker/terraform-provider-docker v4.6.0 (2026-09, pulumi-docker 5.0.0 used
#                v4.2.0, which the proxy refuses), its SDKv2 part, built with no_compose. Everything
#                the SDK reaches through Terraform is there; docker.Image, which pulumi-docker
#                implements natively (BuildKit), is not.
#   pulumi-analyzer-policy  the launcher script of the official CLI archive (scripts/toolchain/).
#   distribution-registry   github.com/distribution/distribution/v3 ./cmd/registry at v3.1.2 (needs Go 1.26):
#                           the binary of the registry 3 stand-in image (scripts/images.sh).
#   oci-conformance         github.com/opencontainers/distribution-spec/conformance, the OCI
#                           distribution conformance suite's runner, for the end-to-end suite.
#   minio                   github.com/minio/minio at v0.0.0-20260212201848-7aac2a2c5b7c, the
#                           S3-compatible server of the MinIO stand-in image that the object
#                           storage tests run (about 1 min warm, 2 to 3 min with a cold module cache).
#
# A binary is rebuilt only when it is missing or its recipe (the wrapper's files and version) changed;
# a binary of the right version already on PATH is used instead of building. A warm run takes seconds.
# Go's module and build caches are the default ones (outside the checkout) and are reused.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

# The Go programs built from a module their wrapper requires, and that module's package.
declare -A go_programs=(
  [distribution-registry]=github.com/distribution/distribution/v3/cmd/registry
  [oci-conformance]=github.com/opencontainers/distribution-spec/conformance
  [minio]=github.com/minio/minio
)

force=false
programs=()
for arg in "$@"; do
  case $arg in
    --force) force=true ;;
    *)
      [[ -n ${go_programs[$arg]:-} ]] || die "usage: $0 [--force] [${!go_programs[*]}]..."
      programs+=("$arg")
      ;;
  esac
done

recipes=$here/toolchain
toolchain_dir=$AUTHREG_CACHE_DIR/toolchain
bin_dir=$toolchain_dir/v$PULUMI_VERSION/bin
src_dir=$toolchain_dir/src
log_dir=$toolchain_dir/logs
stamp_dir=$bin_dir/.stamps
# Where the engine looks plugins up: lib.sh's PULUMI_HOME, under $HOME unless the caller set one.
pulumi_home=$PULUMI_HOME
repo_root=$(cd "$here/.." && pwd)
mkdir -p "$bin_dir" "$src_dir" "$log_dir" "$stamp_dir"

# Deterministic, offline-friendly Go settings. go.sum is complete, so nothing is resolved anew and
# the checksum database is not consulted for modules go.sum already lists.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

# ---------------------------------------------------------------------------------------------
# helpers

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"; }

check_prerequisites() {
  need go "install Go >= 1.25.11 (the wrapper modules need it)"
  need node "install Node.js 20 (schema stamping, policy packs and the programs themselves need it)"
  need sha256sum "install coreutils"
  local have; have=$(go env GOVERSION); have=${have#go}
  if [[ $(printf '%s\n%s\n' 1.25.11 "$have" | sort -V | head -n1) != 1.25.11 ]]; then
    die "Go $have is too old: the wrapper modules need Go >= 1.25.11 (GOTOOLCHAIN=local, no download)"
  fi
  grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION\$" "$recipes/pulumi/go.mod" \
    || die "scripts/toolchain/pulumi/go.mod does not pin pkg/v3 v$PULUMI_VERSION (lib.sh's PULUMI_VERSION): update it"
}

# Fingerprint of a recipe: its files plus the version it is built as. A stamp holds the fingerprint
# of what the binary in bin/ was built from.
recipe_key() { # NAME VERSION
  (cd "$recipes/$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "version $2") \
    | sha256sum | cut -d' ' -f1
}
stamp_matches() { [[ -f $stamp_dir/$1 && $(cat "$stamp_dir/$1") == "$2" ]]; }
write_stamp() { printf '%s\n' "$2" >"$stamp_dir/$1"; }

# Fresh copy of a recipe into the cache, where it is built (generated files stay out of the checkout).
prepare_src() { # NAME
  local dst=$src_dir/$1
  rm -rf "$dst"
  mkdir -p "$dst"
  cp -R "$recipes/$1/." "$dst/"
  chmod -R u+w "$dst"
}

# Long steps run through lib.sh's run_logged with their output in logs/NAME.log and a heartbeat
# on the terminal; on failure it shows the end of the log without Go's download lines:
#   run_logged "${go_log[@]}" LABEL "$log_dir/NAME.log" CMD...
go_log=(-n 25 -v '^go: downloading')

install_binary() { # BUILT_FILE NAME: atomically into bin/
  chmod +x "$1"
  mv -f "$1" "$bin_dir/$2"
}

pulumi_version_of() { timeout 20 "$1" version 2>/dev/null | head -n1 || true; }
# Bridged providers answer -version; anything else would start serving, hence the timeout.
provider_version_of() { timeout 10 "$1" -version 2>/dev/null | head -n1 || true; }

# A binary of NAME on PATH, outside bin/, if any.
on_path() {
  local p
  p=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$bin_dir" | paste -sd: -) command -v "$1" 2>/dev/null) || return 1
  [[ -x $p ]] && printf '%s\n' "$p"
}

adopt() { # PATH_TO_BINARY NAME: use an existing binary instead of building one
  ln -sfn "$1" "$bin_dir/$2"
  write_stamp "$2" "external $1"
  step "$2: using $1"
}

# ---------------------------------------------------------------------------------------------
# the binaries

ensure_pulumi() {
  local key; key=$(recipe_key pulumi "$PULUMI_VERSION")
  if ! $force && [[ -x $bin_dir/pulumi ]] && [[ $(pulumi_version_of "$bin_dir/pulumi") == "v$PULUMI_VERSION" ]] \
      && { stamp_matches pulumi "$key" || grep -q '^external ' "$stamp_dir/pulumi" 2>/dev/null; }; then
    step "pulumi v$PULUMI_VERSION: up to date"; return
  fi
  local found
  if ! $force && found=$(on_path pulumi) && [[ $(pulumi_version_of "$found") == "v$PULUMI_VERSION" ]]; then
    adopt "$found" pulumi
    # An official install keeps its language host next to the CLI.
    if [[ -x $(dirname "$found")/pulumi-language-nodejs ]]; then adopt "$(dirname "$found")/pulumi-language-nodejs" pulumi-language-nodejs; fi
    return
  fi
  log "Building pulumi v$PULUMI_VERSION (cold: about 3 min on 2 cores)"
  : >"$log_dir/pulumi.log"
  prepare_src pulumi
  local start=$SECONDS
  run_logged "${go_log[@]}" "go build pulumi" "$log_dir/pulumi.log" \
    go -C "$src_dir/pulumi" build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$src_dir/pulumi/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  install_binary "$src_dir/pulumi/pulumi" pulumi
  [[ $(pulumi_version_of "$bin_dir/pulumi") == "v$PULUMI_VERSION" ]] \
    || die "the pulumi just built reports '$(pulumi_version_of "$bin_dir/pulumi")', not v$PULUMI_VERSION"
  write_stamp pulumi "$key"
  step "pulumi: built in $((SECONDS - start)) s"
}

ensure_language_host() {
  local host_version=3.68.0 key
  key=$(recipe_key pulumi-language-nodejs "$host_version")
  if ! $force && [[ -x $bin_dir/pulumi-language-nodejs ]] \
      && { stamp_matches pulumi-language-nodejs "$key" || grep -q '^external ' "$stamp_dir/pulumi-language-nodejs" 2>/dev/null; }; then
    step "pulumi-language-nodejs: up to date"; return
  fi
  log "Building pulumi-language-nodejs (from sdk/v3 v$host_version)"
  : >"$log_dir/pulumi-language-nodejs.log"
  prepare_src pulumi-language-nodejs
  local src=$src_dir/pulumi-language-nodejs start=$SECONDS
  # The host's package sources as the module has them, less their RunPlugin stub, plus runplugin.go.
  run_logged "${go_log[@]}" "go mod download sdk/v3" "$log_dir/pulumi-language-nodejs.log" \
    go -C "$src" mod download github.com/pulumi/pulumi/sdk/v3
  local pkg; pkg=$(go -C "$src" list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)/nodejs/cmd/pulumi-language-nodejs
  find "$pkg" -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec cp {} "$src/" \;
  chmod u+w "$src"/*.go
  awk '/^func \(host \*nodeLanguageHost\) RunPlugin\(/ { skip = 1 } !skip { print } skip && /^}$/ { skip = 0 }' \
    "$src/main.go" >"$src/main.go.new" && mv "$src/main.go.new" "$src/main.go"
  if grep -q 'nodeLanguageHost) RunPlugin(' "$src/main.go"; then die "could not take RunPlugin out of $pkg/main.go"; fi
  run_logged "${go_log[@]}" "go build pulumi-language-nodejs" "$log_dir/pulumi-language-nodejs.log" \
    go -C "$src" build -trimpath \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$host_version" \
      -o "$src/pulumi-language-nodejs" .
  install_binary "$src/pulumi-language-nodejs" pulumi-language-nodejs
  write_stamp pulumi-language-nodejs "$key"
  step "pulumi-language-nodejs: built in $((SECONDS - start)) s"
}

ensure_analyzer_launcher() {
  if ! cmp -s "$recipes/pulumi-analyzer-policy" "$bin_dir/pulumi-analyzer-policy" 2>/dev/null; then
    cp "$recipes/pulumi-analyzer-policy" "$bin_dir/pulumi-analyzer-policy.tmp"
    install_binary "$bin_dir/pulumi-analyzer-policy.tmp" pulumi-analyzer-policy
  fi
  step "pulumi-analyzer-policy: in place"
}

# A bridged provider: build the wrapper's tfgen, generate the schema, stamp the version into it,
# check it against the npm SDK if installed, then build the provider that embeds it.
ensure_provider() { # NAME VERSION [GO BUILD TAGS]
  local name=$1 version=$2 tags=${3:-} bin=pulumi-resource-$1 key found
  key=$(recipe_key "$name" "$version")
  if ! $force && [[ -x $bin_dir/$bin ]] && [[ $(provider_version_of "$bin_dir/$bin") == "$version" ]] \
      && { stamp_matches "$bin" "$key" || grep -q '^external ' "$stamp_dir/$bin" 2>/dev/null; }; then
    step "$bin $version: up to date"; return
  fi
  if ! $force && found=$(on_path "$bin") && [[ $(provider_version_of "$found") == "$version" ]]; then
    adopt "$found" "$bin"; return
  fi
  log "Building $bin $version"
  : >"$log_dir/$bin.log"
  prepare_src "$name"
  local src=$src_dir/$name start=$SECONDS
  local -a tag_args=()
  if [[ -n $tags ]]; then tag_args=(-tags "$tags"); fi
  run_logged "${go_log[@]}" "go build pulumi-tfgen-$name" "$log_dir/$bin.log" \
    go -C "$src" build -trimpath "${tag_args[@]}" -o "$src/pulumi-tfgen-$name" "./cmd/pulumi-tfgen-$name"
  # Docs and examples are not needed at run time (and converting examples needs a pulumi on PATH).
  run_logged "${go_log[@]}" "generate the $name schema" "$log_dir/$bin.log" \
    "$src/pulumi-tfgen-$name" schema --skip-docs --skip-examples --out "$src/gen"
  rm -f "$src/pulumi-tfgen-$name" # 70-120 MB, needed only for the schema
  node -e '
    const fs = require("fs");
    const [src, dst, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(src, "utf8"));
    schema.version = version;
    fs.writeFileSync(dst, JSON.stringify(schema));
  ' "$src/gen/schema.json" "$src/cmd/$bin/schema-embed.json" "$version"
  cp "$src/gen/bridge-metadata.json" "$src/cmd/$bin/bridge-metadata.json"
  check_sdk_names "$name" "$version" "$src/gen/schema.json"
  run_logged "${go_log[@]}" "go build $bin" "$log_dir/$bin.log" \
    go -C "$src" build -trimpath "${tag_args[@]}" -ldflags "-X main.Version=$version" \
      -o "$src/$bin" "./cmd/$bin"
  install_binary "$src/$bin" "$bin"
  [[ $(provider_version_of "$bin_dir/$bin") == "$version" ]] \
    || die "the $bin just built reports '$(provider_version_of "$bin_dir/$bin")', not $version"
  write_stamp "$bin" "$key"
  step "$bin: built in $((SECONDS - start)) s"
}

# A Go program built from a module its wrapper requires (go.mod and go.sum pin it and everything
# it imports): the registry 3 stand-in's binary and the OCI conformance suite.
ensure_go_program() { # NAME PACKAGE
  local name=$1 package=$2 key start=$SECONDS
  key=$(recipe_key "$name" "$package")
  if ! $force && [[ -x $bin_dir/$name ]] && { stamp_matches "$name" "$key" || grep -q '^external ' "$stamp_dir/$name" 2>/dev/null; }; then
    step "$name: up to date"; return
  fi
  local found
  if ! $force && found=$(on_path "$name"); then
    adopt "$found" "$name"; return
  fi
  log "Building $name ($package)"
  : >"$log_dir/$name.log"
  prepare_src "$name"
  run_logged "${go_log[@]}" "go build $name" "$log_dir/$name.log" \
    go -C "$src_dir/$name" build -trimpath -o "$src_dir/$name/$name" "$package"
  install_binary "$src_dir/$name/$name" "$name"
  write_stamp "$name" "$key"
  step "$name: built in $((SECONDS - start)) s"
}

# The engine and the npm SDK must agree on tokens and property names. Differences that are known
# and accepted are listed in scripts/toolchain/NAME/sdk-differences.txt.
check_sdk_names() { # NAME VERSION SCHEMA
  local sdk=$repo_root/node_modules/@pulumi/$1 sdk_version
  if [[ ! -f $sdk/package.json ]]; then
    step "$1: npm SDK not installed, schema not checked against it (run npm ci first to check)"; return
  fi
  sdk_version=$(node -p 'require(process.argv[1]).version' "$sdk/package.json")
  if [[ $sdk_version != "$2" ]]; then
    step "$1: installed npm SDK is $sdk_version, not $2: schema not checked against it"; return
  fi
  node "$recipes/check-sdk-names.js" "$3" "$sdk" "$recipes/$1/sdk-differences.txt" \
    || die "the $1 schema does not match @pulumi/$1 $2 (see above; accepted differences go in scripts/toolchain/$1/sdk-differences.txt)"
}

# Registers a provider with the engine under its exact version (the version the npm package's
# package.json names), unless that version is registered already.
register_plugin() { # NAME VERSION
  local name=$1 version=$2
  local dir=$pulumi_home/plugins/resource-$name-v$version
  local built; built=$(readlink -f "$bin_dir/pulumi-resource-$name")
  local sum; sum=$(sha256sum "$built" | cut -d' ' -f1)
  if [[ -f $dir/pulumi-resource-$name && ! -e $dir.partial ]]; then
    if cmp -s "$dir/pulumi-resource-$name" "$built"; then
      step "plugin $name $version: registered"; return
    fi
    if [[ ! -f $dir/.authreg-toolchain ]]; then
      step "plugin $name $version: registered already (not by this script), kept"; return
    fi
  fi
  PULUMI_HOME=$pulumi_home "$bin_dir/pulumi" plugin install resource "$name" "$version" \
    --file "$built" --reinstall >>"$log_dir/plugins.log" 2>&1 \
    || { tail -n 20 "$log_dir/plugins.log" >&2; die "pulumi plugin install resource $name $version failed"; }
  [[ -f $dir/pulumi-resource-$name ]] || die "plugin $name $version is not under $dir after installing it"
  printf '%s\n' "$sum" >"$dir/.authreg-toolchain"
  step "plugin $name $version: registered in $pulumi_home"
}

# ---------------------------------------------------------------------------------------------

main() {
  local start=$SECONDS name
  check_prerequisites
  if ((${#programs[@]})); then
    for name in "${programs[@]}"; do ensure_go_program "$name" "${go_programs[$name]}"; done
    return
  fi
  log "Toolchain in $bin_dir"
  ensure_pulumi
  ensure_language_host
  ensure_analyzer_launcher
  ensure_provider random "$PULUMI_RANDOM_VERSION"
  ensure_provider tls "$PULUMI_TLS_VERSION"
  ensure_provider docker "$PULUMI_DOCKER_VERSION" no_compose

  log "Registering the resource plugins"
  export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  register_plugin random "$PULUMI_RANDOM_VERSION"
  register_plugin tls "$PULUMI_TLS_VERSION"
  register_plugin docker "$PULUMI_DOCKER_VERSION"

  log "Toolchain ready in $((SECONDS - start)) s"
  printf 'bin dir: %s\n' "$bin_dir"
  printf 'pulumi version: %s\n' "$("$bin_dir/pulumi" version)"
}

main
