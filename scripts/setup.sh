#!/usr/bin/env bash
# Installs what strata needs to build on Debian 12 (skipping what is there),
# then builds and caches the wasmtime C API. Safe to run repeatedly.
set -euo pipefail

packages=(
  cmake ninja-build g++ libgtest-dev        # build and tests
  clang lld wasi-libc libclang-rt-14-dev-wasm32  # guests: C to wasm32-wasi
  libclang-rt-14-dev                             # libFuzzer, clang's sanitizers
  libcli11-dev nlohmann-json3-dev libbenchmark-dev libssl-dev
  libxxhash-dev pkg-config xxd
  libboost1.81-dev libboost-url1.81-dev libtomlplusplus-dev  # strata serve
  prometheus                                     # promtool checks /metrics
  haproxy                                        # bench/cluster.sh's balancer
)
# The readability guest's script is bundled with npm packages; Node.js is
# usually there already (any version from 18 on).
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
command -v cargo >/dev/null || {
  echo "setup: cargo is required to build the wasmtime C API (rustup.rs)" >&2
  exit 1
}
bash "$(dirname "$0")/build-wasmtime.sh" >/dev/null
# QuickJS-NG and the npm packages of the readability guest, cached too.
bash "$(dirname "$0")/fetch-readability-deps.sh" >/dev/null
# Real-world WASI programs for the tests and `strata run` examples: cached
# outside the checkout, skipped with a message when offline.
bash "$(dirname "$0")/fetch-wasi-programs.sh" >/dev/null
# wit-bindgen, wasm-tools and the preview 1 adapters that build the
# component guests (guests/components), cached by version.
bash "$(dirname "$0")/fetch-component-tools.sh" >/dev/null
