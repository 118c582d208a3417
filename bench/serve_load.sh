#!/usr/bin/env bash
# `strata serve` under HTTP load: each scenario against each pool policy
# (`instantiate`: a fresh instance per request from pre-linked code, what
# `wasmtime serve` does; `keepalive`: a fixed 10-minute keep-alive;
# `strata`), a fresh server per run with an empty compiled-code cache, and
# no warm-up: the cold starts a policy leaves are part of what is compared.
#
# The load comes from vegeta v12.13.0 (installed on first use into
# ~/.cache/strata/tools with `go install`). `vegeta attack` is open loop at
# a constant rate: requests leave on schedule whatever the replies do, so a
# slow server cannot slow the load down and hide its own latency (no
# coordinated omission). The server is pinned to core 0 and vegeta (and
# this script's samplers) to core 1 with taskset.
#
# Scenarios (SCENARIOS, default "trivial extractor trace"):
#   trivial    64 bytes to the echo reactor (build/guests/echo.wat), 200/s
#   extractor  the 12 bundled pages (tests/data/web-pages/*/source.html)
#              round-robin to POST /v1/extract?engine=c, 40/s
#   trace      100 synth variants called in the order of the first 30
#              minutes of data/traces/azure-functions-2019/100, thinned to
#              rate x duration calls and compressed into the run (order and
#              mix kept, burstiness not), `iters=1000`, budget 4 MiB, 200/s
#   overload   (only when asked) the extractor at 1000/s with
#              queue_limit = 64: it must shed (503) and keep serving
# Per run: requests sent, successful replies/s, success ratio, latency
# p50/p99/p99.9/max of all replies (computed from every result, not
# vegeta's sketch), errors by status, served-from counts, RSS at the end and
# peak (VmHWM), the ledger's peak and the HTTP overhead (reply p50 minus
# the server's acquire p50 + call p50; approximate: a difference of medians).
#
# Usage: [DURATION=20] [SCENARIOS="trivial extractor trace"]
#        [POLICIES="instantiate keepalive strata"] [STRATA=build/strata]
#        [RATE_TRIVIAL=200] [RATE_EXTRACTOR=40] [RATE_TRACE=200]
#        [RATE_OVERLOAD=1000]
#        bash bench/serve_load.sh [OUT_DIR, default docs/results/serve-load]
# Needs build/strata and build/guests (cmake --build --preset default), go
# for the first vegeta install, python3. Writes OUT_DIR/serve-load.json
# (every row, the command, date, commit, nproc), serve-load.csv (a row per
# run) and serve-load.md (a table per scenario), all a few kilobytes; the
# targets, vegeta's raw results (which hold reply bodies) and the server
# logs stay in a temporary directory under ${TMPDIR:-/tmp}, removed at exit.
# About (DURATION + a few s) x scenarios x policies, plus ~5 s to make the
# trace's 100 modules.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$repo/bench"
# shellcheck source=bench/common.sh
source "$here/common.sh"
out=${1:-$repo/docs/results/serve-load}
duration=${DURATION:-20}
scenarios=${SCENARIOS:-trivial extractor trace}
policies=${POLICIES:-instantiate keepalive strata}
strata=${STRATA:-$repo/build/strata}
py() { python3 "$here/serve_load.py" "$@"; }
say() { echo "serve_load: $*" >&2; }
die() { say "$*"; exit 1; }

# The exact command, for the results.
command_line=""
for v in DURATION SCENARIOS POLICIES STRATA $(compgen -v RATE_ || true); do
  if [ -n "${!v+x}" ]; then command_line+="$v=$(printf %q "${!v}") "; fi
done
command_line+="bash $0${1+ $(printf %q "$1")}"

# --- checks, before anything runs
if ! [[ $duration =~ ^[1-9][0-9]*$ ]]; then
  die "DURATION must be a whole number of seconds, not '$duration'"
