#!/usr/bin/env python3
"""Judges docs/BENCHMARKS.md's targets on the runs bench/fair_fights.sh wrote.

Reads OUT/<workload>-<budget>pct/*.json (one file per `strata bench` run,
every policy in it) and writes OUT/targets.{json,txt}: for each run, the
figures each target compares and whether it was met. Nothing is judged
across runs: each comparison is between policies of one run.

  1. strata's e2e mean and p99 are no worse than `instantiate`'s, and it
     fails no more requests (a failed request is fast, so the latencies
     alone could pass a policy that refuses work).
  2. traces only: strata's cold-start cost <= 0.7x the best baseline's, its
     cold-start count <= the best baseline's, its p99 <= the best
     baseline's (best: the lowest among the other policies, each figure on
     its own).
  3. no policy's memory reading is ever above the budget.

Runs of the same workload and budget with other seeds (fair_fights.sh's
SEEDS: <run>-seed<N>) are also summed up per target: the ratio strata /
other in each run, their median, and in how many runs the target was met.

Usage: python3 bench/targets.py OUT
"""
import glob
import json
import os
import re
import statistics
import sys


def judge(path):
    with open(path) as f:
        run = json.load(f)
    by = {r["policy"]: r for r in run["runs"]}
    s = by["strata"]
    others = [r for p, r in by.items() if p != "strata"]
    trace = run["workload"].startswith(("azure", "trace"))
    rows = []

    def row(target, strata, other, met, unit):
        rows.append({"target": target, "strata": strata, "other": other,
                     "unit": unit, "met": bool(met)})

    if "instantiate" in by:
        i = by["instantiate"]["end_to_end"]
        e = s["end_to_end"]
        row("1 mean <= instantiate", e["mean_ns"] / 1e3, i["mean_ns"] / 1e3,
            e["mean_ns"] <= i["mean_ns"], "us")
        row("1 p99 <= instantiate", e["p99_ns"] / 1e3, i["p99_ns"] / 1e3,
            e["p99_ns"] <= i["p99_ns"], "us")
        row("1 failures <= instantiate", s["failures"], by["instantiate"]["failures"],
            s["failures"] <= by["instantiate"]["failures"], "requests")
    if trace and others:
        def best(key):
            r = min(others, key=key)
            return r["policy"], key(r)
        cost = lambda r: r["cold_start_cost_s"]
        count = lambda r: r["cold_starts"]
        p99 = lambda r: r["end_to_end"]["p99_ns"] / 1e3
        for name, key, factor, unit in (("2 cold cost <= 0.7x best", cost, 0.7, "s"),
                                        ("2 cold count <= best", count, 1.0, ""),
                                        ("2 p99 <= best", p99, 1.0, "us")):
            who, value = best(key)
            row(name + " (" + who + ")", key(s), value, key(s) <= factor * value, unit)
    over = [r["policy"] for r in run["runs"]
            if r["budgeted"] and (r["over_budget_readings"] > 0 or
                                  r["memory"]["peak_held_bytes"] > r["budget_bytes"])]
    row("3 never above budget", len(run["runs"]) - len(over), len(run["runs"]),
        not over, "policies")
    return {"run": os.path.basename(os.path.dirname(path)),
            "workload": run["workload"], "command": run["command"], "rows": rows}


def across_seeds(results):
    """Per workload, budget and target: the ratio in each seed's run."""
    groups = {}
    for r in results:
        base = re.sub(r"-seed\d+$", "", r["run"])
        for x in r["rows"]:
            target = re.sub(r" \(.*\)$", "", x["target"])
            groups.setdefault((base, target), []).append(x)
    lines = []
    for (base, target), rows in sorted(groups.items()):
        if len(rows) < 2 or target.startswith("3"):
            continue
        ratios = [x["strata"] / x["other"] if x["other"] else float("inf")
                  for x in rows]
        met = sum(x["met"] for x in rows)
        if not lines:
            lines = ["", "across seeds (strata / other, one ratio per run):",
                     "%-22s %-30s %-24s %7s %s" %
                     ("run", "target", "ratios", "median", "met")]
        lines.append("%-22s %-30s %-24s %7.2f %d of %d" %
                     (base, target, " ".join("%.2f" % q for q in ratios),
                      statistics.median(ratios), met, len(rows)))
    return lines


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench-results/fair-fights"
    results = [judge(p) for p in sorted(glob.glob(os.path.join(out, "*", "*.json")))]
    # A run whose JSON is gone (docs/results keeps text and CSV only) keeps
    # the judgment an earlier invocation wrote.
    judged = {r["run"] for r in results}
    earlier = os.path.join(out, "targets.json")
    if os.path.exists(earlier):
        with open(earlier) as f:
            results += [r for r in json.load(f) if r["run"] not in judged]
    results.sort(key=lambda r: r["run"])
    with open(os.path.join(out, "targets.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = ["%-22s %-38s %12s %12s %-9s %s" %
             ("run", "target (best baseline)", "strata", "other", "unit", "verdict")]
    met = total = 0
    for r in results:
        for x in r["rows"]:
            total += 1
            met += x["met"]
            lines.append("%-22s %-38s %12.1f %12.1f %-9s %s" %
                         (r["run"], x["target"], x["strata"], x["other"], x["unit"],
                          "met" if x["met"] else "MISSED"))
    lines.append("%d of %d met" % (met, total))
    lines += across_seeds(results)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "targets.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
