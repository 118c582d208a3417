#!/usr/bin/env bash
# Snapshots on and off, at 10%, 25% and 50% of each workload's measured
# working set, every module replayed as itself and then as its
# pre-initialisation snapshot (`--snapshot`):
#   heavy-init:  40 synth modules, each ~3 ms and 4 MiB of start-up, at
#                50/s, with the policies a user would compare;
#   readability: 30 tenants' copies of the readability guest (QuickJS +
#                Mozilla Readability, ~160 ms of start-up) over the bundled
#                pages at 1/s for 90 s (a page takes 0.7 s on average, so
#                two cores are a third busy), a fresh instance per request
#                against strata. (At 10%, fewer than 30 modules leave no
#                room for one snapshotted module and its instance.)
# Results in docs/BENCHMARKS.md ("Snapshots").
#
# Usage: [BUDGETS="10 25 50"] [WORKLOADS="heavy-init readability"]
#        bench/snapshots.sh [OUT, default bench-results/snapshots]
set -euo pipefail
out=${1:-bench-results/snapshots}
strata=${STRATA:-build/strata}
mkdir -p "$out"
for w in ${WORKLOADS:-heavy-init readability}; do
  case $w in
    heavy-init)
      args=(--modules 40 --rate 50 --policy instantiate,gdsf,histogram,strata) ;;
    readability)
      args=(--modules 30 --rate 1 --duration 90 --policy instantiate,strata) ;;
    *) echo "snapshots: unknown workload '$w'" >&2; exit 2 ;;
  esac
  for b in ${BUDGETS:-10 25 50}; do
    for mode in off on; do
      dir="$out/$w-${b}pct-snapshot-$mode"
      flag=()
      [ "$mode" = on ] && flag=(--snapshot)
      echo "snapshots: $w at $b%, snapshots $mode -> $dir" >&2
      "$strata" bench --workload "$w" "${args[@]}" --budget "$b%" \
        "${flag[@]}" --out "$dir" >"$dir.log" 2>&1 || {
        echo "snapshots: $w at $b% ($mode) failed; see $dir.log" >&2
        exit 1
      }
    done
  done
done
