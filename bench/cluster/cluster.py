#!/usr/bin/env python3
"""Helper of bench/cluster.sh (stdlib only; reuses bench/serve_load.py):
timing, HAProxy's stats, the per-mode analysis and the reports.

Subcommands:
  budget TOTAL N                  TOTAL (bytes, or 8MiB, 512KiB...) / N in
                                  whole bytes
  seconds-until UNIX_TS           seconds from now until UNIX_TS (>= 0)
  wait-up --stats URL --servers a,b [--pid P] [--timeout S]
                                  poll HAProxy's CSV until every server is UP
                                  (exit 3: P died, 4: timed out)
  poll --stats URL --pids-dir D --out F [--interval 0.2]
                                  until SIGTERM, every interval: one JSON
                                  line of each server's status and counters
                                  and each node's VmRSS (D holds a file per
                                  running node, named after it, with its pid)
  scrape-node --base URL --out-dir D --name N [--pid P]
                                  D/N.metrics, D/N.modules.json and (with a
                                  pid) D/N.status.json (VmRSS, VmHWM), in one
                                  process
  analyse --dir D --mode M --nodes a,b,... [--stop-node n2] [--meta JSON]
                                  one mode's row (JSON) from D's results.csv,
                                  events.txt, poll.jsonl, prestop/ and end/
  report --rows F --meta JSON --out DIR
                                  cluster.{json,csv,md}; prints the md
  selftest                        checks of the analysis on made-up inputs

Times are Unix seconds (vegeta's timestamps are Unix nanoseconds), so the
shell's `date +%s.%N`, this poller and vegeta's results share one clock.
"""
import argparse
import base64
import csv
import io
import json
import math
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))
import serve_load as sl  # noqa: E402  (bench/serve_load.py)

NOT_HOT = tuple(s for s in sl.SERVED_FROM if s != "hot")
CALL = re.compile(r"/v1/modules/([^/?]+)/call/")
STOP_WINDOW_S = 5.0


# ---------------------------------------------------------------- small

def parse_bytes(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]+)\s*([KMG]?)(i?B)?\s*", text, re.I)
    if not m or (m.group(3) and m.group(3).lower() == "ib"
                 and not m.group(2)):
        raise ValueError(f"not a byte size: {text!r} (e.g. 8MiB, 4194304)")
    unit = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[
        m.group(2).upper()]
    return int(m.group(1)) * unit


def read_results(path: str):
    """vegeta `encode --to csv` rows as dicts: ts (Unix ns of sending),
    code (0: no reply), lat (ns), err, module, node (X-Strata-Node),
    served (X-Strata-Served-From), hap (X-Haproxy-Server)."""
    csv.field_size_limit(1 << 30)
    out = []
    with open(path, newline="") as f:
        for rec in csv.reader(f):
            if len(rec) < 6:
                continue
            url = rec[10] if len(rec) > 10 else ""
            m = CALL.search(url)
            h = sl.reply_headers(rec[11]) if len(rec) > 11 else {}
            out.append({
                "ts": int(rec[0]), "code": int(rec[1]), "lat": int(rec[2]),
                "err": rec[5], "module": m.group(1) if m else None,
                "node": h.get("x-strata-node"),
                "served": h.get("x-strata-served-from"),
                "hap": h.get("x-haproxy-server"),
            })
    return out


def read_events(path: str) -> dict:
    """`key value` lines (later lines win); numbers become floats."""
    ev = {}
    if not os.path.exists(path):
        return ev
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition(" ")
            if not key:
                continue
            try:
                ev[key] = float(value)
            except ValueError:
                ev[key] = value
    return ev


def parse_stats_csv(text: str):
    """HAProxy's `/stats;csv` as a list of dicts keyed by column name."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("#"):
        return []
    header = lines[0].lstrip("# ").split(",")
    return [dict(zip(header, rec)) for rec in csv.reader(lines[1:]) if rec]


def _int(x):
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def stats_snapshot(rows, backend="nodes"):
    """(servers {name: {status, req, wretr, wredis, e5xx}}, backend totals)"""
    servers, be = {}, None
    for r in rows:
        if r.get("pxname") != backend:
            continue
        rec = {"status": r.get("status"), "req": _int(r.get("req_tot")),
               "wretr": _int(r.get("wretr")), "wredis": _int(r.get("wredis")),
               "e5xx": _int(r.get("hrsp_5xx"))}
        if r.get("svname") == "BACKEND":
            be = rec
        elif r.get("svname") != "FRONTEND":
            servers[r.get("svname")] = rec
    return servers, be


def fetch(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode("utf-8", "replace")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def r(x, digits=3):
    return None if x is None else round(x, digits)


# ---------------------------------------------------------------- analysis

def latency_block(results):
    lat = sorted(x["lat"] for x in results if x["code"] != 0)

    def p(q):
        v = sl.percentile(lat, q)
        return None if v is None else round(v / 1e6, 3)
    return {"p50": p(0.5), "p99": p(0.99), "p99.9": p(0.999),
            "max": None if not lat else round(lat[-1] / 1e6, 3)}


def errors_by_status(results):
    errors = {}
    for x in results:
        if 200 <= x["code"] < 300:
            continue
        key = str(x["code"]) if x["code"] else \
            "no reply: " + (x["err"] or "?")[:80]
        errors[key] = errors.get(key, 0) + 1
    return dict(sorted(errors.items(), key=lambda kv: -kv[1]))


def counts_by(results, key):
    out = {}
    for x in results:
        k = x.get(key)
        if k is not None:
            out[k] = out.get(k, 0) + 1
    return out


def imbalance(per_node: dict, nodes):
    """max / mean of requests per node over `nodes` (a node with none
    counts as 0); None without requests."""
    counts = [per_node.get(n, 0) for n in nodes]
    total = sum(counts)
    if not counts or total == 0:
        return None
    return round(max(counts) / (total / len(counts)), 3)


def in_window(results, t_from_ns=None, t_to_ns=None):
    """The replies sent in [t_from, t_to) that name a module and a node."""
    for x in results:
        if x["module"] is None or x["node"] is None:
            continue
        if t_from_ns is not None and x["ts"] < t_from_ns:
            continue
        if t_to_ns is not None and x["ts"] >= t_to_ns:
            continue
        yield x


def dominant_nodes(results, t_from_ns=None, t_to_ns=None):
    """{module: (node serving most of its replies, that share)} over the
    replies sent in [t_from, t_to) that carry X-Strata-Node; ties go to
    the smallest node name."""
    per = {}
    for x in in_window(results, t_from_ns, t_to_ns):
        d = per.setdefault(x["module"], {})
        d[x["node"]] = d.get(x["node"], 0) + 1
    out = {}
    for mod, d in per.items():
        node = min(d, key=lambda n: (-d[n], n))
        out[mod] = (node, d[node] / sum(d.values()))
    return out


def affinity(dominant_with_share, results, t_from_ns=None, t_to_ns=None):
    """Share of the window's replies (with a node) served by their
    module's dominant node in that window."""
    total = hit = 0
    for x in in_window(results, t_from_ns, t_to_ns):
        total += 1
        if dominant_with_share.get(x["module"], (None,))[0] == x["node"]:
            hit += 1
    return None if total == 0 else round(hit / total, 4)


