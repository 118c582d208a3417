#!/usr/bin/env bash
# `wasmtime serve` and `strata serve` side by side on the same wasi:http
# proxy components (guests/components): one component (hello, and the
# extractor on the bundled pages) in fresh and reuse modes, then 100
# components under an Azure trace, one strata server against one wasmtime
# process per component. See bench/component_serve.py for what each row
# measures.
#
# Installs on first use, into ~/.cache/strata/tools: vegeta v12.13.0 (go
# install) and wasmtime-cli 48.0.8 with only run, serve, cranelift, the
# pooling allocator and parallel compilation (cargo install, 10-15 min).
#
# Usage: [DURATION=10] [RATE_HELLO=1000] [RATE_EXTRACTOR=40] [RATE_TRACE=200]
#        [BUDGET_MB=64] [PARTS=one,many] [STRATA=build/strata]
#        bash bench/component_serve.sh [OUT_DIR, default docs/results/component-serve]
# Needs build/strata and the component guests in build/guests. Writes
# OUT_DIR/component-serve.{json,csv,md}; vegeta's raw results stay in a
# temporary directory, removed at exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$repo/bench"
# shellcheck source=bench/common.sh
source "$here/common.sh"
say() { echo "component_serve: $*" >&2; }
die() { say "$*"; exit 1; }
out=${1:-$repo/docs/results/component-serve}
strata=${STRATA:-$repo/build/strata}

command_line=""
for v in DURATION RATE_HELLO RATE_EXTRACTOR RATE_TRACE BUDGET_MB PARTS STRATA; do
  if [ -n "${!v+x}" ]; then command_line+="$v=$(printf %q "${!v}") "; fi
done
command_line+="bash bench/component_serve.sh${1+ $(printf %q "$1")}"

[ -x "$strata" ] || die "no $strata; build it first (cmake --build --preset default)"
for g in http-hello http-extractor; do
  [ -f "$repo/build/guests/$g.wasm" ] ||
    die "no build/guests/$g.wasm (the component guests need scripts/fetch-component-tools.sh)"
done
install_vegeta
install_wasmtime_cli

pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin=(--pin); fi
work=$(mktemp -d "${TMPDIR:-/tmp}/component-serve.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 "$here/component_serve.py" --repo "$repo" --strata "$strata" \
  --wasmtime "$wasmtime_cli" --vegeta "$vegeta" --guests "$repo/build/guests" \
  --out "$out" --work "$work" --duration "${DURATION:-10}" \
  --rate-hello "${RATE_HELLO:-1000}" --rate-extractor "${RATE_EXTRACTOR:-40}" \
  --rate-trace "${RATE_TRACE:-200}" --budget-mb "${BUDGET_MB:-64}" \
  --parts "${PARTS:-one,many}" --command "$command_line" "${pin[@]}"
