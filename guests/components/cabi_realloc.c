// cabi_realloc for the WASI command components (extractor-cmd and fsprobe
// rebuilt for wasi:cli/run). Without this export the preview1 adapter puts
// its stack and state in pages it adds with memory.grow, and Debian's
// wasi-libc (2022) hands all of memory.size to malloc on first use, those
// pages included: a command that allocates ~64 KiB then overwrites the
// adapter's state and traps ("assertion failed at adapter line ...").
// With it, the adapter allocates through malloc like everything else.
#include <stddef.h>
#include <stdlib.h>

__attribute__((export_name("cabi_realloc"))) void* cabi_realloc(
    void* ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  if (new_size == 0) return (void*)align;  // A non-null, aligned nothing.
  void* out = realloc(ptr, new_size);
  if (!out) abort();
  return out;
}
