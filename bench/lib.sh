# shellcheck shell=bash
# Shared by the benchmark scripts (bench/run.sh, bench/token.sh); sourced, not run.

# Writes to DIR a build context of the multi-layer image the push benchmarks use: FROM scratch
# and six COPY layers of fresh random data, 1, 2, 4, 8, 16 and 32 MiB (63 MiB in all).
six_layer_context() { # DIR
  local ctx=$1 i
  rm -rf "$ctx"
  mkdir -p "$ctx"
  printf 'FROM scratch\n' >"$ctx/Dockerfile"
  for i in 1 2 4 8 16 32; do
    head -c $((i * 1048576)) /dev/urandom >"$ctx/layer-$i"
    printf 'COPY layer-%s /layer-%s\n' "$i" "$i" >>"$ctx/Dockerfile"
  done
}
