#!/usr/bin/env bash
# The main job: brings the dev stack up on this machine's Docker engine.
#
#   ./scripts/up.sh [--trust-ca] [STACK]      (STACK defaults to dev)
#
# A stack with `runtime: swarm` (Pulumi.swarm.yaml) runs on Docker Swarm: when this engine is in
# no swarm, it becomes a single-node swarm advertised on loopback only, and a stack with
# filesystem storage and no placement constraint is pinned to this node. A stack with
# `runtime: kubernetes` (Pulumi.kubernetes.yaml) runs on the cluster the Kubernetes provider is
# pointed at (KUBECONFIG, or the stack's kubernetes:kubeconfig); this machine's single-node test
# cluster is one: export KUBECONFIG=$(scripts/kube-node.sh up).
#
# It sets the machine up (scripts/setup.sh), selects or creates the stack in the local state
# backend, builds the images the stack runs (nginx, Node.js, and the registry image its
# configuration names; scripts/images.sh), runs `pulumi up`, and prints the registry URL, how to
# trust its CA and how to read the generated password. --trust-ca also installs the CA for the
# docker client (/etc/docker/certs.d/HOST:PORT/ca.crt; needs root).
#
# State lives in a local file backend ($AUTHREG_STATE_DIR, default
# $HOME/.local/state/authenticated-registry), never in Pulumi Cloud, and the plugins in
# $PULUMI_HOME (default $HOME/.pulumi), both under $HOME whatever the account's passwd entry says.
# Secrets in state are encrypted with a passphrase: PULUMI_CONFIG_PASSPHRASE or
# PULUMI_CONFIG_PASSPHRASE_FILE if you set one, otherwise a random passphrase generated once into
# ~/.config/authenticated-registry/STACK.passphrase (mode 600). Keep that file: without it the
# stack's secrets cannot be read.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

trust_ca=false
stack=dev
for arg in "$@"; do
  case $arg in
    --trust-ca) trust_ca=true ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) die "unknown option $arg (expected --trust-ca)" ;;
    *) stack=$arg ;;
  esac
done

# Checked before anything is done: without root, leave out --trust-ca; the end prints the commands.
if $trust_ca; then need_root "--trust-ca (it writes /etc/docker/certs.d)" "sudo $0 --trust-ca $stack"; fi

# The images the stack runs are built beside the toolchain (scripts/setup.sh).
mapfile -t images < <(stack_images "$stack")
"$here/setup.sh" "${images[@]}"
# shellcheck source=stack-env.sh
source "$here/stack-env.sh" "$stack"

case $(pulumi config get runtime --stack "$stack" 2>/dev/null || true) in
  swarm)
    ensure_single_node_swarm
    pin_swarm_stack "$stack"
    ;;
  # The Kubernetes provider is built only for the stacks that use it (about 8 min cold on 2 cores).
  kubernetes) "$here/toolchain.sh" kubernetes-provider ;;
esac

log "pulumi up ($stack)"
# No preview first: it would evaluate the program a second time, and --yes would not wait for a
# reader anyway. Review changes with `npm run preview` (or in the pull request) instead.
pulumi up --yes --skip-preview --stack "$stack"

host=$(pulumi stack output host --stack "$stack")
url=$(pulumi stack output url --stack "$stack")
ca_file=$AUTHREG_CACHE_DIR/$stack-ca.crt
pulumi stack output caCertificatePem --stack "$stack" >"$ca_file"
if $trust_ca; then
  log "Trusting the registry CA for the docker client"
  mkdir -p "/etc/docker/certs.d/$host"
  cp "$ca_file" "/etc/docker/certs.d/$host/ca.crt"
fi

users=$(pulumi stack output passwords --show-secrets --json --stack "$stack" | node -e 'console.log(Object.keys(JSON.parse(require("fs").readFileSync(0,"utf8"))).join(" "))')
cat <<MSG

The registry is up at $url (users: $users).

Trust its CA for the docker client ($( $trust_ca && echo "done" || echo "or rerun with --trust-ca")):
  sudo mkdir -p /etc/docker/certs.d/$host
  sudo cp $ca_file /etc/docker/certs.d/$host/ca.crt

Read a password and log in:
  source scripts/stack-env.sh $stack
  pulumi stack output passwords --show-secrets --json
  docker login $host --username ${users%% *}

Tear it down (the data volume is kept): ./scripts/down.sh $stack
MSG