def module_moves(first, outage, last, stopped):
    """Given {module: node} for the three windows: modules whose node in
    the outage differs from the first third (split by whether the first
    third's node was the stopped one), and modules whose node in the last
    third differs from the first third. Only modules seen in both windows
    of a comparison count."""
    both = [m for m in first if m in outage]
    moved = [m for m in both if outage[m] != first[m]]
    from_stopped = [m for m in moved if first[m] == stopped]
    on_stopped = [m for m in both if first[m] == stopped]
    both_last = [m for m in first if m in last]
    back = [m for m in both_last if last[m] != first[m]]
    return {
        "modules_first_and_outage": len(both),
        "modules_on_stopped_node_first": len(on_stopped),
        "moved_during_outage": len(moved),
        "moved_from_stopped_node": len(from_stopped),
        "moved_from_other_nodes": len(moved) - len(from_stopped),
        "modules_first_and_last": len(both_last),
        "last_differs_from_first": len(back),
    }


def read_poll(path):
    ticks = []
    if not os.path.exists(path):
        return ticks
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    ticks.append(json.loads(line))
                except ValueError:
                    pass  # a line cut short when the poller was stopped
    return ticks


def first_status_time(ticks, server, after, want):
    """Time of the first poll at or after `after` where `server`'s status
    satisfies want(status); None if never."""
    for t in ticks:
        if t["t"] < after or not t.get("srv"):
            continue
        s = t["srv"].get(server)
        if s and s.get("status") is not None and want(s["status"]):
            return t["t"]
    return None


def backend_at(ticks, when, before=True):
    """The backend counters of the last poll at or before `when`
    (before=True) or the first at or after it."""
    pick = None
    for t in ticks:
        if not t.get("be"):
            continue
        if before and t["t"] <= when:
            pick = t
        elif not before and t["t"] >= when:
            return t
    return pick


def rss_summary(ticks, nodes):
    sums = []
    for t in ticks:
        rss = t.get("rss") or {}
        if rss:
            sums.append(sum(v for k, v in rss.items() if k in nodes))
    return {"max_sum_kb": max(sums) if sums else None,
            "samples": len(sums)}


def hot_set(modules_doc):
    """Names of modules with hot instances (or tier hot), and a count of
    modules by tier, from a /v1/modules document."""
    hot, tiers = set(), {}
    for m in (modules_doc or {}).get("modules", []):
        inst = m.get("instances") or {}
        tier = m.get("tier")
        tiers[tier] = tiers.get(tier, 0) + 1
        if (inst.get("hot") or 0) > 0 or tier == "hot":
            hot.add(m.get("name"))
    return hot, tiers


def duplication(sets):
    union = set().union(*sets) if sets else set()
    total = sum(len(s) for s in sets)
    return (None if not union else round(total / len(union), 3),
            len(union), total)


def node_stop_block(results, ev, ticks, stopped, t_end_ns):
    """The stop and restart of `stopped`: timings from the events and the
    HAProxy polls, failures and retries in the STOP_WINDOW_S after it."""
    t_stop = ev.get("t_stop")
    if t_stop is None:
        return None
    t_restart = ev.get("t_restart")
    t_down = first_status_time(ticks, stopped, t_stop,
                               lambda s: s.startswith("DOWN"))
    t_up = None
    if t_restart is not None:
        t_up = first_status_time(ticks, stopped,
                                 max(t_restart, t_down or 0),
                                 lambda s: s == "UP")
    w0, w1 = t_stop, t_stop + STOP_WINDOW_S
    window = [x for x in results if w0 * 1e9 <= x["ts"] < w1 * 1e9]
    failed = [x for x in window if not 200 <= x["code"] < 300]
    b0, b1 = backend_at(ticks, w0, True), backend_at(ticks, w1, False)
    if b1 is None and ticks:  # the run ended within the window
        b1 = backend_at(ticks, w1, True)

    def delta(key):
        if not b0 or not b1 or b0["be"].get(key) is None \
                or b1["be"].get(key) is None:
            return None
        return b1["be"][key] - b0["be"][key]

    def since(a, b):
        return None if a is None or b is None else round(a - b, 3)

    t_first = min((x["ts"] for x in results), default=None)
    return {
        "node": stopped,
        "stop_at_s": None if t_first is None else round(t_stop - t_first / 1e9, 2),
        "exit_after_s": since(ev.get("t_exit"), t_stop),
        "exit_code": None if ev.get("stop_exit") is None
        else int(ev["stop_exit"]),
        "marked_down_after_s": since(t_down, t_stop),
        "restart_at_s": None if t_restart is None or t_first is None
        else round(t_restart - t_first / 1e9, 2),
        "restart_ready_after_s": since(ev.get("t_ready"), t_restart),
        "ring_recovered_after_s": since(t_up, t_restart),
        "window_s": STOP_WINDOW_S,
        "window_requests": len(window),
        "window_failed": len(failed),
        "window_failed_by_status": errors_by_status(window),
        "window_retries": delta("wretr"),
        "window_redispatches": delta("wredis"),
        "_t_down": t_down, "_t_up": t_up,
    }


