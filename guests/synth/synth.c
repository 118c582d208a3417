// synth: a parameterised reactor guest that models a workload for benchmarks
// and tests. Initialisation dirties memory and burns CPU (what the warm and
// hot tiers save); each call hashes and touches memory (what every tier pays).
//
// Parameter block: `synth_params` below is laid out verbatim in the module's
// data section, so a variant is made by patching the .wasm bytes (see
// make_variant.py). Find the 16-byte magic, which occurs exactly once in the
// binary, then overwrite the little-endian fields that follow it:
//
//   offset  size  field               default
//        0    16  magic               "STRATA-SYNTH-P1\0"
//       16     4  version             1 (layout version; leave as is)
//       20     4  variant             0 (only reported, makes modules distinct)
//       24     4  init_pages          1 (64 KiB pages dirtied at init)
//       28     4  init_cpu_iters_lo   0 (low 32 bits of init hash iterations)
//       32     4  init_cpu_iters_hi   0 (high 32 bits)
//       36     4  call_iters          1000 (hash iterations per `run`)
//       40     4  call_touch_bytes    4096 (bytes touched per `run`)
//   total 44 bytes.
//
// Exports (besides memory, _initialize, strata_alloc, strata_free):
//   run(ptr, len)  -> "ok <16 hex digits hash> <calls so far>"
//   info(ptr, len) -> JSON of the parameters in effect and the call count.
// The input of `run` seeds the hash; it may also hold `iters=N` and/or
// `touch=M` (space separated) to override call_iters / call_touch_bytes for
// that call only.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "strata_guest.h"

struct synth_params {
  char magic[16];
  uint32_t version;
  uint32_t variant;
  uint32_t init_pages;
  uint32_t init_cpu_iters_lo;
  uint32_t init_cpu_iters_hi;
  uint32_t call_iters;
  uint32_t call_touch_bytes;
};

// volatile: the compiler must read the patched bytes at run time instead of
// folding the defaults into the code.
static volatile struct synth_params params = {
    .magic = "STRATA-SYNTH-P1",
    .version = 1,
    .variant = 0,
    .init_pages = 1,
    .init_cpu_iters_lo = 0,
    .init_cpu_iters_hi = 0,
    .call_iters = 1000,
    .call_touch_bytes = 4096,
};

#define WASM_PAGE 65536u
#define OS_PAGE 4096u

// Globals keep the init work observable so it is neither freed nor elided.
static volatile char* volatile init_block;
static volatile uint64_t init_hash;
static uint64_t calls;

// --- hashing ---------------------------------------------------------------

static uint64_t fnv1a(const uint8_t* data, uint32_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint32_t i = 0; i < len; i++) {
    h = (h ^ data[i]) * 0x100000001b3ull;
  }
  return h;
}

// A serial multiply/xor chain: about a nanosecond per iteration and
// impossible to vectorise or compute in closed form.
static uint64_t burn(uint64_t h, uint64_t iters) {
  for (uint64_t i = 0; i < iters; i++) {
    h = (h ^ i) * 0x9e3779b97f4a7c15ull;
  }
  return h;
}

// Writes one byte per 4 KiB page so every page becomes resident. Stores go
// through a volatile pointer so a malloc/free pair cannot be optimised out.
static void touch(volatile char* p, uint64_t bytes) {
  for (uint64_t off = 0; off < bytes; off += OS_PAGE) {
    p[off] = (char)((off >> 12) | 1);
  }
  if (bytes) p[bytes - 1] = 1;
}

// Allocates `bytes` and traps if impossible: a workload that cannot run
// should fail loudly, not silently do less.
static void* alloc_or_trap(uint64_t bytes) {
  if (bytes > SIZE_MAX) __builtin_trap();
  void* p = malloc(bytes ? (size_t)bytes : 1);
  if (!p) __builtin_trap();
  return p;
}

static uint64_t init_cpu_iters(void) {
  return ((uint64_t)params.init_cpu_iters_hi << 32) | params.init_cpu_iters_lo;
}

