#!/usr/bin/env bash
# Prepares what the readability guest (guests/readability) is built from, in
# a cache outside the checkout, so clean clones and CI reuse it:
#   - QuickJS-NG's C sources, from the rquickjs-sys crate that cargo fetches
#     (pinned in guests/readability/quickjs-source/Cargo.lock), compiled for
#     wasm32-wasi once: the interpreter takes most of a minute to compile,
#     and every build directory would otherwise repeat it;
#   - the npm packages of guests/readability/js (pinned in its
#     package-lock.json): Readability, linkedom, core-js and esbuild.
# Each is keyed by a hash of what it is made from. Prints two lines on
# stdout, "quickjs DIR" (QuickJS's headers and objects) and
# "node_modules DIR"; progress goes to stderr.
#
# Environment: STRATA_CACHE_DIR (default ~/.cache/strata),
# STRATA_WASM_CC (default clang), STRATA_WASI_SYSROOT (default /usr).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
guest="$repo/guests/readability"
cache_dir=${STRATA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strata}
cc=${STRATA_WASM_CC:-clang}
sysroot=${STRATA_WASI_SYSROOT:-/usr}

log() { echo "fetch-readability-deps: $*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -c1-12; }

# The interpreter's translation units; the rest of the crate's quickjs/
# directory (the qjs shell, its libc, tests) is not needed.
quickjs_units=(quickjs.c dtoa.c libregexp.c libunicode.c)
quickjs_flags=(--target=wasm32-wasi "--sysroot=$sysroot" -O2 -D_GNU_SOURCE
               -Wno-everything)

fetch_quickjs() {
  local manifest="$guest/quickjs-source/Cargo.toml"
  local key
  key=$( (cat "$manifest" "$guest/quickjs-source/Cargo.lock"
          "$cc" --version; echo "${quickjs_flags[*]}") | sha256sum | cut -c1-12)
  local root="$cache_dir/quickjs-ng-$key"
  if [[ -f "$root/done" ]]; then
    echo "quickjs $root"
    return
  fi
  cargo fetch --locked --manifest-path "$manifest" >&2
  local crate
  crate=$(cargo metadata --format-version 1 --locked --manifest-path "$manifest" |
          python3 -c 'import json, sys, os
m = json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"]
           if p["name"] == "rquickjs-sys"))')
  local tmp="$root.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$crate"/quickjs/*.h "$crate/quickjs/LICENSE" "$tmp/"
  local start=$SECONDS
  for unit in "${quickjs_units[@]}"; do
    log "compiling QuickJS-NG $unit for wasm32-wasi ..."
    "$cc" "${quickjs_flags[@]}" -c "$crate/quickjs/$unit" \
      -o "$tmp/${unit%.c}.o"
  done
  touch "$tmp/done"
  rm -rf "$root"
  mv "$tmp" "$root"
  log "QuickJS-NG compiled in $((SECONDS - start)) s: $root"
  echo "quickjs $root"
}

fetch_node_modules() {
  local js="$guest/js"
  local root="$cache_dir/readability-js-$(hash_of "$js/package.json" "$js/package-lock.json")"
  if [[ ! -f "$root/done" ]]; then
    local tmp="$root.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    cp "$js/package.json" "$js/package-lock.json" "$tmp/"
    log "installing the guest's npm packages ..."
    # No install scripts: esbuild's binary comes in its platform package.
    (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund >&2)
    touch "$tmp/done"
    rm -rf "$root"
    mv "$tmp" "$root"
  fi
  echo "node_modules $root/node_modules"
}

command -v npm >/dev/null || { log "error: npm (Node.js) is required"; exit 1; }
fetch_quickjs
fetch_node_modules