def analyse_dir(d, mode, nodes, stopped, meta=None):
    results = read_results(os.path.join(d, "results.csv")) \
        if os.path.exists(os.path.join(d, "results.csv")) else []
    ev = read_events(os.path.join(d, "events.txt"))
    ticks = read_poll(os.path.join(d, "poll.jsonl"))
    row = dict(meta or {})
    row["mode"] = mode

    sent = len(results)
    ok = [x for x in results if 200 <= x["code"] < 300]
    if results:
        first = min(x["ts"] for x in results)
        end = max(x["ts"] + x["lat"] for x in results)
        wall_s = (end - first) / 1e9
    else:
        first = end = None
        wall_s = 0.0
    served = counts_by(ok, "served")
    cold = {k: v for k, v in served.items() if k != "hot"}
    per_node = counts_by(results, "node")
    mismatch = sum(1 for x in results
                   if x["node"] and x["hap"] and x["node"] != x["hap"])

    # /metrics at the end, plus the stopped node's just before its stop
    # (a restart starts its counters from zero).
    per_node_info = {}
    cost = {s: 0.0 for s in sl.SERVED_FROM}
    acquires = {s: 0 for s in sl.SERVED_FROM}
    scraped = 0
    hot_sets = []
    for n in nodes:
        info = {"requests": per_node.get(n, 0)}
        peaks = []
        for phase in ("prestop", "end"):
            text = read_text(os.path.join(d, phase, f"{n}.metrics"))
            if not text:
                continue
            scraped += 1
            samples = sl.parse_prometheus(text)
            for s in sl.SERVED_FROM:
                v = sl.metric_sum(samples,
                                  "strata_acquire_served_seconds_total",
                                  served_from=s)
                cost[s] += v or 0.0
                a = sl.metric_sum(samples, "strata_acquires_total",
                                  served_from=s)
                acquires[s] += int(a or 0)
            pk = sl.metric_value(samples, "strata_ledger_peak_bytes")
            if pk is not None:
                peaks.append(pk)
                info[f"ledger_peak_mib_{phase}"] = round(pk / (1 << 20), 2)
        info["ledger_peak_mib"] = round(max(peaks) / (1 << 20), 2) \
            if peaks else None
        hs, tiers = hot_set(read_json(os.path.join(d, "end",
                                                   f"{n}.modules.json")))
        hot_sets.append(hs)
        info["hot_modules"] = len(hs)
        info["tiers"] = tiers
        st = read_json(os.path.join(d, "end", f"{n}.status.json")) or {}
        info["rss_end_mib"] = r(st["VmRSS"] / 1024, 1) \
            if "VmRSS" in st else None
        info["rss_peak_mib"] = r(st["VmHWM"] / 1024, 1) \
            if "VmHWM" in st else None
        per_node_info[n] = info

    dup, distinct, total_hot = duplication(hot_sets)
    rss_end = [i["rss_end_mib"] for i in per_node_info.values()
               if i["rss_end_mib"] is not None]
    rss_s = rss_summary(ticks, nodes)

    t_stop = ev.get("t_stop")
    t_restart = ev.get("t_restart")
    stop = node_stop_block(results, ev, ticks, stopped, end) \
        if stopped else None
    moves = None
    first_third_per_node = per_node
    if stop is not None:
        t_back = stop.pop("_t_up") or ev.get("t_ready") or t_restart
        stop.pop("_t_down", None)
        s_ns = t_stop * 1e9
        first_w = dominant_nodes(results, None, s_ns)
        outage_w = dominant_nodes(results, s_ns,
                                  t_restart * 1e9 if t_restart else None)
        last_w = dominant_nodes(results, t_back * 1e9, None) \
            if t_back else {}
        moves = module_moves({m: v[0] for m, v in first_w.items()},
                             {m: v[0] for m, v in outage_w.items()},
                             {m: v[0] for m, v in last_w.items()}, stopped)
        moves["last_third_from_s"] = None if not t_back or first is None \
            else round(t_back - first / 1e9, 2)
        moves["affinity_first_third"] = affinity(first_w, results, None,
                                                 s_ns)
        first_third_per_node = counts_by(
            [x for x in results if x["ts"] < s_ns], "node")
        stop["modules"] = moves
    else:
        whole = dominant_nodes(results)
        row["affinity"] = affinity(whole, results)

    be_last = next((t["be"] for t in reversed(ticks) if t.get("be")), None)
    srv_last = next((t["srv"] for t in reversed(ticks) if t.get("srv")), {})
    # HAProxy's req_tot counts every attempt, retries included.
    haproxy_per_server = {n: (srv_last.get(n) or {}).get("req")
                          for n in nodes}
    row.update({
        "requests": sent,
        "ok": len(ok),
        "ok_ratio": r(len(ok) / sent, 4) if sent else None,
        "errors": errors_by_status(results),
        "throughput_per_s": r(len(ok) / wall_s, 1) if wall_s > 0 else None,
        "wall_s": r(wall_s, 2),
        "latency_ms": latency_block(results),
        "served_from": {s: served.get(s, 0) for s in sl.SERVED_FROM},
        "cold_starts": sum(cold.values()),
        "cold_start_seconds": r(sum(cost[s] for s in NOT_HOT), 4),
        "cold_start_seconds_by_source": {s: r(cost[s], 4) for s in NOT_HOT},
        "hot_acquire_seconds": r(cost["hot"], 4),
        "acquires_from_metrics": acquires,
        "metrics_scraped": scraped,
        "rss_end_sum_mib": r(sum(rss_end) / 1, 1) if rss_end else None,
        "rss_max_sum_mib": None if rss_s["max_sum_kb"] is None
        else r(rss_s["max_sum_kb"] / 1024, 1),
        "rss_samples": rss_s["samples"],
        "hot_set_sizes": {n: per_node_info[n]["hot_modules"] for n in nodes},
        "hot_distinct": distinct,
        "hot_total": total_hot,
        "duplication_factor": dup,
        "requests_per_node": {n: per_node.get(n, 0) for n in nodes},
        "imbalance": imbalance(per_node, nodes),
        "imbalance_first_third": imbalance(first_third_per_node, nodes),
        "node_header_mismatches": mismatch,
        "haproxy_requests_per_server": haproxy_per_server,
        "haproxy_retries": None if not be_last else be_last.get("wretr"),
        "haproxy_redispatches": None if not be_last
        else be_last.get("wredis"),
        "nodes": per_node_info,
        "node_stop": stop,
    })
    return row


