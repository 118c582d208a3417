#!/usr/bin/env bash
# Scale-out on one machine: HAProxy 2.6 in front of NODES `strata serve`
# nodes, with consistent hashing on the module name (bounded loads) against
# round-robin, under the trace scenario of bench/serve_load.sh, and one node
# stopped and restarted in the middle of each run.
#
# Per mode (MODES, default "consistent roundrobin"), in a fresh temporary
# directory:
#   1. NODES nodes on free loopback ports, each with the same 100 synth
#      variants (`[modules.fnI]`, calls of `iters=1000`; serve_load's trace
#      configuration: one worker, access log off), node_id nI, a budget of
#      TOTAL_BUDGET / NODES, `server.drain_delay_ms = 1000` (HAProxy sees
#      /readyz fail before the node stops serving), and ONE `pool.cache_dir`
#      shared by all of them
#      (fresh per mode); not pinned (two cores for NODES nodes, HAProxy and
#      vegeta: pinning would only pick which of them share).
#   2. HAProxy (`haproxy -f cfg -db`, a child) with the configuration of
#      bench/cluster/haproxy_cfg.py; the attack starts once its stats show
#      every server UP. No warm-up: the cold starts a mode leaves count.
#   3. vegeta v12.13.0 `attack`, open loop at RATE/s for DURATION s through
#      HAProxy, with serve_load's trace targets (the first 30 minutes of the
#      Azure Functions 2019 100-function trace, thinned to RATE x DURATION
#      calls and compressed into the run: order and mix kept, burstiness
#      not). Meanwhile HAProxy's /stats;csv and every node's VmRSS are
#      polled every 200 ms; at DURATION/3 STOP_NODE gets SIGTERM (its
#      /metrics and /v1/modules are scraped just before), and at
#      2*DURATION/3 it is started again on the same port and cache.
#   4. Every node's /metrics, /v1/modules and VmRSS/VmHWM; then everything
#      is stopped (nodes by SIGTERM: they must exit 0).
# Reported per mode: requests, ok ratio, errors, throughput, p50/p99/p99.9;
# cold starts (replies not served `hot`) and their acquire time; summed RSS
# and each node's ledger peak; each node's hot set and the duplication
# factor; load imbalance; and the node stop: failures and HAProxy retries in
# the 5 s after it, time to DOWN and back UP, and modules that moved.
#
# Usage: [NODES=4] [DURATION=60] [RATE=200] [TOTAL_BUDGET=8MiB]
#        [MODES="consistent roundrobin"] [STOP_NODE=n2 (empty: no stop)]
#        [STRATA=build/strata] [HAPROXY=/usr/sbin/haproxy]
#        [KEEP_WORK=1 (keep the temporary directory's logs, polls and
#        configurations; vegeta's results are deleted all the same)]
#        bash bench/cluster.sh [OUT_DIR, default docs/results/cluster]
# Writes OUT_DIR/cluster.json (every number, the command, date, commit),
# cluster.csv (a row per mode) and cluster.md (tables), a few kilobytes.
# vegeta's raw results (they hold reply bodies), the targets and the logs
# stay in a temporary directory under ${TMPDIR:-/tmp}, removed at exit.
# Takes about (DURATION + ~15 s) per mode plus ~5 s to make the modules.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$repo/bench"
# shellcheck source=bench/common.sh
source "$here/common.sh"
out=${1:-$repo/docs/results/cluster}
nodes_n=${NODES:-4}
duration=${DURATION:-60}
rate=${RATE:-200}
total_budget=${TOTAL_BUDGET:-8MiB}
modes=${MODES:-consistent roundrobin}
stop_node=${STOP_NODE-n2}
strata=${STRATA:-$repo/build/strata}
haproxy=${HAPROXY:-/usr/sbin/haproxy}
balance_factor=150
sl() { python3 "$here/serve_load.py" "$@"; }
cl() { python3 "$here/cluster/cluster.py" "$@"; }
say() { echo "cluster: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }

# The exact command, for the results.
command_line=""
for v in NODES DURATION RATE TOTAL_BUDGET MODES STOP_NODE STRATA HAPROXY KEEP_WORK; do
  if [ -n "${!v+x}" ]; then command_line+="$v=$(printf %q "${!v}") "; fi
done
command_line+="bash $0${1+ $(printf %q "$1")}"

# --- checks, before anything runs
if ! [[ $nodes_n =~ ^[1-9][0-9]?$ ]] || [ "$nodes_n" -lt 2 ] || [ "$nodes_n" -gt 16 ]; then
  die "NODES must be 2..16, not '$nodes_n'"
fi
# A third of the run must hold the 5 s window after the stop.
if ! [[ $duration =~ ^[1-9][0-9]*$ ]] || [ "$duration" -lt 15 ]; then
  die "DURATION must be a whole number of seconds >= 15, not '$duration'"
fi
[[ $rate =~ ^[1-9][0-9]*$ ]] || die "RATE must be a whole number per second, not '$rate'"
for m in $modes; do
  case $m in consistent|roundrobin) ;; *) die "unknown mode '$m' (consistent, roundrobin)" ;; esac
