#!/usr/bin/env python3
"""Helper of bench/serve_load.sh (stdlib only): configs, vegeta targets, the
server's readiness and memory, and the analysis of each run.

Subcommands (each prints what the shell script needs on stdout):
  free-port                          a free loopback TCP port
  config SCENARIO --repo R --work W  write W/config.toml (and, for `trace`,
                                     the 100 synth variants beside it)
  targets SCENARIO --repo R --base URL --rate N --duration S --out FILE
                                     vegeta JSON targets, one per line; a
                                     JSON summary on stdout
  wait-ready URL PID TIMEOUT_S       poll URL until 200 (exit 3: PID died,
                                     4: timed out)
  sample-rss PID FILE                VmRSS (kB) every 200 ms until PID exits
                                     or this process gets SIGTERM
  scrape URL FILE                    GET URL into FILE
  analyse ...                        one run's row (JSON) from vegeta's CSV,
                                     the /metrics text and the RSS samples
  report --rows FILE --out DIR ...   serve-load.{json,csv,md}; prints the md

Percentiles are nearest-rank over every reply (no interpolation, no
sketch), so p99.9 of 4,000 replies is the 3,996th smallest latency.
"""
import argparse
import base64
import csv
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SCENARIOS = ("trivial", "extractor", "trace", "overload")
SERVED_FROM = ("hot", "warm", "cold-memory", "cold-disk", "compile")
TRACE_CSV = "data/traces/azure-functions-2019/100/invocations.csv"
TRACE_MINUTES = 30
TRACE_MODULES = 100
TRACE_BODY = b"iters=1000"
TRACE_SEED = 20190101
TRIVIAL_BODY = bytes(ord("a") + i % 26 for i in range(64))


# ---------------------------------------------------------------- helpers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_str(s: str) -> str:
    # A TOML basic string; json's escapes are valid TOML escapes.
    return json.dumps(s)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # state is the field after the parenthesised command name
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def proc_status_kb(pid: int) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def percentile(sorted_values, q):
    """Nearest rank: the smallest value with at least q of the values at or
    below it. None for an empty list."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))
    return sorted_values[min(rank, n) - 1]


# ---------------------------------------------------------------- config

def module_table(name: str, path: str) -> str:
    return (f"[modules.{name}]\npath = {toml_str(path)}\n"
            "reuse = false\ntimeout_ms = 10000\n")


def write_config(scenario: str, repo: str, work: str) -> str:
    os.makedirs(work, exist_ok=True)
    guests = os.path.join(repo, "build", "guests")
    queue_limit = 64 if scenario == "overload" else 256
    parts = [
        f"# bench/serve_load.sh, scenario {scenario}; the policy comes from "
        "--set pool.policy\n",
        f"[server]\nworkers = 1\nqueue_limit = {queue_limit}\n",
        '[access_log]\ntarget = "off"\n',
    ]
    if scenario == "trivial":
        parts.append(module_table("echo", os.path.join(guests, "echo.wat")))
    elif scenario in ("extractor", "overload"):
        parts.append('[extract]\nc = "extractor"\n')
        parts.append(module_table("extractor",
                                  os.path.join(guests, "extractor.wasm")))
    elif scenario == "trace":
        synth = os.path.join(guests, "synth.wasm")
        tool = os.path.join(repo, "guests", "synth", "make_variant.py")
        for i in range(TRACE_MODULES):
            out = os.path.join(work, f"fn{i}.wasm")
            subprocess.run([sys.executable, tool, synth, out,
                            "--variant", str(i)], check=True)
            # Relative to the configuration file's directory.
            parts.append(module_table(f"fn{i}", f"fn{i}.wasm"))
    else:
        sys.exit(f"serve_load.py: unknown scenario '{scenario}'")
    path = os.path.join(work, "config.toml")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return path


# ---------------------------------------------------------------- targets

def target(method: str, url: str, body: bytes, content_type: str) -> str:
    return json.dumps({
        "method": method,
        "url": url,
        "body": base64.b64encode(body).decode("ascii"),
        "header": {"Content-Type": [content_type]},
    }, separators=(",", ":"))


def trace_invocations(csv_path: str, minutes: int = TRACE_MINUTES):
    """The first `minutes` minutes of an Azure Functions 2019 invocations
    file as (seconds, function row) in time order: each minute's count
    spread evenly within the minute, row i being the file's i-th function."""
    events = []
    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        first = header.index("480")
        for row_index, row in enumerate(reader):
            for m in range(minutes):
                count = int(row[first + m])
                for j in range(count):
                    events.append((m * 60 + (j + 0.5) * 60.0 / count,
                                   row_index))
    events.sort()
    return events


