#!/usr/bin/env bash
# Snapshots on and off: the heavy-init workload (40 modules, each ~3 ms and
# 4 MiB of start-up) at 10%, 25% and 50% of its measured working set, every
# module replayed as itself and then as its pre-initialisation snapshot
# (`--snapshot`), with the policies a user would compare. Results in
# docs/BENCHMARKS.md ("Snapshots").
#
# Usage: [BUDGETS="10 25 50"] bench/snapshots.sh [OUT, default
#        bench-results/snapshots]
set -euo pipefail
out=${1:-bench-results/snapshots}
strata=${STRATA:-build/strata}
mkdir -p "$out"
for b in ${BUDGETS:-10 25 50}; do
  for mode in off on; do
    dir="$out/heavy-init-${b}pct-snapshot-$mode"
    flag=()
    [ "$mode" = on ] && flag=(--snapshot)
    echo "snapshots: heavy-init at $b%, snapshots $mode -> $dir" >&2
    "$strata" bench --workload heavy-init --modules 40 --rate 50 \
      --budget "$b%" "${flag[@]}" --policy instantiate,gdsf,histogram,strata \
      --out "$dir" >"$dir.log" 2>&1 || {
      echo "snapshots: $b% ($mode) failed; see $dir.log" >&2
      exit 1
    }
  done
done