done
[ -n "${modes// /}" ] || die "MODES is empty"
node_names=()
for ((i = 1; i <= nodes_n; i++)); do node_names+=("n$i"); done
if [ -n "$stop_node" ]; then
  [[ " ${node_names[*]} " == *" $stop_node "* ]] ||
    die "STOP_NODE '$stop_node' is not one of ${node_names[*]}"
fi
budget=$(cl budget "$total_budget" "$nodes_n") || die "bad TOTAL_BUDGET '$total_budget'"
[ "$budget" -ge 1048576 ] ||
  die "TOTAL_BUDGET/NODES = $budget bytes; a node needs at least 1MiB"
[ -x "$strata" ] || die "no $strata; build it first (cmake --build --preset default)"
"$strata" serve --help >/dev/null 2>&1 || die "$strata has no working 'serve' subcommand"
[ -x "$haproxy" ] || die "no HAProxy at $haproxy (Debian: apt-get install haproxy)"
for f in "$repo/build/guests/synth.wasm" \
         "$repo/data/traces/azure-functions-2019/100/invocations.csv"; do
  [ -e "$f" ] || die "missing $f"
done
haproxy_version=$("$haproxy" -v 2>/dev/null | sed -n '1s/ - https.*//p')  # sed reads it all: no SIGPIPE

# --- the load generator
install_vegeta
pinning="nothing pinned ($(nproc) cores shared by $nodes_n nodes, HAProxy and vegeta)"

env_vars=$(compgen -v STRATA_ || true)
if [ -n "$env_vars" ]; then
  say "note: the nodes also read these from the environment: ${env_vars//$'\n'/ }"
fi

# --- processes: every child is recorded here, and cleanup stops each one
work=$(mktemp -d "${TMPDIR:-/tmp}/cluster.XXXXXX")
declare -A node_pid=()
haproxy_pid=""
poller_pid=""
vegeta_pid=""
sleeper_pid=""