def thin(events, target_count: int, seed: int = TRACE_SEED):
    """Keeps each event with the same probability target_count/len(events)
    (a seeded uniform sample of exactly target_count of them), in order."""
    if target_count >= len(events):
        return list(events)
    keep = sorted(random.Random(seed).sample(range(len(events)),
                                             target_count))
    return [events[i] for i in keep]


def make_targets(scenario, repo, base, rate, duration):
    """Returns (target lines, summary dict)."""
    base = base.rstrip("/")
    summary = {"scenario": scenario}
    if scenario == "trivial":
        lines = [target("POST", f"{base}/v1/modules/echo/call/run",
                        TRIVIAL_BODY, "application/octet-stream")]
        summary["body_bytes"] = len(TRIVIAL_BODY)
    elif scenario in ("extractor", "overload"):
        pages_dir = os.path.join(repo, "tests", "data", "web-pages")
        lines = []
        for d in sorted(os.listdir(pages_dir)):
            src = os.path.join(pages_dir, d, "source.html")
            if not os.path.isfile(src):
                continue
            with open(src, "rb") as f:
                html = f.read()
            page_url = urllib.parse.quote(f"https://example.com/{d}/", safe="")
            lines.append(target("POST",
                                f"{base}/v1/extract?url={page_url}&engine=c",
                                html, "text/html"))
        if not lines:
            sys.exit(f"serve_load.py: no {pages_dir}/*/source.html")
        summary["pages"] = len(lines)
    elif scenario == "trace":
        events = trace_invocations(os.path.join(repo, TRACE_CSV))
        want = int(round(rate * duration))
        kept = thin(events, want)
        lines = [target("POST", f"{base}/v1/modules/fn{fn}/call/run",
                        TRACE_BODY, "application/octet-stream")
                 for _, fn in kept]
        per_fn = {}
        for _, fn in kept:
            per_fn[fn] = per_fn.get(fn, 0) + 1
        summary.update({
            "trace": TRACE_CSV,
            "trace_minutes": TRACE_MINUTES,
            "trace_invocations": len(events),
            "kept": len(kept),
            "keep_probability": round(len(kept) / len(events), 6)
            if events else None,
            "seed": TRACE_SEED,
            "modules_invoked": len(per_fn),
            "top_module_share": round(max(per_fn.values()) / len(kept), 4)
            if kept else None,
            "compression": round(TRACE_MINUTES * 60 / duration, 2),
        })
    else:
        sys.exit(f"serve_load.py: unknown scenario '{scenario}'")
    summary["targets"] = len(lines)
    return lines, summary


