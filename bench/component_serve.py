#!/usr/bin/env python3
"""Helper of bench/component_serve.sh (stdlib only): `wasmtime serve` and
`strata serve` side by side on the same wasi:http proxy components, under
the same open-loop load (vegeta), one server at a time pinned to core 0 and
the load to core 1.

Part 1, one component (http-hello, then http-extractor on the bundled
pages), in two modes:
  fresh  a new instance per request: wasmtime serve's default for p2
         (--max-instance-reuse-count 1); strata with `reuse = false`
  reuse  an instance serves up to 128 requests: wasmtime serve
         --max-instance-reuse-count 128; strata `reuse = true`,
         `max_uses = 128`
Each row is two runs of one server: a fixed rate (latency: p50, p99,
p99.9 of every reply) and, with -rate=0 and a fixed number of workers, as
fast as it answers (throughput). RSS: the server's VmHWM at the end.
`wasmtime serve` runs twice: as it comes, with no deadline on a call, and
as `wasmtime -Wtimeout`, with the 10 s deadline strata gives every call by
default (call_timeout). Both deadlines are epoch checks compiled into the
guest's loops, which the first row does without.

Part 2, 100 components: copies of http-hello, each a distinct component
(a custom section names it), called in the order of the first 30 minutes
of the Azure Functions 2019 trace (data/traces/azure-functions-2019/100),
thinned to rate x duration calls and compressed into the run. One
`strata serve` holds all 100 under a memory budget; `wasmtime serve` runs
one process per component, each on its own port, as many as start. Total
RSS (the sum of VmRSS at the end and of VmHWM), p99, and strata's cold
starts (replies served from cold memory, cold disk or a compile).

Writes OUT/component-serve.{json,csv,md}; prints the markdown.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_load as sl  # noqa: E402  (shared helpers)

REUSE = 128
# Part 1's servers and `wasmtime serve`'s extra flags: -Wtimeout gives each
# call the 10 s deadline strata gives by default (call_timeout).
ONE_COMPONENT_SERVERS = (("wasmtime", ()),
                         ("wasmtime -Wtimeout", ("-Wtimeout=10s",)),
                         ("strata", None))
WORKERS = 16
TRACE_COPIES = 100
COLD = ("cold-memory", "cold-disk", "compile")


def log(msg):
    print(f"component_serve: {msg}", file=sys.stderr, flush=True)


def wait_http(url, proc, timeout=120.0):
    """Polls `url` until the server answers anything (wasmtime serve has no
    readiness route); False if it exits or times out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    return False


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pages(repo):
    d = os.path.join(repo, "tests", "data", "web-pages")
    out = []
    for name in sorted(os.listdir(d)):
        src = os.path.join(d, name, "source.html")
        if os.path.isfile(src):
            with open(src, "rb") as f:
                out.append((name, f.read()))
    return out


def app_targets(app, base, repo):
    if app == "hello":
        return [json.dumps({"method": "GET", "url": f"{base}/hello"})]
    lines = []
    for name, html in pages(repo):
        url = urllib.parse.quote(f"https://example.com/{name}/", safe="")
        lines.append(sl.target("POST", f"{base}/?url={url}", html, "text/html"))
    return lines


def attack(args, targets, work, name, rate):
    """Runs vegeta; returns [(start, code, latency ns, error, served_from)]."""
    tfile = os.path.join(work, f"{name}.targets")
    with open(tfile, "w") as f:
        f.write("\n".join(targets) + "\n")
    binf = os.path.join(work, f"{name}.bin")
    cmd = [args.vegeta, "attack", f"-duration={args.duration}s", "-format=json",
           f"-targets={tfile}", "-timeout=30s", "-max-body=256"]
    if rate > 0:
        cmd.append(f"-rate={rate}/s")
    else:
        cmd += ["-rate=0", f"-max-workers={WORKERS}", f"-workers={WORKERS}"]
    with open(binf, "wb") as out:
        subprocess.run(args.pin_load + cmd, stdout=out, check=True)
    csvf = binf + ".csv"
    with open(csvf, "w") as out:
        subprocess.run([args.vegeta, "encode", "--to", "csv", binf], stdout=out,
                       check=True)
    rows = sl.read_vegeta_csv(csvf)
    os.remove(binf)
    os.remove(csvf)
    return rows