fi
[ -x "$strata" ] || die "no $strata; build it first (cmake --build --preset default)"
"$strata" serve --help >/dev/null 2>&1 || die "$strata has no working 'serve' subcommand"
need=()
for s in $scenarios; do
  case $s in
    trivial) need+=("$repo/build/guests/echo.wat") ;;
    extractor|overload) need+=("$repo/build/guests/extractor.wasm") ;;
    trace) need+=("$repo/build/guests/synth.wasm"
                  "$repo/data/traces/azure-functions-2019/100/invocations.csv") ;;
    *) die "unknown scenario '$s' (trivial, extractor, trace, overload)" ;;
  esac
done
for f in "${need[@]}"; do [ -e "$f" ] || die "missing $f"; done
for p in $policies; do
  [[ $p =~ ^[a-z0-9_:-]+$ ]] || die "bad policy name '$p'"
done

# --- the load generator
install_vegeta

# --- pinning: server on core 0, load (and the samplers) on core 1
pin_server=()
pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0)
  pin_load=(taskset -c 1)
  pinning="server pinned to core 0, vegeta to core 1"
else
  pinning="not pinned (no taskset or one core)"
  say "note: $pinning; server and load generator share the cores"
fi

env_vars=$(compgen -v STRATA_ || true)
if [ -n "$env_vars" ]; then
  say "note: the server also reads these from the environment: ${env_vars//$'\n'/ }"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/serve-load.XXXXXX")
server_pid=""
sampler_pid=""
cleanup() {
  if [ -n "$sampler_pid" ]; then kill -TERM "$sampler_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rows="$work/rows.jsonl"
scen_file="$work/scenarios.jsonl"
: >"$rows"
failures=0

# Records a run that produced no measurements.
fail_row() {  # scenario policy rate status logfile
  local tail_text=""
  [ -f "$5" ] && tail_text=$(tail -n 20 "$5")
  say "$1/$2: $4"
  [ -n "$tail_text" ] && printf '%s\n' "$tail_text" | sed 's/^/  | /' >&2
  python3 -c 'import json,sys; print(json.dumps({"scenario":sys.argv[1],"policy":sys.argv[2],"rate_per_s":float(sys.argv[3]),"duration_s":float(sys.argv[4]),"status":sys.argv[5],"server_log_tail":sys.argv[6]}))' \
    "$1" "$2" "$3" "$duration" "$4" "$tail_text" >>"$rows"
  failures=$((failures + 1))
}

run_one() {  # scenario policy rate config extra-set...
  local scenario=$1 policy=$2 rate=$3 config=$4
  shift 4
  local d="$work/$scenario/$policy" port base status="ok" vrc=0 status_end
  mkdir -p "$d"
  port=$(py free-port)
  base="http://127.0.0.1:$port"
  py targets "$scenario" --repo "$repo" --base "$base" --rate "$rate" \
    --duration "$duration" --out "$d/targets.json" --config "$config" \
    --summary-file "$scen_file" >"$d/targets-summary.json"
  say "$scenario/$policy: start, $rate/s for $duration s on port $port"

  # An empty compiled-code cache per run: the server's default, a directory
  # under ~/.cache/strata, would hand one run's compilations to the next.
  mkdir -p "$d/code-cache"
  "${pin_server[@]}" "$strata" serve --config "$config" \
    --listen "127.0.0.1:$port" --set "pool.policy=$policy" \
    --set "pool.cache_dir=$d/code-cache" "$@" >"$d/server.log" 2>&1 &
  server_pid=$!
  local ready=0
  py wait-ready "$base/readyz" "$server_pid" 120 || ready=$?
  if [ "$ready" -ne 0 ]; then
    local why="not ready within 120 s"
    [ "$ready" -eq 3 ] && why="exited before it was ready"
    kill -TERM "$server_pid" 2>/dev/null || true
    reap "$server_pid" 100
    server_pid=""
    fail_row "$scenario" "$policy" "$rate" "failed: server $why (exit $rc)" "$d/server.log"
    return 0
  fi

  "${pin_load[@]}" python3 "$here/serve_load.py" sample-rss "$server_pid" "$d/rss.txt" &
  sampler_pid=$!
  "${pin_load[@]}" "$vegeta" attack -rate="$rate/s" -duration="${duration}s" \
    -format=json -targets="$d/targets.json" -timeout=30s -max-body=1024 \
    -name="$scenario-$policy" >"$d/results.bin" 2>"$d/vegeta.log" || vrc=$?
  status_end=$(py status "$server_pid")
  py scrape "$base/metrics" "$d/metrics.txt" ||
    say "$scenario/$policy: could not scrape /metrics"
  kill -TERM "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""

  kill -TERM "$server_pid"
  reap "$server_pid" 600
  server_pid=""
  [ "$vrc" -eq 0 ] || status="vegeta failed (exit $vrc): $(head -c 200 "$d/vegeta.log" | tr '\n|' '  ')"
  if [ "$rc" -ne 0 ]; then
    status="server exited $rc after SIGTERM"
    say "$scenario/$policy: $status; log tail:"
    tail -n 20 "$d/server.log" | sed 's/^/  | /' >&2
  fi
  [ "$status" = ok ] || failures=$((failures + 1))

  "$vegeta" encode --to csv "$d/results.bin" >"$d/results.csv" ||
    say "$scenario/$policy: vegeta encode failed; the row counts what it wrote"
  local meta
  meta=$(python3 -c 'import json,sys; print(json.dumps({"scenario":sys.argv[1],"policy":sys.argv[2],"rate_per_s":float(sys.argv[3]),"duration_s":float(sys.argv[4]),"status":sys.argv[5],"server_exit":int(sys.argv[6]),"targets":json.load(open(sys.argv[7]))["targets"]}))' \
    "$scenario" "$policy" "$rate" "$duration" "$status" "$rc" "$d/targets-summary.json")
  py analyse --results-csv "$d/results.csv" --metrics "$d/metrics.txt" \
    --rss-samples "$d/rss.txt" --status-end "$status_end" --meta "$meta" \
    --progress "serve_load: $scenario/$policy: done: " >>"$rows"
  # vegeta's results hold every reply's body: drop them now, not at exit.
  rm -f "$d/results.bin" "$d/results.csv" "$d/targets.json"
}

for scenario in $scenarios; do
  extra=()
  case $scenario in
    trivial) rate=${RATE_TRIVIAL:-200} ;;
    extractor) rate=${RATE_EXTRACTOR:-40} ;;
    trace) rate=${RATE_TRACE:-200}; extra=(--set pool.budget_bytes=4MiB) ;;
    overload) rate=${RATE_OVERLOAD:-1000} ;;
  esac
  [[ $rate =~ ^[1-9][0-9]*$ ]] || die "bad rate '$rate' for $scenario"
  say "$scenario: writing its configuration"
  config=$(py config "$scenario" --repo "$repo" --work "$work/$scenario")
  for policy in $policies; do
    run_one "$scenario" "$policy" "$rate" "$config" "${extra[@]}"
  done
