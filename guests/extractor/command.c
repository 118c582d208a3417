// WASI command: reads HTML on stdin, writes the JSON object and a newline
// to stdout.
//   extractor-cmd [--base-url URL] < page.html
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"

static int usage(const char* message) {
  fprintf(stderr, "extractor: %s\n", message);
  fprintf(stderr, "usage: extractor [--base-url URL] < page.html\n");
  return 2;
}

// Reads all of `f` into a malloc'ed buffer; NULL on error.
static char* read_all(FILE* f, size_t* len) {
  size_t cap = 1 << 16, n = 0;
  char* data = malloc(cap);
  while (data) {
    n += fread(data + n, 1, cap - n, f);
    if (n < cap) break;
    char* bigger = cap <= SIZE_MAX / 2 ? realloc(data, cap * 2) : NULL;
    if (!bigger) {
      free(data);
      return NULL;
    }
    data = bigger;
    cap *= 2;
  }
  if (data && ferror(f)) {
    free(data);
    return NULL;
  }
  *len = n;
  return data;
}

int main(int argc, char** argv) {
  const char* base_url = "";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--base-url") == 0) {
      if (i + 1 >= argc) return usage("--base-url needs a value");
      base_url = argv[++i];
    } else if (strncmp(argv[i], "--base-url=", 11) == 0) {
      base_url = argv[i] + 11;
    } else {
      fprintf(stderr, "extractor: unknown argument '%s'\n", argv[i]);
      return usage("bad arguments");
    }
  }
  size_t len = 0;
  char* html = read_all(stdin, &len);
  if (!html) {
    fprintf(stderr, "extractor: cannot read stdin\n");
    return 1;
  }
  size_t json_len = 0;
  char* json = strata_extract(html, len, base_url, &json_len);
  free(html);
  if (!json) {
    fprintf(stderr, "extractor: out of memory\n");
    return 1;
  }
  fwrite(json, 1, json_len, stdout);
  fputc('\n', stdout);
  free(json);
  return fflush(stdout) == 0 ? 0 : 1;
}
