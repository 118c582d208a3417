#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time on a corpus seeded from the
# bundled guests (module bytes), web pages (reactor input) and CLI specs,
# and prints one summary line per target: executions, coverage, findings.
#
# Usage: scripts/fuzz.sh [SECONDS per target, default 20] [BUILD_DIR, default build-fuzz]
# A crash leaves its input in BUILD_DIR/fuzz/findings/ and fails the run.
set -euo pipefail

seconds=${1:-20}
build=${2:-build-fuzz}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
work="$build/fuzz/work"
mkdir -p "$work" "$build/fuzz/findings"

seed() {  # seed TARGET FILES...: copies FILES into TARGET's corpus once
  local dir="$work/corpus/$1" f
  shift
  mkdir -p "$dir"
  [[ -z "$(ls -A "$dir")" ]] || return 0
  for f in "$@"; do cp "$f" "$dir/$(echo "$f" | tr / _)"; done
}
seed module_fuzzer "$build"/guests/*.wasm "$build"/guests/*.wat
seed reactor_input_fuzzer tests/data/web-pages/*/source.html tests/data/html/*.html
mkdir -p "$work/corpus/cli_spec_fuzzer"
if [[ -z "$(ls -A "$work/corpus/cli_spec_fuzzer")" ]]; then
  n=0
  while IFS= read -r line; do
    printf '%s' "$line" >"$work/corpus/cli_spec_fuzzer/seed-$n"
    n=$((n + 1))
  done <fuzz/seeds/cli_spec.txt
fi

declare -A max_len=([module_fuzzer]=262144 [reactor_input_fuzzer]=131072 [cli_spec_fuzzer]=256)
status=0
for target in module_fuzzer reactor_input_fuzzer cli_spec_fuzzer; do
  log="$work/$target.log"
  echo "fuzz: $target for ${seconds}s ..." >&2
  if ! "$build/fuzz/$target" "$work/corpus/$target" \
      -max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=20 \
      -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz/findings/$target-" >"$log" 2>&1; then
    echo "fuzz: $target FOUND A FAILURE; see $log and $build/fuzz/findings/" >&2
    tail -40 "$log" >&2
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$work/corpus/$target" | wc -l)
  echo "fuzz: $target: ${execs:-0} executions in ${seconds}s, coverage ${cov:-0} edges, corpus $corpus inputs"
done
exit $status