def describe(summary, rate, duration) -> str:
    scenario = summary["scenario"]
    rate_s = f"{rate:g}/s for {duration:g} s"
    if scenario == "trivial":
        return (f"POST of {summary['body_bytes']} bytes to "
                "`/v1/modules/echo/call/run` (`build/guests/echo.wat`, a "
                f"reactor whose `run` returns its input) at {rate_s}.")
    if scenario in ("extractor", "overload"):
        text = (f"The {summary['pages']} bundled pages "
                "(`tests/data/web-pages/*/source.html`) round-robin, each "
                "POSTed to `/v1/extract?url=https://example.com/<dir>/"
                "&engine=c` (module `build/guests/extractor.wasm`) at "
                f"{rate_s}.")
        if scenario == "overload":
            text += (" `server.queue_limit = 64`: past it the server must "
                     "shed (503) at once and keep serving the rest.")
        return text
    if scenario == "trace":
        return (
            f"{TRACE_MODULES} synth variants (`fn0`..`fn{TRACE_MODULES - 1}`, "
            "`make_variant.py --variant I`, default parameters), each call "
            f"`{TRACE_BODY.decode()}`, budget 4 MiB. Order of the calls: the "
            f"first {summary['trace_minutes']} minutes of the Azure Functions "
            "2019 100-function sample (function row i is `fnI`; "
            f"{summary['trace_invocations']:,} invocations, each minute's "
            "count spread evenly within the minute), thinned to "
            f"{summary['kept']:,} (each kept with probability "
            f"{summary['keep_probability']}, seed {summary['seed']}; "
            f"{summary['modules_invoked']} modules invoked, the busiest has "
            f"{summary['top_module_share'] * 100:.0f}% of the calls) and "
            f"compressed from {summary['trace_minutes']} minutes into the run "
            f"({summary['compression']}x) at a constant {rate_s}: the trace's "
            "order and mix are kept, its burstiness within and between "
            "minutes is not.")
    return ""


# ---------------------------------------------------------------- metrics

