#!/usr/bin/env bash
# Builds the tools that turn the C guests into WebAssembly components, once,
# into a cache outside the checkout keyed by version:
#   wit-bindgen-cli 0.60.0 (C bindings only), wasm-tools 1.254.2 (component
#   new/validate/print), and the wasi-preview1 component adapters that match
#   wasmtime 48.0.8 (from the `wasi-preview1-component-adapter-provider` crate).
# Prints "wit-bindgen PATH", "wasm-tools PATH" and "adapters DIR" on stdout;
# progress goes to stderr. Each `cargo install` takes about five minutes on
# two cores the first time.
#
# Environment: STRATA_CACHE_DIR (default ~/.cache/strata).
set -euo pipefail

cache_dir=${STRATA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strata}
tools="$cache_dir/tools"
mkdir -p "$tools"

log() { echo "fetch-component-tools: $*" >&2; }

# install NAME CRATE VERSION FEATURES: `cargo install` into tools/NAME-VERSION.
install() {
  local name=$1 crate=$2 version=$3 features=$4
  local root="$tools/$name-$version"
  if [[ ! -x "$root/bin/$name" ]]; then
    log "installing $crate $version into $root (a few minutes, once)"
    cargo install --quiet --locked --root "$root.tmp" \
      --no-default-features --features "$features" "$crate@$version" >&2
    rm -rf "$root"
    mv "$root.tmp" "$root"
  fi
  echo "$name $root/bin/$name"
}

install wit-bindgen wit-bindgen-cli 0.60.0 c
install wasm-tools wasm-tools 1.254.2 component,validate,print,parse

# The adapters are files inside a crate: let cargo fetch it (so the registry
# configuration and checksums apply) through a throwaway manifest.
adapter_version=48.0.8
adapters="$tools/wasi-preview1-adapters-$adapter_version"
if [[ ! -f "$adapters/wasi_snapshot_preview1.reactor.wasm" ]]; then
  log "fetching wasi-preview1-component-adapter-provider $adapter_version"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src"
  : >"$work/src/lib.rs"
  cat >"$work/Cargo.toml" <<TOML
[package]
name = "fetch-adapters"
version = "0.0.0"
edition = "2021"
[dependencies]
wasi-preview1-component-adapter-provider = "=$adapter_version"
TOML
  dir=$(cd "$work" && cargo metadata --format-version 1 2>/dev/null |
        python3 -c 'import json,sys
m = json.load(sys.stdin)
print(next(p["manifest_path"] for p in m["packages"]
           if p["name"] == "wasi-preview1-component-adapter-provider"))')
  src=$(dirname "$dir")/artefacts
  mkdir -p "$adapters.tmp"
  cp "$src"/wasi_snapshot_preview1.{command,reactor,proxy}.wasm "$adapters.tmp/"
  rm -rf "$adapters"
  mv "$adapters.tmp" "$adapters"
fi
echo "adapters $adapters"