def latency_stats(rows, duration):
    ok = [r for r in rows if 200 <= r[1] < 300]
    lat = sorted(r[2] for r in rows)
    errors = {}
    for r in rows:
        if not 200 <= r[1] < 300:
            errors[str(r[1])] = errors.get(str(r[1]), 0) + 1
    return {
        "requests": len(rows),
        "ok_per_s": sl.r(len(ok) / duration, 1),
        "p50_ms": sl.ms(sl.percentile(lat, 0.50)),
        "p99_ms": sl.ms(sl.percentile(lat, 0.99)),
        "p999_ms": sl.ms(sl.percentile(lat, 0.999)),
        "errors": errors,
    }


def strata_config(work, modules, budget_mb=None):
    """`modules`: [(name, path, reuse)]."""
    path = os.path.join(work, "strata.toml")
    with open(path, "w") as f:
        f.write("[pool]\n")
        if budget_mb:
            f.write(f"budget_bytes = {budget_mb << 20}\n")
        f.write(f'cache_dir = {sl.toml_str(os.path.join(work, "code-cache"))}\n')
        f.write("[access_log]\ntarget = \"off\"\n")
        for name, wasm, reuse in modules:
            f.write(f"[modules.{name}]\npath = {sl.toml_str(wasm)}\n")
            f.write(f"reuse = {'true' if reuse else 'false'}\n")
            if reuse:
                f.write(f"max_uses = {REUSE}\n")
    return path


def start_strata(args, config, port, work):
    logf = open(os.path.join(work, f"strata-{port}.log"), "w")
    proc = subprocess.Popen(
        args.pin_server + [args.strata, "serve", "--config", config,
                           "--listen", f"127.0.0.1:{port}"],
        stdout=logf, stderr=subprocess.STDOUT)
    return proc


def start_wasmtime(args, wasm, port, reuse, work, pin=True, flags=()):
    logf = open(os.path.join(work, f"wasmtime-{port}.log"), "w")
    cmd = [args.wasmtime, "serve", *flags, f"--addr=127.0.0.1:{port}",
           f"--max-instance-reuse-count={REUSE if reuse else 1}", wasm]
    return subprocess.Popen((args.pin_server if pin else []) + cmd,
                            stdout=logf, stderr=subprocess.STDOUT)


def one_component(args, work):
    rows = []
    for app in ("hello", "extractor"):
        wasm = os.path.join(args.guests, f"http-{app}.wasm")
        rate = args.rate_hello if app == "hello" else args.rate_extractor
        for mode in ("fresh", "reuse"):
            for server, flags in ONE_COMPONENT_SERVERS:
                port = sl.free_port()
                if server != "strata":
                    proc = start_wasmtime(args, wasm, port, mode == "reuse", work,
                                          flags=flags)
                    base = f"http://127.0.0.1:{port}"
                else:
                    cfg = strata_config(work, [(app, wasm, mode == "reuse")])
                    proc = start_strata(args, cfg, port, work)
                    base = f"http://127.0.0.1:{port}/v1/http/{app}"
                row = {"part": "one", "app": app, "mode": mode, "server": server,
                       "rate_per_s": rate}
                if not wait_http(base + "/", proc):
                    row["status"] = "server did not start"
                    stop(proc)
                    rows.append(row)
                    log(f"{app}/{mode}/{server}: did not start")
                    continue
                targets = app_targets(app, base, args.repo)
                fixed = latency_stats(attack(args, targets, work, "fixed", rate),
                                      args.duration)
                most = latency_stats(attack(args, targets, work, "max", 0),
                                     args.duration)
                mem = sl.proc_status_kb(proc.pid)
                stop(proc)
                row.update({
                    "status": "ok",
                    "fixed": fixed,
                    "max_ok_per_s": most["ok_per_s"],
                    "max_errors": most["errors"],
                    "rss_mib": sl.r(mem.get("VmRSS", 0) / 1024, 1),
                    "peak_rss_mib": sl.r(mem.get("VmHWM", 0) / 1024, 1),
                })
                log(f"{app}/{mode}/{server}: p99 {fixed['p99_ms']} ms at "
                    f"{rate}/s, {most['ok_per_s']}/s at most, peak RSS "
                    f"{row['peak_rss_mib']} MiB")
                rows.append(row)
    return rows


