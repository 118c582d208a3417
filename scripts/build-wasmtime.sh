#!/usr/bin/env bash
# Builds wasmtime's C API (third_party/wasmtime-c-api, with strata's
# additions) once and caches it outside the checkout, keyed by the crate's
# version and a hash of its manifest, lock file and sources, so clean clones
# and CI reuse it. Prints the cache root (a
# directory with include/ and lib/, the release tarball's layout) on stdout;
# everything else goes to stderr.
#
# Environment: STRATA_CACHE_DIR (default ~/.cache/strata).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
crate="$repo/third_party/wasmtime-c-api"
cache_dir=${STRATA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strata}

# The C API's version: the first pinned version in the manifest.
version=$(sed -n 's/^version = "=\(.*\)"$/\1/p' "$crate/Cargo.toml" | head -1)
key=$(cd "$crate" && cat Cargo.toml Cargo.lock src/*.rs include/*.h |
      sha256sum | cut -c1-12)
root="$cache_dir/wasmtime-c-api-$version-$key"

if [[ -f "$root/lib/libwasmtime.a" && -f "$root/include/wasmtime.hh" ]]; then
  echo "$root"
  exit 0
fi

echo "building wasmtime C API $version (first build takes a while) ..." >&2
target="$cache_dir/cargo-target"
mkdir -p "$target"
start=$SECONDS
cargo build --release --locked \
  --manifest-path "$crate/Cargo.toml" --target-dir "$target" >&2

# The impl crate's build script installs the headers, with a conf.h matching
# the features, into its OUT_DIR; take the newest one.
headers=$(ls -td "$target"/release/build/wasmtime-c-api-impl-*/out/include | head -1)
tmp="$root.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/lib"
cp -r "$headers" "$tmp/include"
cp "$crate"/include/*.h "$tmp/include/"
cp "$target/release/libwasmtime.a" "$tmp/lib/"
rm -rf "$root"
mv "$tmp" "$root"
echo "wasmtime C API built in $((SECONDS - start)) s: $root" >&2
echo "$root"