# ---------------------------------------------------------------- report

CSV_FIELDS = [
    "mode", "status", "nodes_n", "rate_per_s", "duration_s",
    "budget_per_node_bytes", "requests", "ok", "ok_ratio", "errors",
    "throughput_per_s", "p50_ms", "p99_ms", "p99.9_ms", "max_ms",
    "cold_starts", "warm", "cold-memory", "cold-disk", "compile",
    "cold_start_seconds", "rss_end_sum_mib", "rss_max_sum_mib",
    "ledger_peaks_mib", "hot_set_sizes", "hot_distinct",
    "duplication_factor", "requests_per_node", "imbalance",
    "imbalance_first_third", "haproxy_retries", "haproxy_redispatches",
    "stop_window_failed", "stop_window_retries",
    "stop_window_redispatches", "marked_down_after_s",
    "ring_recovered_after_s", "moved_during_outage",
    "moved_from_stopped_node", "moved_from_other_nodes",
    "last_differs_from_first",
]


def _kv(d):
    return ";".join(f"{k}:{v}" for k, v in (d or {}).items())


def csv_row(row):
    lat = row.get("latency_ms") or {}
    served = row.get("served_from") or {}
    stop = row.get("node_stop") or {}
    moves = stop.get("modules") or {}
    out = {k: row.get(k) for k in CSV_FIELDS}
    for k in ("p50", "p99", "p99.9", "max"):
        out[f"{k}_ms"] = lat.get(k)
    for s in NOT_HOT:
        out[s] = served.get(s)
    out["errors"] = _kv(row.get("errors"))
    out["hot_set_sizes"] = _kv(row.get("hot_set_sizes"))
    out["requests_per_node"] = _kv(row.get("requests_per_node"))
    out["ledger_peaks_mib"] = _kv({n: i.get("ledger_peak_mib") for n, i in
                                   (row.get("nodes") or {}).items()})
    out["stop_window_failed"] = stop.get("window_failed")
    out["stop_window_retries"] = stop.get("window_retries")
    out["stop_window_redispatches"] = stop.get("window_redispatches")
    out["marked_down_after_s"] = stop.get("marked_down_after_s")
    out["ring_recovered_after_s"] = stop.get("ring_recovered_after_s")
    for k in ("moved_during_outage", "moved_from_stopped_node",
              "moved_from_other_nodes", "last_differs_from_first"):
        out[k] = moves.get(k)
    return out


fmt = sl.fmt


def _pct(x):
    return "–" if x is None else f"{x * 100:.2f}%"