done

commit=$(git -C "$repo" rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
dirty=false
git -C "$repo" diff --quiet HEAD 2>/dev/null || dirty=true
meta=$(BENCH_DIR="$here" python3 -c '
import datetime, json, os, platform, sys
sys.path.insert(0, os.environ["BENCH_DIR"])
from serve_load import cpu_model
cpu = cpu_model()
print(json.dumps({
    "command": sys.argv[1], "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "git_commit": sys.argv[2], "git_dirty": sys.argv[3] == "true", "nproc": int(sys.argv[4]),
    "cpu": cpu, "kernel": platform.release(), "pinning": sys.argv[5],
    "vegeta": "v12.13.0", "duration_s": float(sys.argv[6]),
    "latency_note": "ms from sending a request to the end of its reply; nearest-rank percentiles over every reply of any status",
    "http_overhead_note": "approximate: a difference of medians (successful replies p50 minus strata_acquire_seconds p50 plus strata_call_seconds p50)",
}))' "$command_line" "$commit" "$dirty" "$(nproc)" "$pinning" "$duration")
py report --rows "$rows" --scenarios "$scen_file" --meta "$meta" --out "$out"
say "results in $out/serve-load.{md,json,csv}"
if [ "$failures" -gt 0 ]; then
  die "$failures run(s) failed or ended badly; see the status column"
fi