_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _unescape(v: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse_prometheus(text: str):
    """[(name, {label: value}, float)] of a Prometheus text exposition."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = {k: _unescape(v) for k, v in _LABEL.findall(m.group(3) or "")}
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        samples.append((m.group(1), labels, value))
    return samples


def metric_value(samples, name, **labels):
    """The value of the one sample of `name` whose labels are exactly
    `labels`; failing that, of the only sample carrying `labels`; else
    None (absent, ambiguous or NaN)."""
    exact = [v for n, l, v in samples if n == name and l == labels]
    if not exact:
        exact = [v for n, l, v in samples
                 if n == name and all(l.get(k) == x for k, x in labels.items())]
    if len(exact) != 1 or math.isnan(exact[0]):
        return None
    return exact[0]


def metric_sum(samples, name, **labels):
    vals = [v for n, l, v in samples
            if n == name and all(l.get(k) == x for k, x in labels.items())
            and not math.isnan(v)]
    return sum(vals) if vals else None


# ---------------------------------------------------------------- analysis

def cpu_model():
    """The CPU's model name, for the reports (None if unknown)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def reply_headers(b64: str) -> dict:
    """Reply headers from vegeta's CSV (base64 of `Key: value\\r\\n`...)
    keyed by lower-case name; the last of repeated headers wins."""
    out = {}
    if not b64:
        return out
    try:
        raw = base64.b64decode(b64).decode("latin-1")
    except ValueError:
        return out
    for line in raw.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def served_from_header(b64: str):
    return reply_headers(b64).get("x-strata-served-from")


def read_vegeta_csv(path: str):
    """Per result: (start ns, code, latency ns, error, served-from)."""
    csv.field_size_limit(1 << 30)
    rows = []
    with open(path, newline="") as f:
        for rec in csv.reader(f):
            if len(rec) < 6:
                continue
            rows.append((int(rec[0]), int(rec[1]), int(rec[2]), rec[5],
                         served_from_header(rec[11]) if len(rec) > 11
                         else None))
    return rows


def ms(ns):
    return None if ns is None else round(ns / 1e6, 3)


def r(x, digits=3):
    return None if x is None else round(x, digits)


def analyse(args) -> dict:
    results = read_vegeta_csv(args.results_csv)
    sent = len(results)
    replies = [x for x in results if x[1] != 0]
    ok = [x for x in results if 200 <= x[1] < 400]
    lat_all = sorted(x[2] for x in replies)
    lat_ok = sorted(x[2] for x in ok)

    errors = {}
    for _, code, _, err, _ in results:
        if 200 <= code < 400:
            continue
        key = str(code) if code else "no reply: " + (err or "?")[:80]
        errors[key] = errors.get(key, 0) + 1

    if results:
        first = min(x[0] for x in results)
        last_send = max(x[0] for x in results)
        end = max(x[0] + x[2] for x in results)
        wall_s = (end - first) / 1e9
        send_span_s = (last_send - first) / 1e9
    else:
        wall_s = send_span_s = 0.0
    header_counts = {}
    for x in ok:
        if x[4]:
            header_counts[x[4]] = header_counts.get(x[4], 0) + 1

    text = ""
    if args.metrics and os.path.exists(args.metrics):
        with open(args.metrics) as f:
            text = f.read()
    samples = parse_prometheus(text)
    served = {}
    for s in SERVED_FROM:
        v = metric_sum(samples, "strata_acquires_total", served_from=s)
        served[s] = None if v is None else int(v)
    acquire_p50 = metric_value(samples, "strata_acquire_seconds",
                               quantile="0.5")
    call_p50 = metric_value(samples, "strata_call_seconds", quantile="0.5")
    ledger_peak = metric_value(samples, "strata_ledger_peak_bytes")
    # The pool's own background work, which shares the server's core.
    background = {
        "maintainer_runs": metric_value(samples,
                                        "strata_maintainer_runs_total"),
        "maintainer_cpu_s": metric_value(
            samples, "strata_maintainer_cpu_seconds_total"),
        "instantiations_foreground": metric_value(
            samples, "strata_instantiations_total", where="foreground"),
        "instantiations_background": metric_value(
            samples, "strata_instantiations_total", where="background"),
    }
    background = {k: (int(v) if v is not None and not k.endswith("_s") else v)
                  for k, v in background.items()}
    http_requests = {}
    for n, l, v in samples:
        if n in ("strata_http_requests_total", "strata_http_rejected_total"):
            key = n.replace("strata_http_", "") + "{" + ",".join(
                f"{k}={l[k]}" for k in sorted(l)) + "}"
            http_requests[key] = int(v)

    reply_p50_ok = percentile(lat_ok, 0.5)
    overhead_ms = None
    if reply_p50_ok is not None and acquire_p50 is not None \
            and call_p50 is not None:
        overhead_ms = round(reply_p50_ok / 1e6 - (acquire_p50 + call_p50) * 1e3,
                            3)

    rss = []
    if args.rss_samples and os.path.exists(args.rss_samples):
        with open(args.rss_samples) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    rss.append(int(parts[1]))
    end_status = json.loads(args.status_end) if args.status_end else {}

    def mib_kb(kb):
        return None if kb is None else round(kb / 1024, 1)

    row = json.loads(args.meta) if args.meta else {}
    row.update({
        "requests_sent": sent,
        "replies": len(replies),
        "successes": len(ok),
        "success_ratio": r(len(ok) / sent, 4) if sent else None,
        "send_rate_per_s": r((sent - 1) / send_span_s, 1)
        if sent > 1 and send_span_s > 0 else None,
        "throughput_per_s": r(len(ok) / wall_s, 1) if wall_s > 0 else None,
        "wall_s": r(wall_s, 2),
        "latency_ms": {
            "p50": ms(percentile(lat_all, 0.5)),
            "p90": ms(percentile(lat_all, 0.9)),
            "p99": ms(percentile(lat_all, 0.99)),
            "p99.9": ms(percentile(lat_all, 0.999)),
            "max": ms(lat_all[-1] if lat_all else None),
        },
        "latency_ok_ms": {
            "p50": ms(reply_p50_ok),
            "p99": ms(percentile(lat_ok, 0.99)),
            "p99.9": ms(percentile(lat_ok, 0.999)),
            "max": ms(lat_ok[-1] if lat_ok else None),
        },
        "errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])),
        "served_from": served,
        "served_from_reply_headers": header_counts,
        "rss_end_mib": mib_kb(end_status.get("VmRSS")),
        "rss_peak_mib": mib_kb(end_status.get("VmHWM")),
        "rss_sampled_max_mib": mib_kb(max(rss) if rss else None),
        "rss_sampled_mean_mib": mib_kb(sum(rss) / len(rss) if rss else None),
        "rss_samples": len(rss),
        "pool_background": background,
        "ledger_peak_mib": None if ledger_peak is None
        else round(ledger_peak / (1 << 20), 2),
        "server_acquire_p50_ms": None if acquire_p50 is None
        else round(acquire_p50 * 1e3, 4),
        "server_call_p50_ms": None if call_p50 is None
        else round(call_p50 * 1e3, 4),
        "http_overhead_ms": overhead_ms,
        "http_requests": http_requests,
        "metrics_scraped": bool(text),
    })
    return row


# ---------------------------------------------------------------- report

CSV_FIELDS = [
    "scenario", "policy", "rate_per_s", "duration_s", "status",
    "server_exit", "requests_sent", "successes", "success_ratio",
    "send_rate_per_s", "throughput_per_s", "p50_ms", "p90_ms", "p99_ms",
    "p99.9_ms", "max_ms", "errors", "hot", "warm", "cold-memory",
    "cold-disk", "compile", "rss_end_mib", "rss_peak_mib", "ledger_peak_mib",
    "server_acquire_p50_ms", "server_call_p50_ms", "http_overhead_ms",
]


def csv_row(row):
    lat = row.get("latency_ms") or {}
    served = row.get("served_from") or {}
    out = {k: row.get(k) for k in CSV_FIELDS}
    for k in ("p50", "p90", "p99", "p99.9", "max"):
        out[f"{k}_ms"] = lat.get(k)
    out["errors"] = ";".join(f"{k}:{v}" for k, v in
                             (row.get("errors") or {}).items())
    for s in SERVED_FROM:
        out[s] = served.get(s)
    return out


def fmt(x, digits=None):
    if x is None:
        return "–"
    if isinstance(x, float) and digits is not None:
        return f"{x:.{digits}f}"
    return str(x)


def markdown(rows, meta) -> str:
    out = [f"# strata serve under load ({meta['date']})", ""]
    out.append("Produced by:")
    out.append("")
    out.append("```sh")
    out.append(meta["command"])
    out.append("```")
    out.append("")
    out.append(
        f"Commit `{meta['git_commit']}`{' (dirty tree)' if meta.get('git_dirty') else ''}, "
        f"{meta['nproc']} cores ({meta.get('cpu') or 'cpu unknown'}), "
        f"{meta.get('pinning')}. Load: vegeta {meta.get('vegeta')} "
        "`attack`, open loop at a constant rate (requests leave on schedule "
        "whatever the replies do, so a slow server cannot hold the load back "
        "and hide its own latency: no coordinated omission). Every run starts "
        "a fresh server (`strata serve --config <the scenario's config, in "
        "serve-load.json> --set pool.policy=POLICY --set pool.cache_dir=<an "
        "empty directory>`, plus `--set pool.budget_bytes=4MiB` for the "
        "trace) and has no warm-up: the first requests pay the cold starts "
        "each policy leaves.")
    out.append("")
    out.append(
        "Latency: from sending a request to the end of its reply, over every "
        "reply of any status, nearest-rank percentiles, ms. Sent/s: the "
        "rate vegeta achieved. Throughput (ok/s): "
        "successful (2xx/3xx) replies per second of the run. Served from: "
        "the server's `strata_acquires_total` at the end. RSS: the server's "
        "VmRSS at the end of the load / its VmHWM (peak). HTTP overhead: "
        "successful replies' p50 minus the server's own acquire p50 plus "
        "call p50 (from /metrics), so it includes the wait in the server's "
        "queue; approximate: a difference of medians, not the median of a "
        "difference. Passes / CPU s / instances: the pool's background work "
        "on the server's core (maintenance passes, their CPU seconds, and "
        "instances made by the refill thread + on requests' paths). Reply "
        "bodies and vegeta's raw results are not kept.")
    by_scenario = {}
    for row in rows:
        by_scenario.setdefault(row["scenario"], []).append(row)
    for scenario, srows in by_scenario.items():
        info = meta.get("scenarios", {}).get(scenario, {})
        out.append("")
        out.append(f"## {scenario}")
        out.append("")
        if info.get("description"):
            out.append(info["description"])
            out.append("")
        out.append("| policy | sent | sent/s | ok/s | success | p50 | p99 | "
                   "p99.9 | max | errors | hot / warm / cold-mem / cold-disk "
                   "/ compile | RSS end / peak MiB | ledger peak MiB | "
                   "HTTP overhead ms | passes / CPU s / instances bg+fg |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
                   "---:|---:|---|")
        for row in srows:
            if row.get("status") != "ok" and not row.get("requests_sent"):
                out.append(f"| {row['policy']} | {row.get('status')} |"
                           + " |" * 13)
                continue
            lat = row.get("latency_ms") or {}
            served = row.get("served_from") or {}
            bg = row.get("pool_background") or {}
            errors = ", ".join(f"{k}: {v}" for k, v in
                               (row.get("errors") or {}).items()) or "none"
            status = row.get("status")
            policy = row["policy"] if status == "ok" \
                else f"{row['policy']} ({status})"
            ratio = row.get("success_ratio")
            out.append(
                f"| {policy} | {fmt(row.get('requests_sent'))} "
                f"| {fmt(row.get('send_rate_per_s'), 1)} "
                f"| {fmt(row.get('throughput_per_s'), 1)} "
                f"| {'–' if ratio is None else f'{ratio * 100:.2f}%'} "
                f"| {fmt(lat.get('p50'), 2)} | {fmt(lat.get('p99'), 2)} "
                f"| {fmt(lat.get('p99.9'), 2)} | {fmt(lat.get('max'), 2)} "
                f"| {errors} "
                f"| {' / '.join(fmt(served.get(s)) for s in SERVED_FROM)} "
                f"| {fmt(row.get('rss_end_mib'), 1)} / "
                f"{fmt(row.get('rss_peak_mib'), 1)} "
                f"| {fmt(row.get('ledger_peak_mib'), 2)} "
                f"| {fmt(row.get('http_overhead_ms'), 3)} "
                f"| {fmt(bg.get('maintainer_runs'))} / "
                f"{fmt(bg.get('maintainer_cpu_s'), 2)} / "
                f"{fmt(bg.get('instantiations_background'))}+"
                f"{fmt(bg.get('instantiations_foreground'))} |")
    out.append("")
    return "\n".join(out)


def report(args):
    rows = []
    with open(args.rows) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    meta = json.loads(args.meta)
    scenarios = {}
    if args.scenarios and os.path.exists(args.scenarios):
        with open(args.scenarios) as f:
            for line in f:
                if line.strip():
                    s = json.loads(line)
                    scenarios[s["scenario"]] = s
    meta["scenarios"] = scenarios
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "serve-load.json"), "w") as f:
        json.dump({**meta, "runs": rows}, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "serve-load.csv"), "w",
              newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for row in rows:
            w.writerow(csv_row(row))
    md = markdown(rows, meta)
    with open(os.path.join(args.out, "serve-load.md"), "w") as f:
        f.write(md)
    print(md)


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    sub.add_parser("free-port")

    c = sub.add_parser("config")
    c.add_argument("scenario", choices=SCENARIOS)
    c.add_argument("--repo", required=True)
    c.add_argument("--work", required=True)

    t = sub.add_parser("targets")
    t.add_argument("scenario", choices=SCENARIOS)
    t.add_argument("--repo", required=True)
    t.add_argument("--base", required=True)
    t.add_argument("--rate", type=float, required=True)
    t.add_argument("--duration", type=float, required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--config", help="recorded in --summary-file")
    t.add_argument("--summary-file",
                   help="append the scenario's summary (JSON line) unless "
                        "the scenario is there already")

    w = sub.add_parser("wait-ready")
    w.add_argument("url")
    w.add_argument("pid", type=int)
    w.add_argument("timeout", type=float)

    s = sub.add_parser("sample-rss")
    s.add_argument("pid", type=int)
    s.add_argument("file")
    s.add_argument("--interval", type=float, default=0.2)

    g = sub.add_parser("scrape")
    g.add_argument("url")
    g.add_argument("file")

    st = sub.add_parser("status")
    st.add_argument("pid", type=int)

    a = sub.add_parser("analyse")
    a.add_argument("--results-csv", required=True)
    a.add_argument("--metrics")
    a.add_argument("--rss-samples")
    a.add_argument("--status-end", help="JSON of `status` at the end")
    a.add_argument("--meta", help="JSON merged into the row")
    a.add_argument("--progress", help="print a one-line summary to stderr "
                                      "with this prefix")

    rp = sub.add_parser("report")
    rp.add_argument("--rows", required=True)
    rp.add_argument("--scenarios")
    rp.add_argument("--meta", required=True)
    rp.add_argument("--out", required=True)

    args = p.parse_args()
    if args.cmd == "free-port":
        print(free_port())
    elif args.cmd == "config":
        print(write_config(args.scenario, args.repo, args.work))
    elif args.cmd == "targets":
        lines, summary = make_targets(args.scenario, args.repo, args.base,
                                      args.rate, args.duration)
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
        summary["rate_per_s"] = args.rate
        summary["duration_s"] = args.duration
        summary["description"] = describe(summary, args.rate, args.duration)
        if args.summary_file:
            seen = set()
            if os.path.exists(args.summary_file):
                with open(args.summary_file) as f:
                    seen = {json.loads(x)["scenario"] for x in f if x.strip()}
            if args.scenario not in seen:
                if args.config:
                    with open(args.config) as f:
                        # The checkout's path is this machine's, not the
                        # result's.
                        summary["config"] = f.read().replace(
                            args.repo, "<repo>")
                with open(args.summary_file, "a") as f:
                    f.write(json.dumps(summary) + "\n")
        print(json.dumps(summary))
    elif args.cmd == "wait-ready":
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if not pid_alive(args.pid):
                sys.exit(3)
            try:
                with urllib.request.urlopen(args.url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        sys.exit(4)
    elif args.cmd == "sample-rss":
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        t0 = time.monotonic()
        with open(args.file, "w") as f:
            while not stop and pid_alive(args.pid):
                kb = proc_status_kb(args.pid).get("VmRSS")
                if kb is not None:
                    f.write(f"{int((time.monotonic() - t0) * 1000)} {kb}\n")
                    f.flush()
                time.sleep(args.interval)
    elif args.cmd == "scrape":
        try:
            with urllib.request.urlopen(args.url, timeout=10) as resp:
                data = resp.read()
        except (urllib.error.URLError, OSError) as e:
            sys.exit(f"serve_load.py: scrape {args.url}: {e}")
        with open(args.file, "wb") as f:
            f.write(data)
    elif args.cmd == "status":
        print(json.dumps(proc_status_kb(args.pid)))
    elif args.cmd == "analyse":
        row = analyse(args)
        if args.progress:
            lat = row["latency_ms"]
            ratio = row["success_ratio"]
            print(f"{args.progress}{row['requests_sent']} sent, "
                  f"{fmt(row['throughput_per_s'], 1)} ok/s, success "
                  f"{'–' if ratio is None else f'{ratio * 100:.2f}%'}, "
                  f"p50 {fmt(lat['p50'], 2)} p99 {fmt(lat['p99'], 2)} "
                  f"p99.9 {fmt(lat['p99.9'], 2)} max {fmt(lat['max'], 2)} ms, "
                  f"RSS peak {fmt(row['rss_peak_mib'], 1)} MiB",
                  file=sys.stderr)
        print(json.dumps(row, separators=(",", ":")))
    elif args.cmd == "report":
        report(args)


if __name__ == "__main__":
    main()
