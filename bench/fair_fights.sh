#!/usr/bin/env bash
# The comparison behind docs/BENCHMARKS.md's targets: each workload at 10%,
# 25% and 50% of its measured working set, every policy in one run per
# budget (the same seeded arrivals, one process), then the targets judged
# on the JSON the runs wrote (bench/targets.py).
#
# Traces replay their first 30 minutes in virtual time, reusing instances
# across calls as a FaaS platform reuses a warm container; the synthetic
# workloads run 10 s on the wall clock in the default fresh mode. `none` is
# left out: it compiles every call, and its queue grows for the whole run.
#
# Usage: [BUDGETS="10 25 50"] [POLICIES=...] [SEEDS="42"] bench/fair_fights.sh
#        [OUT, default bench-results/fair-fights] [WORKLOAD...]
#   (workloads default to azure:100 azure:500 hot-biased heavy-init)
# SEEDS repeats every run with other arrivals (a trace's per-minute counts
# spread differently within each minute); runs of a seed other than 42 go
# to <workload>-<budget>pct-seed<N>, and targets.py also judges each target
# across the seeds, since one run's ratios move by 10-20%.
# Runs take long on a 2-core machine (azure:500 is 171,558 invocations per
# policy); two invocations with disjoint workloads may share the OUT
# directory, then `python3 bench/targets.py OUT` judges all of them.
set -euo pipefail
out=${1:-bench-results/fair-fights}
shift || true
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(azure:100 azure:500 hot-biased heavy-init)
strata=${STRATA:-build/strata}
# Every policy by default; fewer only to save time (instantiate takes a
# quarter of an hour per azure:500 run), and then target 1 is not judged.
policies=${POLICIES:-instantiate,fifo,keepalive,gdsf,histogram,riptide,strata}

mkdir -p "$out"
for seed in ${SEEDS:-42}; do
  for w in "${workloads[@]}"; do
    for b in ${BUDGETS:-10 25 50}; do
      dir="$out/${w//:/}-${b}pct"
      [ "$seed" = 42 ] || dir="$dir-seed$seed"
      echo "fair_fights: $w at $b%, seed $seed -> $dir" >&2
      extra=()
      case $w in
        azure:*|trace:*) extra=(--duration 1800 --reuse) ;;
        heavy-init) extra=(--rate 50) ;;
      esac
      "$strata" bench --workload "$w" --budget "$b%" --policy "$policies" \
        --seed "$seed" "${extra[@]}" --out "$dir" >"$dir.log" 2>&1 || {
        echo "fair_fights: $w at $b%, seed $seed failed; see $dir.log" >&2
        exit 1
      }
    done
  done
done
python3 "$(dirname "$0")/targets.py" "$out"