def copies(args, work, n):
    """n distinct components: http-hello with a custom section naming each."""
    with open(os.path.join(args.guests, "http-hello.wasm"), "rb") as f:
        base = f.read()
    out = []
    for i in range(n):
        name = b"strata-copy"
        payload = f"fn{i}".encode()
        body = bytes([len(name)]) + name + payload
        section = b"\x00" + bytes([len(body)]) + body
        path = os.path.join(work, f"fn{i}.wasm")
        with open(path, "wb") as f:
            f.write(base + section)
        out.append(path)
    return out


def many_components(args, work):
    paths = copies(args, work, TRACE_COPIES)
    events = sl.trace_invocations(os.path.join(args.repo, sl.TRACE_CSV))
    kept = sl.thin(events, int(round(args.rate_trace * args.duration)))
    rows = []
    # strata: one server, every component, one budget.
    port = sl.free_port()
    cfg = strata_config(work, [(f"fn{i}", p, True) for i, p in enumerate(paths)],
                        budget_mb=args.budget_mb)
    proc = start_strata(args, cfg, port, work)
    base = f"http://127.0.0.1:{port}"
    if wait_http(base + "/readyz", proc):
        targets = [json.dumps({"method": "GET",
                               "url": f"{base}/v1/http/fn{fn}/hello"})
                   for _, fn in kept]
        res = attack(args, targets, work, "trace-strata", args.rate_trace)
        mem = sl.proc_status_kb(proc.pid)
        stats = latency_stats(res, args.duration)
        stats.update({
            "part": "many", "server": "strata", "processes": 1,
            "components": TRACE_COPIES, "budget_mib": args.budget_mb,
            "rss_mib": sl.r(mem.get("VmRSS", 0) / 1024, 1),
            "peak_rss_mib": sl.r(mem.get("VmHWM", 0) / 1024, 1),
            "cold_starts": sum(1 for r in res if r[4] in COLD),
            "status": "ok"})
        rows.append(stats)
        log(f"100 components/strata: p99 {stats['p99_ms']} ms, RSS "
            f"{stats['rss_mib']} MiB, {stats['cold_starts']} cold starts")
    stop(proc)
    # wasmtime serve: a process per component, as many as start.
    procs, ports = [], []
    for p in paths:
        port = sl.free_port()
        procs.append(start_wasmtime(args, p, port, True, work, pin=False))
        ports.append(port)
    started = [wait_http(f"http://127.0.0.1:{port}/", proc, timeout=300)
               for proc, port in zip(procs, ports)]
    # Served from core 0 like strata: move every process there.
    for proc in procs:
        if proc.poll() is None and args.pin_server:
            subprocess.run(["taskset", "-a", "-p", "-c", "0", str(proc.pid)],
                           stdout=subprocess.DEVNULL, check=False)
    up = [i for i, ok in enumerate(started) if ok]
    targets = [json.dumps({"method": "GET",
                           "url": f"http://127.0.0.1:{ports[fn]}/hello"})
               for _, fn in kept if fn in set(up)]
    res = attack(args, targets, work, "trace-wasmtime", args.rate_trace)
    rss = hwm = 0
    for i in up:
        mem = sl.proc_status_kb(procs[i].pid)
        rss += mem.get("VmRSS", 0)
        hwm += mem.get("VmHWM", 0)
    for proc in procs:
        stop(proc)
    stats = latency_stats(res, args.duration)
    stats.update({
        "part": "many", "server": "wasmtime", "processes": len(up),
        "components": len(up), "rss_mib": sl.r(rss / 1024, 1),
        "peak_rss_mib": sl.r(hwm / 1024, 1), "cold_starts": None,
        "status": "ok" if len(up) == TRACE_COPIES
        else f"{TRACE_COPIES - len(up)} processes did not start"})
    rows.append(stats)
    log(f"100 components/wasmtime: {len(up)} processes, p99 "
        f"{stats['p99_ms']} ms, RSS {stats['rss_mib']} MiB")
    return rows


