#!/usr/bin/env python3
"""Where two policies' cold starts differ, module by module.

Reads the JSON that `strata bench --out DIR` writes (pool.modules in each run)
and prints the modules whose count of requests served below hot differs most
between policy A and policy B, with what the pool measured for each.

    bench/by_module.py DIR/azure-100.json gdsf strata [--top 10]
"""
import argparse
import json
import sys


def below_hot(module):
    return sum(n for tier, n in module["served"].items() if tier != "hot")


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
        calls = sum(mb["served"].values())
        print(f"{name:<22}{diff:>+6}{calls:>7}{below_hot(ma):>9}{below_hot(mb):>9}"
              f"{mb['served']['warm']:>6}{mb['served']['cold-disk']:>6}"
              f"{mb['instantiate_ms']:>9.2f}{mb['load_ms']:>9.2f}"
              f"{mb['instance_bytes'] // 1024:>10}")


if __name__ == "__main__":
    main()