def markdown(rows, meta):
    modes = [row["mode"] for row in rows]
    out = [f"# strata serve behind HAProxy: consistent hashing vs "
           f"round-robin ({meta['date']})", ""]
    out += ["Produced by:", "", "```sh", meta["command"], "```", ""]
    out.append(
        f"Commit `{meta['git_commit']}`"
        f"{' (dirty tree)' if meta.get('git_dirty') else ''}, "
        f"{meta['nproc']} cores ({meta.get('cpu') or 'cpu unknown'}), "
        f"{meta.get('haproxy')}, vegeta {meta.get('vegeta')}. "
        f"{meta['nodes_n']} `strata serve` nodes on one machine, loopback "
        f"only, {meta.get('pinning')}; each node `server.workers = 1`, "
        f"`pool.budget_bytes = {meta['budget_per_node_bytes']}` "
        f"({meta['total_budget']} split evenly), default policy, one "
        "`pool.cache_dir` shared by the nodes (fresh per mode). HAProxy in "
        "front (config generated by `bench/cluster/haproxy_cfg.py`): "
        "`consistent` = `balance hash path,field(4,/)` (the module name), "
        "`hash-type consistent`, `hash-balance-factor "
        f"{meta.get('balance_factor')}`; `roundrobin` = `balance "
        "roundrobin`; both check `GET /readyz` every 250 ms (fall 2, rise "
        "2) and retry a 503 / connection failure / empty reply up to twice "
        "on another node.")
    out.append("")
    if meta.get("trace"):
        out.append(meta["trace"])
        out.append("")
    out.append(
        f"At {meta['duration_s'] / 3:g} s (a third of the run) "
        f"`{meta['stop_node']}` gets SIGTERM (it drains and exits); at "
        f"{2 * meta['duration_s'] / 3:g} s it is started again on the same "
        "port and cache directory. Fresh nodes and no warm-up per mode.")
    out.append("")
    hdr = "| metric | " + " | ".join(modes) + " |"
    sep = "|---|" + "---:|" * len(modes)

    def line(name, fn):
        cells = []
        for row in rows:
            try:
                cells.append(fn(row))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                cells.append("–")
        out.append(f"| {name} | " + " | ".join(cells) + " |")

    out += ["## Per mode", "", hdr, sep]
    line("status", lambda x: x.get("status", "ok"))
    line("requests", lambda x: fmt(x["requests"]))
    line("ok ratio", lambda x: _pct(x["ok_ratio"]))
    line("errors by status", lambda x: ", ".join(
        f"{k}: {v}" for k, v in x["errors"].items()) or "none")
    line("throughput (ok/s)", lambda x: fmt(x["throughput_per_s"], 1))
    for q in ("p50", "p99", "p99.9"):
        line(f"latency {q} ms", lambda x, q=q: fmt(x["latency_ms"][q], 2))
    line("cold starts (replies not `hot`)",
         lambda x: fmt(x["cold_starts"]))
    line("… warm / cold-memory / cold-disk / compile",
         lambda x: " / ".join(fmt(x["served_from"][s]) for s in NOT_HOT))
    line("cold-start cost, s (acquire time, non-hot)",
         lambda x: fmt(x["cold_start_seconds"], 3))
    line("RSS sum at the end, MiB", lambda x: fmt(x["rss_end_sum_mib"], 1))
    line("RSS sum, max over samples, MiB",
         lambda x: fmt(x["rss_max_sum_mib"], 1))
    line("ledger peak per node, MiB", lambda x: " / ".join(
        fmt(i.get("ledger_peak_mib"), 2) for i in x["nodes"].values()))
    line("hot set per node (end)", lambda x: " / ".join(
        fmt(v) for v in x["hot_set_sizes"].values()))
    line("distinct modules hot anywhere", lambda x: fmt(x["hot_distinct"]))
    line("duplication factor", lambda x: fmt(x["duplication_factor"], 2))
    line("requests per node", lambda x: " / ".join(
        fmt(v) for v in x["requests_per_node"].values()))
    line("imbalance max/mean (whole run)", lambda x: fmt(x["imbalance"], 2))
    line("imbalance max/mean (first third)",
         lambda x: fmt(x["imbalance_first_third"], 2))
    line("HAProxy requests per server (req_tot)", lambda x: " / ".join(
        fmt(v) for v in x["haproxy_requests_per_server"].values()))
    line("HAProxy retries / redispatches (run)", lambda x:
         f"{fmt(x['haproxy_retries'])} / {fmt(x['haproxy_redispatches'])}")
    out.append("")

    out += [f"## Node stop ({meta['stop_node']})", "", hdr, sep]

    def st(key, digits=None):
        return lambda x: fmt(x["node_stop"][key], digits)

    def mv(key):
        return lambda x: fmt(x["node_stop"]["modules"][key])
    line("SIGTERM at, s into the run", st("stop_at_s", 2))
    line("exited after, s (exit code)", lambda x:
         f"{fmt(x['node_stop']['exit_after_s'], 2)} "
         f"({fmt(x['node_stop']['exit_code'])})")
    line("marked DOWN by HAProxy after, s", st("marked_down_after_s", 2))
    line(f"requests in the {STOP_WINDOW_S:g} s after the stop",
         st("window_requests"))
    line("… failed (non-2xx)", lambda x: fmt(x["node_stop"]["window_failed"])
         + (" (" + ", ".join(f"{k}: {v}" for k, v in
                             x["node_stop"]["window_failed_by_status"]
                             .items()) + ")"
            if x["node_stop"]["window_failed"] else ""))
    line("… retried / redispatched by HAProxy", lambda x:
         f"{fmt(x['node_stop']['window_retries'])} / "
         f"{fmt(x['node_stop']['window_redispatches'])}")
    line("restarted at, s into the run", st("restart_at_s", 2))
    line("ready after, s", st("restart_ready_after_s", 2))
    line("ring recovered (marked UP) after, s",
         st("ring_recovered_after_s", 2))
    line("modules on the stopped node (first third)",
         mv("modules_on_stopped_node_first"))
    line("modules that changed node during the outage",
         mv("moved_during_outage"))
    line("… of them from the stopped node / from others", lambda x:
         f"{fmt(x['node_stop']['modules']['moved_from_stopped_node'])} / "
         f"{fmt(x['node_stop']['modules']['moved_from_other_nodes'])}")
    line("modules whose node in the last third differs from the first",
         mv("last_differs_from_first"))
    line("affinity (first third)", lambda x: _pct(
        x["node_stop"]["modules"]["affinity_first_third"]))
    out.append("")

    out += ["## Per node", "",
            "| mode | node | requests | hot set | tiers at the end "
            "(hot/warm/cold-memory/cold-disk) | ledger peak MiB "
            "(before stop / end) | RSS end / peak MiB |",
            "|---|---|---:|---:|---|---|---|"]
    for row in rows:
        for n, i in (row.get("nodes") or {}).items():
            tiers = i.get("tiers") or {}
            out.append(
                f"| {row['mode']} | {n} | {fmt(i.get('requests'))} "
                f"| {fmt(i.get('hot_modules'))} "
                f"| {'/'.join(fmt(tiers.get(t, 0)) for t in ('hot', 'warm', 'cold-memory', 'cold-disk'))} "
                f"| {fmt(i.get('ledger_peak_mib_prestop'), 2)} / "
                f"{fmt(i.get('ledger_peak_mib_end'), 2)} "
                f"| {fmt(i.get('rss_end_mib'), 1)} / "
                f"{fmt(i.get('rss_peak_mib'), 1)} |")
    out.append("")
    out += ["## How to read it", ""]
    out += [
        "- Latency: from sending a request to the end of its reply "
        "(through HAProxy), over every reply of any status, nearest-rank "
        "percentiles, ms. Throughput: 2xx replies per second of the run.",
        "- Cold starts: 2xx replies whose `X-Strata-Served-From` is not "
        "`hot`. Their cost: the nodes' `strata_acquire_served_seconds_total` "
        "for warm, cold-memory, cold-disk and compile, summed over the nodes "
        "at the end plus the stopped node's scrape just before its SIGTERM "
        "(its restart starts from zero; the few requests it served between "
        "that scrape and its exit are not counted).",
        "- RSS: VmRSS of every node summed, at the end and the maximum of "
        "the sum over samples every 200 ms (the stopped node counts 0 while "
        "it is down). The restarted node's ledger peak and VmHWM cover only "
        "its second life; its peak before the stop is shown separately.",
        "- Hot set: modules with hot instances (or tier `hot`) in each "
        "node's `/v1/modules` at the end; duplication = sum of the hot-set "
        "sizes / modules hot on some node (1: every hot module on one node "
        "only; N: on all of them).",
        "- Imbalance: requests per node (by `X-Strata-Node`), max / mean "
        "over all nodes; the whole run includes the stopped node's outage, "
        "the first third does not. `hash-balance-factor` bounds a node's "
        "requests *in flight* (at most factor% of the average), not its "
        "share of requests: at these rates a node rarely has more than one "
        "call in flight, so under consistent hashing the node that owns the "
        "busiest module takes that module's whole share of the trace.",
        "- Node stop: the window is the "
        f"{STOP_WINDOW_S:g} s after SIGTERM; retries and redispatches are "
        "the deltas of HAProxy's backend `wretr` and `wredis` over it; DOWN "
        "and UP times come from polling HAProxy's `/stats;csv` every "
        "200 ms (so ±0.2 s). Modules moved: each module's dominant node "
        "(most of its replies, by `X-Strata-Node`) before the stop, between "
        "the stop and the restart, and after HAProxy marked the node UP "
        "again. Under round-robin a module has no home node, so these "
        "counts are noise there; affinity = share of the first third's "
        "replies served by their module's dominant node.",
        "- Vegeta's raw results (which hold reply bodies), the targets and "
        "the logs stay in a temporary directory, removed at exit.",
    ]
    out.append("")
    return "\n".join(out)


