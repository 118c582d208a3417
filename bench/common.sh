# shellcheck shell=bash disable=SC2034  # rc and vegeta are read by the sourcing script
# Shell helpers shared by the bench scripts (sourced, not run).

# reap PID TENTHS: waits up to TENTHS tenths of a second for PID to exit,
# then kills it; its exit status in rc. Needs a `say` function.
reap() {
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    kill -KILL "$1" 2>/dev/null || true
    say "process $1 did not exit within $(($2 / 10)) s; killed"
  fi
  rc=0
  wait "$1" 2>/dev/null || rc=$?
}

# install_vegeta: the open-loop load generator, vegeta v12.13.0, into
# ~/.cache/strata/tools (built with `go install` on first use). Sets
# $vegeta to its path. Needs `say` and `die` functions.
install_vegeta() {
  local tools="$HOME/.cache/strata/tools"
  vegeta="$tools/vegeta"
  if [ -x "$vegeta" ] && { ! command -v go >/dev/null ||
      go version -m "$vegeta" 2>/dev/null |
        grep -q 'tsenart/vegeta/v12[[:space:]]*v12.13.0'; }; then
    return 0
  fi
  command -v go >/dev/null || die "vegeta missing and no go to install it"
  say "installing vegeta v12.13.0 into $tools (about a minute)"
  mkdir -p "$tools"
  GOBIN="$tools" go install github.com/tsenart/vegeta/v12@v12.13.0
}

# install_wasmtime_cli: the reference server, wasmtime-cli 48.0.8 (the
# engine strata embeds), with only what `wasmtime serve` needs, into
# ~/.cache/strata/tools (built with `cargo install` on first use, 10-15
# minutes on two cores). In 48.0.8 `serve` does not compile without
# `component-model-async`. Sets $wasmtime_cli to its path. Needs `say` and
# `die` functions.
install_wasmtime_cli() {
  local cache="$HOME/.cache/strata"
  local root="$cache/tools/wasmtime-cli-48.0.8"
  wasmtime_cli="$root/bin/wasmtime"
  [ -x "$wasmtime_cli" ] && return 0
  command -v cargo >/dev/null || die "wasmtime-cli missing and no cargo to build it"
  say "building wasmtime-cli 48.0.8 into $root (10-15 minutes, once)"
  rm -rf "$root.tmp"
  cargo install --quiet --locked --root "$root.tmp" \
    --target-dir "$cache/cargo-target-wasmtime-cli" --no-default-features \
    --features run,serve,cranelift,pooling-allocator,parallel-compilation,component-model-async \
    wasmtime-cli@48.0.8 >&2 || die "could not build wasmtime-cli 48.0.8"
  rm -rf "$root"
  mv "$root.tmp" "$root"
}