def markdown(rows, meta):
    out = [f"Command: `{meta['command']}`  ",
           f"{meta['date']}, commit {meta['commit']}, {meta['cpu']}, "
           f"{meta['nproc']} cores; {meta['duration_s']} s per run; "
           f"{meta['pinning']}.", ""]
    out += ["One component: a fixed rate for latency, then as fast as it "
            f"answers ({WORKERS} connections) for throughput.", "",
            "| app | mode | server | rate/s | p50 ms | p99 ms | p99.9 ms | "
            "errors | max ok/s | peak RSS MiB |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("part") != "one":
            continue
        if r.get("status") != "ok":
            out.append(f"| {r['app']} | {r['mode']} | {r['server']} | "
                       f"{r['rate_per_s']} | {r['status']} |||||")
            continue
        f = r["fixed"]
        errs = sum(f["errors"].values()) + sum(r["max_errors"].values())
        out.append(f"| {r['app']} | {r['mode']} | {r['server']} | "
                   f"{r['rate_per_s']} | {f['p50_ms']} | {f['p99_ms']} | "
                   f"{f['p999_ms']} | {errs} | {r['max_ok_per_s']} | "
                   f"{r['peak_rss_mib']} |")
    out += ["", "100 components driven by the Azure trace:", "",
            "| server | processes | rate/s | p50 ms | p99 ms | errors | "
            "RSS MiB (sum) | peak RSS MiB (sum) | cold starts |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("part") != "many":
            continue
        out.append(f"| {r['server']} | {r['processes']} | {meta['rate_trace']} "
                   f"| {r['p50_ms']} | {r['p99_ms']} | "
                   f"{sum(r['errors'].values())} | {r['rss_mib']} | "
                   f"{r['peak_rss_mib']} | "
                   f"{'n/a' if r['cold_starts'] is None else r['cold_starts']} |")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repo", required=True)
    p.add_argument("--strata", required=True)
    p.add_argument("--wasmtime", required=True)
    p.add_argument("--vegeta", required=True)
    p.add_argument("--guests", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--rate-hello", type=int, default=1000)
    p.add_argument("--rate-extractor", type=int, default=40)
    p.add_argument("--rate-trace", type=int, default=200)
    p.add_argument("--budget-mb", type=int, default=64)
    p.add_argument("--parts", default="one,many")
    p.add_argument("--command", required=True)
    p.add_argument("--pin", action="store_true")
    args = p.parse_args()
    args.pin_server = ["taskset", "-c", "0"] if args.pin else []
    args.pin_load = ["taskset", "-c", "1"] if args.pin else []
    rows = []
    if "one" in args.parts:
        rows += one_component(args, args.work)
    if "many" in args.parts:
        rows += many_components(args, args.work)
    commit = subprocess.run(["git", "-C", args.repo, "rev-parse", "--short",
                             "HEAD"], capture_output=True, text=True).stdout.strip()
    meta = {"command": args.command, "date": time.strftime("%Y-%m-%d"),
            "commit": commit, "cpu": sl.cpu_model(), "nproc": os.cpu_count(),
            "duration_s": args.duration, "rate_trace": args.rate_trace,
            "budget_mib": args.budget_mb,
            "pinning": "servers on core 0, vegeta on core 1" if args.pin
            else "not pinned"}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "component-serve.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    with open(os.path.join(args.out, "component-serve.csv"), "w") as f:
        f.write("part,app,mode,server,rate_per_s,p50_ms,p99_ms,p999_ms,"
                "max_ok_per_s,rss_mib,peak_rss_mib,cold_starts,status\n")
        for r in rows:
            fx = r.get("fixed", r)
            f.write(",".join(str(x) for x in (
                r.get("part"), r.get("app", "hello"), r.get("mode", "reuse"),
                r.get("server"), r.get("rate_per_s", args.rate_trace),
                fx.get("p50_ms"), fx.get("p99_ms"), fx.get("p999_ms"),
                r.get("max_ok_per_s"), r.get("rss_mib"), r.get("peak_rss_mib"),
                r.get("cold_starts"), r.get("status"))) + "\n")
    md = markdown(rows, meta)
    with open(os.path.join(args.out, "component-serve.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