stop_everything() {
  local p n
  for p in "$vegeta_pid" "$sleeper_pid" "$poller_pid"; do
    if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  for p in "$vegeta_pid" "$sleeper_pid" "$poller_pid"; do
    if [ -n "$p" ]; then reap "$p" 50; fi
  done
  vegeta_pid="" sleeper_pid="" poller_pid=""
  if [ -n "$haproxy_pid" ]; then
    kill -TERM "$haproxy_pid" 2>/dev/null || true
    reap "$haproxy_pid" 50
    haproxy_pid=""
  fi
  for n in "${!node_pid[@]}"; do kill -TERM "${node_pid[$n]}" 2>/dev/null || true; done
  for n in "${!node_pid[@]}"; do reap "${node_pid[$n]}" 150; done
  node_pid=()
}
cleanup() {
  stop_everything
  if [ "${KEEP_WORK:-}" = 1 ]; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sleeps until Unix time $1, interruptibly (a trapped signal ends the wait).
sleep_until() {
  sleep "$(cl seconds-until "$1")" &
  sleeper_pid=$!
  wait "$sleeper_pid" || true
  sleeper_pid=""
}

# start_node DIR NAME PORT: one node in the background (pid in node_pid
# and in DIR/pids/NAME, which the poller reads).
start_node() {
  local d=$1 name=$2 port=$3
  "$strata" serve --config "$config" --listen "127.0.0.1:$port" \
    --set "server.node_id=$name" --set "pool.budget_bytes=$budget" \
    --set "server.drain_delay_ms=1000" \
    --set "pool.cache_dir=$d/cache" >>"$d/logs/$name.log" 2>&1 &
  node_pid[$name]=$!
  echo "${node_pid[$name]}" >"$d/pids/$name"
}

# stop_node DIR NAME: SIGTERM, wait (shutdown grace is 10 s), status in rc.
stop_node() {
  local d=$1 name=$2 pid=${node_pid[$2]}
  kill -TERM "$pid" 2>/dev/null || true
  reap "$pid" 200
  rm -f "$d/pids/$name"
  unset "node_pid[$name]"
}

# scrape_node DIR PHASE NAME PORT: its /metrics, /v1/modules and VmRSS /
# VmHWM into DIR/PHASE/NAME.*
scrape_node() {
  cl scrape-node --base "http://127.0.0.1:$4" --out-dir "$1/$2" --name "$3" \
    --pid "${node_pid[$3]}" || say "$3: scrape incomplete"
}

rows="$work/rows.jsonl"
: >"$rows"
failures=0
fail_row() {  # mode reason
  say "$1: $2"
  python3 -c 'import json,sys; print(json.dumps({"mode":sys.argv[1],"status":sys.argv[2]}))' \
    "$1" "$2" >>"$rows"
  failures=$((failures + 1))
}

say "writing the 100 modules' configuration"
config=$(sl config trace --repo "$repo" --work "$work/modules")
trace_summary=""

run_mode() {
  local mode=$1 d="$work/$1" n i port vrc=0 status=ok t0 ready
  local -A port_of=()
  mkdir -p "$d/logs" "$d/pids" "$d/cache" "$d/end" "$d/prestop"
  : >"$d/events.txt"
  local hap_port stats_port
  hap_port=$(sl free-port)
  stats_port=$(sl free-port)
  local node_args=()
  for n in "${node_names[@]}"; do
    port=$(sl free-port)
    port_of[$n]=$port
    node_args+=(--node "$n=127.0.0.1:$port")
    start_node "$d" "$n" "$port"
  done
  say "$mode: ${#node_names[@]} nodes starting (budget $budget bytes each)"
  for n in "${node_names[@]}"; do
    ready=0
    sl wait-ready "http://127.0.0.1:${port_of[$n]}/readyz" "${node_pid[$n]}" 120 || ready=$?
    if [ "$ready" -ne 0 ]; then
      say "$n log tail:"; tail -n 20 "$d/logs/$n.log" | sed 's/^/  | /' >&2
      stop_everything
      fail_row "$mode" "failed: node $n not ready (wait-ready exit $ready)"
      return 0
    fi
  done

  python3 "$here/cluster/haproxy_cfg.py" --mode "$mode" \
    --listen "127.0.0.1:$hap_port" --stats "127.0.0.1:$stats_port" \
    --balance-factor "$balance_factor" "${node_args[@]}" >"$d/haproxy.cfg"
  "$haproxy" -c -q -f "$d/haproxy.cfg" >"$d/logs/haproxy-check.log" 2>&1 || {
    cat "$d/logs/haproxy-check.log" >&2
    stop_everything
    fail_row "$mode" "failed: haproxy -c rejected the configuration"
    return 0
  }
  "$haproxy" -f "$d/haproxy.cfg" -db >"$d/logs/haproxy.log" 2>&1 &
  haproxy_pid=$!
  local stats="http://127.0.0.1:$stats_port/stats;csv"
  ready=0
  cl wait-up --stats "$stats" --servers "$(IFS=,; echo "${node_names[*]}")" \
    --pid "$haproxy_pid" --timeout 30 || ready=$?
  if [ "$ready" -ne 0 ]; then
    tail -n 20 "$d/logs/haproxy.log" | sed 's/^/  | /' >&2
    stop_everything
    fail_row "$mode" "failed: HAProxy did not show every server UP (exit $ready)"
    return 0
  fi

  sl targets trace --repo "$repo" --base "http://127.0.0.1:$hap_port" \
    --rate "$rate" --duration "$duration" --out "$d/targets.json" \
    >"$d/targets-summary.json"
  [ -n "$trace_summary" ] || trace_summary="$d/targets-summary.json"
  # Not through cl(): $! must be python's own pid, not a subshell's.
  python3 "$here/cluster/cluster.py" poll --stats "$stats" \
    --pids-dir "$d/pids" --out "$d/poll.jsonl" &
  poller_pid=$!

  say "$mode: attack, $rate/s for $duration s through HAProxy on port $hap_port"
  t0=$(now)
  echo "t_attack $t0" >>"$d/events.txt"
  "$vegeta" attack -rate="$rate/s" -duration="${duration}s" -format=json \
    -targets="$d/targets.json" -timeout=30s -max-body=1024 -name="$mode" \
    >"$d/results.bin" 2>"$d/logs/vegeta.log" &
  vegeta_pid=$!

  if [ -n "$stop_node" ]; then
    local sp=${port_of[$stop_node]} t
    sleep_until "$(python3 -c "print($t0 + $duration / 3)")"
    scrape_node "$d" prestop "$stop_node" "$sp"
    t=$(now)
    echo "t_stop $t" >>"$d/events.txt"
    say "$mode: SIGTERM to $stop_node"
    stop_node "$d" "$stop_node"
    { echo "t_exit $(now)"; echo "stop_exit $rc"; } >>"$d/events.txt"
    [ "$rc" -eq 0 ] || say "$mode: $stop_node exited $rc after SIGTERM"
    sleep_until "$(python3 -c "print($t0 + 2 * $duration / 3)")"
    echo "t_restart $(now)" >>"$d/events.txt"
    say "$mode: restarting $stop_node on port $sp"
    start_node "$d" "$stop_node" "$sp"
    ready=0
    sl wait-ready "http://127.0.0.1:$sp/readyz" "${node_pid[$stop_node]}" 60 || ready=$?
    if [ "$ready" -eq 0 ]; then
      echo "t_ready $(now)" >>"$d/events.txt"
    else
      say "$mode: $stop_node did not come back (wait-ready exit $ready); log tail:"
      tail -n 20 "$d/logs/$stop_node.log" | sed 's/^/  | /' >&2
      status="restart of $stop_node failed"
    fi
  fi

  wait "$vegeta_pid" || vrc=$?
  vegeta_pid=""
  echo "t_attack_end $(now)" >>"$d/events.txt"
  [ "$vrc" -eq 0 ] || status="vegeta failed (exit $vrc): $(head -c 200 "$d/logs/vegeta.log" | tr '\n|' '  ')"
  for n in "${node_names[@]}"; do
    if [ -n "${node_pid[$n]:-}" ]; then scrape_node "$d" end "$n" "${port_of[$n]}"; fi
  done
  kill -TERM "$poller_pid" 2>/dev/null || true
  reap "$poller_pid" 50
  poller_pid=""
  kill -TERM "$haproxy_pid" 2>/dev/null || true
  reap "$haproxy_pid" 50
  haproxy_pid=""
  for n in "${node_names[@]}"; do
    [ -n "${node_pid[$n]:-}" ] || continue
    stop_node "$d" "$n"
    echo "exit_$n $rc" >>"$d/events.txt"
    if [ "$rc" -ne 0 ]; then
      say "$mode: $n exited $rc after SIGTERM; log tail:"
      tail -n 20 "$d/logs/$n.log" | sed 's/^/  | /' >&2
      status="node $n exited $rc after SIGTERM"
    fi
  done
  [ "$status" = ok ] || failures=$((failures + 1))

  "$vegeta" encode --to csv "$d/results.bin" >"$d/results.csv" ||
    say "$mode: vegeta encode failed; the row counts what it wrote"
  local meta
  meta=$(python3 -c 'import json,sys; print(json.dumps({"status":sys.argv[1],"nodes_n":int(sys.argv[2]),"rate_per_s":float(sys.argv[3]),"duration_s":float(sys.argv[4]),"budget_per_node_bytes":int(sys.argv[5]),"haproxy_cfg":open(sys.argv[6]).read()}))' \
    "$status" "$nodes_n" "$rate" "$duration" "$budget" "$d/haproxy.cfg")
  cl analyse --dir "$d" --mode "$mode" --nodes "$(IFS=,; echo "${node_names[*]}")" \
    --stop-node "$stop_node" --meta "$meta" --progress "cluster: $mode: done: " >>"$rows"
  # vegeta's results hold every reply's body: drop them now, not at exit.
  rm -rf "$d/results.bin" "$d/results.csv" "$d/targets.json" "$d/cache"
}

for mode in $modes; do
  run_mode "$mode"
done

commit=$(git -C "$repo" rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
dirty=false
git -C "$repo" diff --quiet HEAD 2>/dev/null || dirty=true
meta=$(BENCH_DIR="$here" python3 - "$command_line" "$commit" "$dirty" "$(nproc)" "$pinning" \
  "$duration" "$rate" "$nodes_n" "$total_budget" "$budget" "$stop_node" \
  "$haproxy_version" "$balance_factor" "${trace_summary:-}" "$config" <<'EOF'
import datetime, json, os, platform, sys
sys.path.insert(0, os.environ["BENCH_DIR"])
from serve_load import cpu_model
a = sys.argv[1:]
cpu = cpu_model()
trace = None
summary = {}
if a[13]:
    try:
        summary = json.load(open(a[13]))
    except (OSError, ValueError):
        pass
if summary.get("kept"):
    trace = (
        f"Load: 100 synth variants (`fn0`..`fn99`, each call `iters=1000`) "
        f"called in the order of the first {summary['trace_minutes']} "
        "minutes of the Azure Functions 2019 100-function sample "
        f"({summary['trace_invocations']:,} invocations, function row i is "
        f"`fnI`), thinned to {summary['kept']:,} calls (seed "
        f"{summary['seed']}; {summary['modules_invoked']} modules invoked, "
        f"the busiest has {summary['top_module_share'] * 100:.0f}% of the "
        f"calls) and compressed {summary['compression']}x into the run at a "
        f"constant {float(a[6]):g}/s: order and mix kept, burstiness not. "
        "vegeta `attack` is open loop (no coordinated omission).")
print(json.dumps({
    "command": a[0],
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "git_commit": a[1], "git_dirty": a[2] == "true", "nproc": int(a[3]),
    "cpu": cpu, "kernel": platform.release(), "pinning": a[4],
    "vegeta": "v12.13.0", "haproxy": a[11], "balance_factor": int(a[12]),
    "duration_s": float(a[5]), "rate_per_s": float(a[6]), "nodes_n": int(a[7]),
    "total_budget": a[8], "budget_per_node_bytes": int(a[9]),
    "stop_node": a[10] or None, "trace": trace, "trace_summary": summary,
    # serve_load's trace configuration: its head and the first of the 100
    # module tables, which differ only in the number.
    "modules_config": open(a[14]).read().split("[modules.fn1]")[0].rstrip()
                      + "\n# ... and [modules.fn1] to [modules.fn99] alike\n",
}))
EOF
)
cl report --rows "$rows" --meta "$meta" --out "$out" >/dev/null
say "results in $out/cluster.{md,json,csv}"
if [ "$failures" -gt 0 ]; then
  die "$failures mode(s) failed or ended badly; see the status row"
fi