def report(rows_path, meta, out_dir):
    rows = []
    with open(rows_path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "cluster.json"), "w") as f:
        json.dump({**meta, "modes": rows}, f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "cluster.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(csv_row(row))
    full = [row for row in rows if "requests" in row]
    md = markdown(full, meta) if full else "no mode produced results\n"
    failed = [row for row in rows if "requests" not in row]
    if failed:
        md += "\n## Failed modes\n\n" + "\n".join(
            f"- {row.get('mode')}: {row.get('status')}" for row in failed) \
            + "\n"
    with open(os.path.join(out_dir, "cluster.md"), "w") as f:
        f.write(md)
    print(md)


# ---------------------------------------------------------------- loops

def wait_up(stats_url, servers, pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid and not sl.pid_alive(pid):
            return 3
        try:
            srv, _ = stats_snapshot(parse_stats_csv(fetch(stats_url)))
            if all((srv.get(s) or {}).get("status") == "UP"
                   for s in servers):
                return 0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return 4


def poll(stats_url, pids_dir, out_path, interval):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(out_path, "w") as f:
        while not stop:
            t_next = time.monotonic() + interval
            tick = {"t": None, "srv": None, "be": None, "rss": {}}
            try:
                srv, be = stats_snapshot(parse_stats_csv(
                    fetch(stats_url, timeout=interval * 5)))
                tick["srv"], tick["be"] = srv, be
            except (urllib.error.URLError, OSError):
                pass
            tick["t"] = round(time.time(), 4)
            try:
                names = sorted(os.listdir(pids_dir))
            except OSError:
                names = []
            for n in names:
                pid = _int(read_text(os.path.join(pids_dir, n)).strip())
                if pid:
                    kb = sl.proc_status_kb(pid).get("VmRSS")
                    if kb is not None:
                        tick["rss"][n] = kb
            f.write(json.dumps(tick, separators=(",", ":")) + "\n")
            f.flush()
            time.sleep(max(0.0, t_next - time.monotonic()))


def scrape_node(base, out_dir, name, pid):
    """Returns the number of failures (each reported on stderr)."""
    os.makedirs(out_dir, exist_ok=True)
    bad = 0
    for route, suffix in (("/metrics", "metrics"),
                          ("/v1/modules", "modules.json")):
        try:
            text = fetch(base.rstrip("/") + route, timeout=10)
        except (urllib.error.URLError, OSError) as e:
            print(f"cluster.py: {name}: GET {route}: {e}", file=sys.stderr)
            bad += 1
            continue
        with open(os.path.join(out_dir, f"{name}.{suffix}"), "w") as f:
            f.write(text)
    if pid:
        with open(os.path.join(out_dir, f"{name}.status.json"), "w") as f:
            json.dump(sl.proc_status_kb(pid), f)
    return bad


# ---------------------------------------------------------------- selftest

def _fake_csv(rows):
    """vegeta-like CSV text from (ts_s, code, lat_ms, module, node,
    served)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    for ts, code, lat, mod, node, served in rows:
        h = ""
        if node:
            h += f"X-Strata-Node: {node}\r\nX-Haproxy-Server: {node}\r\n"
        if served:
            h += f"X-Strata-Served-From: {served}\r\n"
        w.writerow([int(ts * 1e9), code, int(lat * 1e6), 10, 21,
                    "" if code else "connection refused", "", "m", 0,
                    "POST", f"http://127.0.0.1:1/v1/modules/{mod}/call/run",
                    base64.b64encode(h.encode()).decode()])
    return buf.getvalue()


def selftest():
    import tempfile
    assert parse_bytes("8MiB") == 8 << 20 and parse_bytes("1024") == 1024
    assert parse_bytes("2M") == 2 << 20 and parse_bytes("512KiB") == 512 << 10
    for bad in ("", "MiB", "1.5MiB", "8TiB"):
        try:
            parse_bytes(bad)
            raise AssertionError(bad)
        except ValueError:
            pass
    assert sl.reply_headers(base64.b64encode(
        b"A: 1\r\nx-strata-node: n1\r\n").decode()) == \
        {"a": "1", "x-strata-node": "n1"}
    assert imbalance({"n1": 30, "n2": 10}, ["n1", "n2", "n3"]) == 2.25
    assert imbalance({}, ["n1"]) is None
    assert duplication([{"a", "b"}, {"b"}, set()]) == (1.5, 2, 3)
    assert duplication([]) == (None, 0, 0)
    hs, tiers = hot_set({"modules": [
        {"name": "a", "tier": "hot", "instances": {"hot": 0}},
        {"name": "b", "tier": "warm", "instances": {"hot": 1}},
        {"name": "c", "tier": "cold-disk", "instances": {"hot": 0}}]})
    assert hs == {"a", "b"} and tiers == {"hot": 1, "warm": 1,
                                          "cold-disk": 1}
    mv = module_moves({"a": "n1", "b": "n2", "c": "n2", "d": "n3"},
                      {"a": "n1", "b": "n3", "c": "n1", "d": "n1"},
                      {"a": "n1", "b": "n2", "c": "n2"}, "n2")
    assert mv["moved_during_outage"] == 3, mv
    assert mv["moved_from_stopped_node"] == 2
    assert mv["moved_from_other_nodes"] == 1
    assert mv["modules_on_stopped_node_first"] == 2
    assert mv["last_differs_from_first"] == 0
    assert mv["modules_first_and_last"] == 3
    stats = ("# pxname,svname,status,req_tot,wretr,wredis,hrsp_5xx,\n"
             "strata,FRONTEND,OPEN,9,,,0,\n"
             "nodes,n1,UP,5,0,1,0,\n"
             "nodes,n2,DOWN,4,2,0,1,\n"
             "nodes,BACKEND,UP,9,2,1,1,\n")
    srv, be = stats_snapshot(parse_stats_csv(stats))
    assert srv == {"n1": {"status": "UP", "req": 5, "wretr": 0, "wredis": 1,
                          "e5xx": 0},
                   "n2": {"status": "DOWN", "req": 4, "wretr": 2,
                          "wredis": 0, "e5xx": 1}}, srv
    assert be["wretr"] == 2 and be["wredis"] == 1

    # A run of 30 s: n2 stops at 10 s and comes back at 20 s.
    t0 = 1_000_000.0
    rows = []
    for i in range(300):
        ts = t0 + i * 0.1
        mod = f"fn{i % 3}"
        home = {"fn0": "n1", "fn1": "n2", "fn2": "n3"}[mod]
        node = home
        if t0 + 10 <= ts < t0 + 20.5 and home == "n2":
            node = "n1"
        code = 200
        if t0 + 10 <= ts < t0 + 10.3 and home == "n2":
            code, node = 503, None
        served = "hot" if i >= 3 else "compile"
        rows.append((ts, code, 1.0 + (i % 10) / 10, mod, node,
                     served if code == 200 else None))
    ticks = []
    for k in range(0, 31 * 5):
        t = t0 + k * 0.2
        status = "UP"
        if t0 + 10.6 <= t < t0 + 21:
            status = "DOWN"
        wretr = 0 if t < t0 + 10.5 else 3
        ticks.append({"t": t, "srv": {"n1": {"status": "UP"},
                                      "n2": {"status": status},
                                      "n3": {"status": "UP"}},
                      "be": {"wretr": wretr, "wredis": wretr, "req": k},
                      "rss": {"n1": 1024, "n3": 1024} if status == "DOWN"
                      else {"n1": 1024, "n2": 2048, "n3": 1024}})
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "results.csv"), "w") as f:
            f.write(_fake_csv(rows))
        with open(os.path.join(d, "events.txt"), "w") as f:
            f.write(f"t_stop {t0 + 10}\nt_exit {t0 + 11}\nstop_exit 0\n"
                    f"t_restart {t0 + 20}\nt_ready {t0 + 20.4}\n")
        with open(os.path.join(d, "poll.jsonl"), "w") as f:
            for t in ticks:
                f.write(json.dumps(t) + "\n")
        os.makedirs(os.path.join(d, "end"))
        os.makedirs(os.path.join(d, "prestop"))
        metrics = ('strata_acquire_served_seconds_total{served_from="hot"} 1\n'
                   'strata_acquire_served_seconds_total{served_from="compile"} 0.5\n'
                   'strata_acquire_served_seconds_total{served_from="cold-disk"} 0.25\n'
                   'strata_ledger_peak_bytes 1048576\n')
        for n in ("n1", "n2", "n3"):
            with open(os.path.join(d, "end", f"{n}.metrics"), "w") as f:
                f.write(metrics)
            with open(os.path.join(d, "end", f"{n}.status.json"), "w") as f:
                json.dump({"VmRSS": 10240, "VmHWM": 20480}, f)
            with open(os.path.join(d, "end", f"{n}.modules.json"), "w") as f:
                json.dump({"modules": [
                    {"name": "fn0", "tier": "hot", "instances": {"hot": 1}},
                    {"name": n, "tier": "hot", "instances": {"hot": 1}}]}, f)
        with open(os.path.join(d, "prestop", "n2.metrics"), "w") as f:
            f.write(metrics.replace("1048576", "2097152"))
        row = analyse_dir(d, "consistent", ["n1", "n2", "n3"], "n2")
    assert row["requests"] == 300, row["requests"]
    # fn1 (home n2) is requested at i = 1, 4, ..., 298: 34 of them within
    # [10 s, 20.5 s), the first (i = 100) answered 503 without a node.
    assert row["ok"] == 299 and row["errors"] == {"503": 1}, row["errors"]
    assert row["cold_starts"] == 3 and row["served_from"]["compile"] == 3
    assert row["cold_start_seconds"] == 3.0, row["cold_start_seconds"]
    assert row["hot_acquire_seconds"] == 4.0
    assert row["latency_ms"]["p50"] == 1.4, row["latency_ms"]
    assert row["latency_ms"]["max"] == 1.9
    assert row["duplication_factor"] == 1.5, row["duplication_factor"]
    assert row["hot_distinct"] == 4
    assert row["rss_end_sum_mib"] == 30.0 and row["rss_max_sum_mib"] == 4.0
    assert row["nodes"]["n2"]["ledger_peak_mib"] == 2.0
    assert row["nodes"]["n2"]["ledger_peak_mib_end"] == 1.0
    assert row["requests_per_node"] == {"n1": 134, "n2": 65, "n3": 100}, \
        row["requests_per_node"]
    assert row["imbalance_first_third"] == 1.02, row["imbalance_first_third"]
    assert row["imbalance"] == 1.344, row["imbalance"]
    assert row["haproxy_requests_per_server"] == {"n1": None, "n2": None,
                                                  "n3": None}
    stop = row["node_stop"]
    assert stop["stop_at_s"] == 10.0 and stop["exit_after_s"] == 1.0
    assert stop["exit_code"] == 0 and stop["restart_ready_after_s"] == 0.4
    assert stop["marked_down_after_s"] == 0.6, stop
    assert stop["ring_recovered_after_s"] == 1.0, stop
    assert stop["window_requests"] == 50 and stop["window_failed"] == 1
    assert stop["window_retries"] == 3 and stop["window_redispatches"] == 3, stop
    m = stop["modules"]
    assert m["moved_during_outage"] == 1 and m["moved_from_stopped_node"] == 1
    assert m["moved_from_other_nodes"] == 0
    assert m["last_differs_from_first"] == 0
    assert m["affinity_first_third"] == 1.0
    assert m["last_third_from_s"] == 21.0
    md = markdown([row], {"date": "d", "command": "c", "git_commit": "x",
                          "nproc": 2, "nodes_n": 3, "duration_s": 30,
                          "budget_per_node_bytes": 1, "total_budget": "3",
                          "stop_node": "n2"})
    assert "| duplication factor | 1.50 |" in md, md
    assert "| … failed (non-2xx) | 1 (503: 1) |" in md
    print("cluster.py selftest: ok")


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("budget")
    b.add_argument("total")
    b.add_argument("n", type=int)
    s = sub.add_parser("seconds-until")
    s.add_argument("when", type=float)
    w = sub.add_parser("wait-up")
    w.add_argument("--stats", required=True)
    w.add_argument("--servers", required=True)
    w.add_argument("--pid", type=int)
    w.add_argument("--timeout", type=float, default=30)
    pl = sub.add_parser("poll")
    pl.add_argument("--stats", required=True)
    pl.add_argument("--pids-dir", required=True)
    pl.add_argument("--out", required=True)
    pl.add_argument("--interval", type=float, default=0.2)
    sn = sub.add_parser("scrape-node")
    sn.add_argument("--base", required=True)
    sn.add_argument("--out-dir", required=True)
    sn.add_argument("--name", required=True)
    sn.add_argument("--pid", type=int)
    a = sub.add_parser("analyse")
    a.add_argument("--dir", required=True)
    a.add_argument("--mode", required=True)
    a.add_argument("--nodes", required=True)
    a.add_argument("--stop-node", default="")
    a.add_argument("--meta", help="JSON merged into the row")
    a.add_argument("--progress", help="one-line summary on stderr, prefixed")
    rp = sub.add_parser("report")
    rp.add_argument("--rows", required=True)
    rp.add_argument("--meta", required=True)
    rp.add_argument("--out", required=True)
    sub.add_parser("selftest")
    args = p.parse_args()

    if args.cmd == "budget":
        try:
            total = parse_bytes(args.total)
        except ValueError as e:
            sys.exit(f"cluster.py: TOTAL_BUDGET: {e}")
        if args.n < 1:
            sys.exit("cluster.py: need at least one node")
        print(total // args.n)
    elif args.cmd == "seconds-until":
        print(f"{max(0.0, args.when - time.time()):.3f}")
    elif args.cmd == "wait-up":
        sys.exit(wait_up(args.stats, args.servers.split(","), args.pid,
                         args.timeout))
    elif args.cmd == "poll":
        poll(args.stats, args.pids_dir, args.out, args.interval)
    elif args.cmd == "scrape-node":
        sys.exit(1 if scrape_node(args.base, args.out_dir, args.name,
                                  args.pid) else 0)
    elif args.cmd == "analyse":
        meta = json.loads(args.meta) if args.meta else {}
        row = analyse_dir(args.dir, args.mode, args.nodes.split(","),
                          args.stop_node or None, meta)
        if args.progress:
            lat = row["latency_ms"]
            stop = row.get("node_stop") or {}
            print(f"{args.progress}{row['requests']} sent, ok "
                  f"{_pct(row['ok_ratio'])}, p50 {fmt(lat['p50'], 2)} p99 "
                  f"{fmt(lat['p99'], 2)} p99.9 {fmt(lat['p99.9'], 2)} ms, "
                  f"cold starts {row['cold_starts']}, duplication "
                  f"{fmt(row['duplication_factor'], 2)}, imbalance "
                  f"{fmt(row['imbalance_first_third'], 2)}, stop: "
                  f"{fmt(stop.get('window_failed'))} failed, DOWN after "
                  f"{fmt(stop.get('marked_down_after_s'), 2)} s",
                  file=sys.stderr)
        print(json.dumps(row, separators=(",", ":")))
    elif args.cmd == "report":
        report(args.rows, json.loads(args.meta), args.out)
    elif args.cmd == "selftest":
        selftest()


if __name__ == "__main__":
    main()