// Run by the reactor's _initialize.
__attribute__((constructor)) static void synth_init(void) {
  uint64_t bytes = (uint64_t)params.init_pages * WASM_PAGE;
  if (bytes) {
    init_block = alloc_or_trap(bytes);
    touch(init_block, bytes);
  }
  init_hash = burn(params.variant, init_cpu_iters());
}

// --- small text output -------------------------------------------------------

// A fixed-capacity string builder; outputs are short and bounded.
struct text {
  char* buf;
  uint32_t len;
  uint32_t cap;
};

static struct text text_new(uint32_t cap) {
  struct text t = {alloc_or_trap(cap), 0, cap};
  return t;
}

static void put_str(struct text* t, const char* s) {
  while (*s && t->len < t->cap) t->buf[t->len++] = *s++;
}

static void put_u64(struct text* t, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && t->len < t->cap) t->buf[t->len++] = digits[--n];
}

static void put_hex64(struct text* t, uint64_t v) {
  static const char hex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0 && t->len < t->cap; shift -= 4) {
    t->buf[t->len++] = hex[(v >> shift) & 0xf];
  }
}

static uint64_t text_pack(struct text* t) {
  return strata_pack(t->buf, t->len);
}

// --- input overrides ---------------------------------------------------------

struct call_params {
  uint64_t iters;
  uint64_t touch_bytes;
};

static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Parses a decimal number at `s` (saturating); returns 0 if there is none.
static int parse_u64(const uint8_t* s, uint32_t n, uint64_t* out) {
  if (n == 0) return 0;
  uint64_t v = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    uint64_t d = s[i] - '0';
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  *out = v;
  return 1;
}

static int has_prefix(const uint8_t* s, uint32_t n, const char* prefix) {
  uint32_t i = 0;
  for (; prefix[i]; i++) {
    if (i >= n || s[i] != (uint8_t)prefix[i]) return 0;
  }
  return 1;
}

// Applies one whitespace-free token; unknown tokens only seed the hash.
static void apply_token(const uint8_t* s, uint32_t n, struct call_params* cp) {
  if (has_prefix(s, n, "iters=")) {
    parse_u64(s + 6, n - 6, &cp->iters);
  } else if (has_prefix(s, n, "touch=")) {
    parse_u64(s + 6, n - 6, &cp->touch_bytes);
  }
}

static struct call_params parse_call_params(const uint8_t* in, uint32_t len) {
  struct call_params cp = {params.call_iters, params.call_touch_bytes};
  uint32_t i = 0;
  while (i < len) {
    while (i < len && is_space(in[i])) i++;
    uint32_t start = i;
    while (i < len && !is_space(in[i])) i++;
    if (i > start) apply_token(in + start, i - start, &cp);
  }
  return cp;
}

// --- entry points ------------------------------------------------------------

uint64_t STRATA_EXPORT(run)(const uint8_t* in, uint32_t len) {
  struct call_params cp = parse_call_params(in, len);
  uint64_t h = burn(fnv1a(in, len), cp.iters);

  volatile char* scratch = alloc_or_trap(cp.touch_bytes);
  touch(scratch, cp.touch_bytes);
  free((void*)scratch);

  calls++;
  struct text t = text_new(64);
  put_str(&t, "ok ");
  put_hex64(&t, h);
  put_str(&t, " ");
  put_u64(&t, calls);
  return text_pack(&t);
}

static void put_field(struct text* t, const char* key, uint64_t v) {
  put_str(t, t->len > 1 ? ",\"" : "\"");
  put_str(t, key);
  put_str(t, "\":");
  put_u64(t, v);
}

uint64_t STRATA_EXPORT(info)(const uint8_t* in, uint32_t len) {
  (void)in;
  (void)len;
  struct text t = text_new(256);
  put_str(&t, "{");
  put_field(&t, "version", params.version);
  put_field(&t, "variant", params.variant);
  put_field(&t, "init_pages", params.init_pages);
  put_field(&t, "init_cpu_iters", init_cpu_iters());
  put_field(&t, "call_iters", params.call_iters);
  put_field(&t, "call_touch_bytes", params.call_touch_bytes);
  put_field(&t, "calls", calls);
  put_str(&t, "}");
  return text_pack(&t);
}
