# shellcheck shell=bash
# Shared by the benchmark scripts (bench/*.sh); sourced, not run, after scripts/lib.sh (for die).

# Where the benchmarks write their results files.
# shellcheck disable=SC2034 # read by the scripts that source this file
RESULTS_DIR=${BENCH_RESULTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/results}

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

# True when nothing listens on TCP port PORT.
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; } # PORT

# The median of the numbers on stdin, one a line; nothing for none.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Monolithic upload: POST opens an upload, PUT sends the whole blob with its digest.
# Prints "seconds" (POST + PUT) or stops on an unexpected answer.
upload_blob() { # BASE FILE DIGEST REPO CURL_OPTS...
  local base=$1 file=$2 digest=$3 name=$4 out loc code t1 t2 sep; shift 4
  out=$(curl -sS "$@" -X POST -o /dev/null -D - -w '\n%{http_code} %{time_total}' "$base/v2/$name/blobs/uploads/") \
    || die "POST $base/v2/$name/blobs/uploads/ failed"
  read -r code t1 <<<"$(tail -n1 <<<"$out")"
  [[ $code == 202 ]] || die "POST $base/v2/$name/blobs/uploads/ answered $code"
  loc=$(tr -d '\r' <<<"$out" | awk 'tolower($1) == "location:" { print $2 }')
  [[ $loc == http* ]] || loc=$base$loc
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  # No "Expect: 100-continue" round trip, to time the transfer itself (both paths alike).
  read -r code t2 <<<"$(curl -sS "$@" -X PUT -H 'Expect:' -H 'Content-Type: application/octet-stream' \
    -T "$file" -o /dev/null -w '%{http_code} %{time_total}' "$loc${sep}digest=$digest")"
  [[ $code == 201 ]] || die "PUT of $file to $base answered $code"
  awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.4f", a + b }'
}

# The requests per second of the wrk run whose output is in LOG; stops, showing it, if wrk saw
# an error or an answer other than 2xx.
wrk_requests_per_second() { # LOG [WHAT]
  if grep -qE 'Non-2xx|Socket errors' "$1"; then
    cat "$1" >&2
    die "wrk saw errors or non-2xx answers${2:+ on $2}"
  fi
  awk '/^Requests\/sec:/ { print $2 }' "$1"
}

# The same for bench/load.js, whose JSON line is in LOG: every answer must be 200. WHAT names
# the load in the message [load.js].
load_requests_per_second() { # LOG [WHAT]
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const bad = Object.keys(r.statuses).filter((s) => s !== "200");
    if (r.errors || bad.length || !r.requests) { console.error(JSON.stringify(r)); process.exit(1); }
    console.log(r.rps.toFixed(2));' "$1" || die "${2:-load.js} saw errors"
}
