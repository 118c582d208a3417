#!/usr/bin/env python3
"""Patch a built synth.wasm into a variant with other baked-in parameters.

The parameter block sits raw in the module's data section, right where the
16-byte magic b"STRATA-SYNTH-P1\\0" occurs (exactly once). After the magic come
seven little-endian u32 fields; see the layout comment in synth.c.

  make_variant.py synth.wasm out.wasm --variant 7 --init-pages 64 \\
      --init-cpu-iters 1000000 --call-iters 5000 --call-touch-bytes 65536

Fields not given keep the value they have in the input module.
"""
import argparse
import struct
import sys

MAGIC = b"STRATA-SYNTH-P1\0"
VERSION = 1
# Offsets relative to the start of the magic.
VERSION_OFF = 16
VARIANT_OFF = 20
INIT_PAGES_OFF = 24
INIT_CPU_ITERS_OFF = 28  # lo u32 at 28, hi u32 at 32
CALL_ITERS_OFF = 36
CALL_TOUCH_BYTES_OFF = 40
BLOCK_SIZE = 44

U32_MAX = 2**32 - 1


def find_block(data: bytes) -> int:
    first = data.find(MAGIC)
    if first < 0:
        sys.exit("parameter magic not found: not a synth module?")
    if data.find(MAGIC, first + 1) >= 0:
        sys.exit("parameter magic occurs more than once")
    if first + BLOCK_SIZE > len(data):
        sys.exit("parameter block truncated")
    (version,) = struct.unpack_from("<I", data, first + VERSION_OFF)
    if version != VERSION:
        sys.exit(f"unsupported parameter layout version {version}")
    return first


def put_u32(buf: bytearray, off: int, value: int) -> None:
    if not 0 <= value <= U32_MAX:
        sys.exit(f"value {value} does not fit in a u32")
    struct.pack_into("<I", buf, off, value)


def patch(data: bytes, args: argparse.Namespace) -> bytes:
    buf = bytearray(data)
    base = find_block(data)
    u32_fields = [
        (args.variant, VARIANT_OFF),
        (args.init_pages, INIT_PAGES_OFF),
        (args.call_iters, CALL_ITERS_OFF),
        (args.call_touch_bytes, CALL_TOUCH_BYTES_OFF),
    ]
    for value, off in u32_fields:
        if value is not None:
            put_u32(buf, base + off, value)
    if args.init_cpu_iters is not None:
        if not 0 <= args.init_cpu_iters < 2**64:
            sys.exit("--init-cpu-iters does not fit in a u64")
        struct.pack_into("<Q", buf, base + INIT_CPU_ITERS_OFF, args.init_cpu_iters)
    return bytes(buf)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--variant", type=int)
    p.add_argument("--init-pages", type=int)
    p.add_argument("--init-cpu-iters", type=int)
    p.add_argument("--call-iters", type=int)
    p.add_argument("--call-touch-bytes", type=int)
    args = p.parse_args()
    with open(args.input, "rb") as f:
        data = f.read()
    with open(args.output, "wb") as f:
        f.write(patch(data, args))


if __name__ == "__main__":
    main()
