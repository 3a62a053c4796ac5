#!/bin/bash
# Instructions per request of the gateway in process (bench/gateway/instructions.ts), counted by
# callgrind between two markers, so start-up and warm-up are left out.
# Usage: bench/gateway/callgrind.sh OUTDIR [ROOT] [instructions.ts args...]
#   ROOT: the checkout whose src/ runs (default: this one), e.g. main unpacked with `git archive`.
set -euo pipefail
out=$1
root=${2:-.}
shift 2 || shift $#
mkdir -p "$out"
here=$(cd "$(dirname "$0")/../.." && pwd)
log="$out/stdout"
# The same driver in the other checkout, so that it loads that checkout's gateway.
[ "$(cd "$root" && pwd)" = "$here" ] || cp "$here/bench/gateway/instructions.ts" "$root/bench/gateway/"
(cd "$root" && BENCH_MARKER_WAIT=3000 valgrind --tool=callgrind --smc-check=all-non-file \
  --callgrind-out-file="$out/callgrind.out" node --import tsx bench/gateway/instructions.ts "$@" \
  >"$log" 2>"$out/valgrind.log") &
job=$!
pid=''
dumped=0
while kill -0 $job 2>/dev/null; do
  [ -z "$pid" ] && pid=$(grep -o '^==[0-9]*==' "$out/valgrind.log" 2>/dev/null | head -1 | tr -d '=' || true)
  if [ $dumped = 0 ] && grep -q '^measuring' "$log" 2>/dev/null; then
    callgrind_control --dump=warm "$pid" >/dev/null && dumped=1
  elif [ $dumped = 1 ] && grep -q '^measured' "$log" 2>/dev/null; then
    callgrind_control --dump=measured "$pid" >/dev/null && dumped=2
  fi
  sleep 0.5
done
cat "$log"
for f in "$out"/callgrind.out*; do
  echo "$f: $(grep -m1 '^summary:\|^totals:' "$f" || true) $(grep -m1 '^desc: Trigger' "$f" || true)"
done
