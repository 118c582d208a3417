#!/usr/bin/env python3
"""Where two policies' cold starts differ, module by module.

Reads the JSON that `strata bench --out DIR` writes (pool.modules in each run)
and prints, for policy A and policy B:
- the start-up of each called module's first call against the run's
  cold-start cost: a keep-alive policy keeps only what was called, so only
  stocking modules before their first request can save it;
- cold starts and their estimated cost (serves below hot times the measured
  instantiate and load costs) by how often a module was called;
- the modules whose count of requests served below hot differs most, with
  what the pool measured for each.

    bench/by_module.py DIR/azure-100.json gdsf strata [--top 10]
"""
import argparse
import json
import sys


def below_hot(module):
    return sum(n for tier, n in module["served"].items() if tier != "hot")


def calls(module):
    return sum(module["served"].values())


def start_up_ms(module, tier):
    """What a serve from `tier` spends before the call, as the pool measured."""
    if tier == "warm":
        return module["instantiate_ms"]
    return module["instantiate_ms"] + module["load_ms"]


def estimated_cost_ms(module):
    return sum(n * start_up_ms(module, tier)
               for tier, n in module["served"].items() if tier != "hot")


BANDS = ((1, 5), (6, 30), (31, 200), (201, None))


def band(n):
    for low, high in BANDS:
        if high is None or n <= high:
            return (low, high)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json")
    ap.add_argument("a", help="policy A, e.g. gdsf")
    ap.add_argument("b", help="policy B, e.g. strata")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()

    with open(args.json) as f:
        report = json.load(f)
    runs = {run["policy"]: run for run in report["runs"]}
    for name in (args.a, args.b):
        if name not in runs or "modules" not in runs[name].get("pool", {}):
            sys.exit(f"by_module: no pool run of '{name}' with per-module figures "
                     f"in {args.json} (runs: {', '.join(runs)})")
    a = {m["name"]: m for m in runs[args.a]["pool"]["modules"]}
    b = {m["name"]: m for m in runs[args.b]["pool"]["modules"]}

    print("the start-up of each called module's first call, against the "
          "cold-start cost:")
    for name, modules in ((args.a, a), (args.b, b)):
        called = [m for m in modules.values() if calls(m) > 0]
        first = sum(start_up_ms(m, "cold-disk") for m in called)
        print(f"  {name:<10} {len(called)} modules called, first calls "
              f"{first / 1000:.2f} s of {runs[name]['cold_start_cost_s']:.2f} s")

    print("by calls per module: modules, then cold starts and estimated "
          f"cost (s) of {args.a} / {args.b}:")
    by_band = {bounds: [] for bounds in BANDS}
    for n in a.keys() & b.keys():
        if calls(b[n]) > 0:
            by_band[band(calls(b[n]))].append(n)
    for (low, high), members in by_band.items():
        label = f"{low}-{high}" if high else f"{low}+"
        print(f"  {label:<8}{len(members):>5}"
              f"{sum(below_hot(a[n]) for n in members):>8} /"
              f"{sum(below_hot(b[n]) for n in members):>6}"
              f"{sum(estimated_cost_ms(a[n]) for n in members) / 1000:>9.2f} /"
              f"{sum(estimated_cost_ms(b[n]) for n in members) / 1000:>6.2f}")

    rows = []
    for name in a.keys() & b.keys():
        ma, mb = a[name], b[name]
        rows.append((below_hot(mb) - below_hot(ma), name, ma, mb))
    rows.sort(key=lambda r: (-abs(r[0]), r[1]))

    total = sum(r[0] for r in rows)
    print(f"cold starts, {args.b} minus {args.a}: {total:+d} "
          f"over {len(rows)} modules; the {args.top} that differ most:")
    print(f"{'module':<22}{'diff':>6}{'calls':>7}{args.a:>9}{args.b:>9}"
          f"{'warm':>6}{'disk':>6}{'inst ms':>9}{'load ms':>9}{'inst KiB':>10}")
    for diff, name, ma, mb in rows[: args.top]:
        print(f"{name:<22}{diff:>+6}{calls(mb):>7}{below_hot(ma):>9}{below_hot(mb):>9}"
              f"{mb['served']['warm']:>6}{mb['served']['cold-disk']:>6}"
              f"{mb['instantiate_ms']:>9.2f}{mb['load_ms']:>9.2f}"
              f"{mb['instance_bytes'] // 1024:>10}")


if __name__ == "__main__":
    main()
