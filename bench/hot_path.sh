#!/usr/bin/env bash
# The hot path's two targets, measured in interleaved rounds so that the
# machine's noise falls on every variant alike:
#   - reuse-mode hot acquire + release: median per operation (p50_net_ns),
#     and the mean (BM_Pool_HotAcquireRelease/1);
#   - acquire + call + release throughput with 2 threads over 1 thread, for
#     the pool and, in the same rounds, for a plain locked queue of instances
#     (no pool): the second ratio is what this machine's cores allow.
# Writes hot_path.json and hot_path.txt (medians over the rounds) to OUT.
#
# Usage: bench/hot_path.sh [ROUNDS, default 7] [BUILD_DIR, default build] [OUT, default bench-results]
set -euo pipefail
rounds=${1:-7}
build=${2:-build}
out=${3:-bench-results}
mkdir -p "$out"
raw=$(mktemp -d)
for r in $(seq 1 "$rounds"); do
  echo "hot_path: round $r of $rounds" >&2
  "$build/bench/micro/pool_benchmark" --benchmark_filter='HotAcquireRelease(Latency|/1$)' \
    --benchmark_min_time=0.5 --benchmark_format=json >"$raw/pool-$r.json" 2>/dev/null
  "$build/bench/micro/concurrency_benchmark" \
    --benchmark_filter='(StratifiedPool|SimpleDeque)/.*threads:[12]$' \
    --benchmark_min_time=0.5 --benchmark_format=json >"$raw/queue-$r.json" 2>/dev/null
done
python3 - "$raw" "$rounds" "$out" <<'PY'
import json, statistics, sys, os
raw, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
series = {}
def add(key, value): series.setdefault(key, []).append(value)
for r in range(1, rounds + 1):
    pool = json.load(open(f"{raw}/pool-{r}.json"))["benchmarks"]
    for b in pool:
        if b["name"] == "BM_Pool_HotAcquireReleaseLatency":
            add("hot_p50_net_ns", b["p50_net_ns"]); add("hot_p99_ns", b["p99_ns"])
        if b["name"] == "BM_Pool_HotAcquireRelease/1":
            add("hot_mean_ns", b["real_time"])
    q = {b["name"]: b["wall_items_per_s"] for b in json.load(open(f"{raw}/queue-{r}.json"))["benchmarks"]}
    for kind, name in (("pool", "StratifiedPool"), ("queue", "SimpleDeque")):
        one = q[f"BM_Queue_{name}/real_time/threads:1"]; two = q[f"BM_Queue_{name}/real_time/threads:2"]
        add(f"{kind}_1t_per_s", one); add(f"{kind}_2t_per_s", two); add(f"{kind}_ratio", two / one)
med = {k: statistics.median(v) for k, v in series.items()}
result = {"rounds": rounds, "median": med, "series": series,
          "targets": {"hot_p50_below_250ns": med["hot_p50_net_ns"] < 250,
                      "pool_2t_over_1t_at_least_1.5": med["pool_ratio"] >= 1.5}}
json.dump(result, open(os.path.join(out, "hot_path.json"), "w"), indent=1)
lines = [f"hot path, medians over {rounds} interleaved rounds",
         f"  reuse hot acquire+release: p50 {med['hot_p50_net_ns']:.0f} ns (net of the clock read), "
         f"p99 {med['hot_p99_ns']:.0f} ns, mean {med['hot_mean_ns']:.0f} ns  "
         f"[target p50 < 250 ns: {'met' if result['targets']['hot_p50_below_250ns'] else 'MISSED'}]",
         f"  acquire+call+release, pool:  {med['pool_1t_per_s']/1e3:.0f}k/s with 1 thread, "
         f"{med['pool_2t_per_s']/1e3:.0f}k/s with 2: {med['pool_ratio']:.2f}x  "
         f"[target >= 1.5x: {'met' if result['targets']['pool_2t_over_1t_at_least_1.5'] else 'MISSED'}]",
         f"  same, plain locked queue:    {med['queue_1t_per_s']/1e3:.0f}k/s with 1 thread, "
         f"{med['queue_2t_per_s']/1e3:.0f}k/s with 2: {med['queue_ratio']:.2f}x (what the machine allows)",
         "  ratios per round, pool: " + " ".join(f"{x:.2f}" for x in series["pool_ratio"]),
         "  ratios per round, queue: " + " ".join(f"{x:.2f}" for x in series["queue_ratio"])]
open(os.path.join(out, "hot_path.txt"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
rm -rf "$raw"
