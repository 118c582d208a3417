// fsprobe: a WASI command that tries what it is told to and reports each
// outcome on one stdout line, for the tests of WASI grants (preopens, env,
// stdin, args) and of escapes from a preopened directory. It exits 0 after
// running every operation; the tests read its report.
//
//   fsprobe OP [ARG...] [OP [ARG...]]...
//     cat PATH           read a file          -> "cat PATH: ok <text>"
//     write PATH TEXT    create/truncate it   -> "write PATH: ok"
//     ls DIR             sorted entry names   -> "ls DIR: ok a,b"
//     mkdir PATH | rm PATH | symlink TARGET PATH
//     env NAME           one variable         -> "env NAME: ok <value>"
//     environ            every variable name  -> "environ: ok A,B"
//     argv               argv[0] and the count
//     stdin              all of stdin         -> "stdin: ok <text>"
//     echo TEXT          TEXT as is
//     sleep MS           nanosleep MS ms  -> "sleep MS: ok"
// A failure prints "<op> <arg>: error <strerror(errno)>". Newlines in
// printed text are shown as "\n".
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static void PrintEscaped(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (data[i] == '\n') {
      fputs("\\n", stdout);
    } else {
      putchar(data[i]);
    }
  }
}

static void Fail(const char* op, const char* arg) {
  printf("%s %s: error %s\n", op, arg, strerror(errno));
}

// Reads all of `fd` into a malloc'ed buffer; NULL on a read error.
static char* ReadAll(int fd, size_t* len) {
  size_t cap = 256, n = 0;
  char* buf = malloc(cap);
  for (;;) {
    if (n == cap) buf = realloc(buf, cap *= 2);
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0) {
      free(buf);
      return NULL;
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  *len = n;
  return buf;
}

static void Cat(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return Fail("cat", path);
  size_t len = 0;
  char* text = ReadAll(fd, &len);
  close(fd);
  if (text == NULL) return Fail("cat", path);
  printf("cat %s: ok ", path);
  PrintEscaped(text, len);
  putchar('\n');
  free(text);
}

static void Write(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Fail("write", path);
  size_t len = strlen(text);
  ssize_t put = write(fd, text, len);
  int saved = errno;
  close(fd);
  errno = saved;
  if (put != (ssize_t)len) return Fail("write", path);
  printf("write %s: ok\n", path);
}

static int CompareNames(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

// Prints "<label>: ok a,b,c" with `names` sorted.
static void PrintNames(const char* label, char** names, size_t count) {
  qsort(names, count, sizeof names[0], CompareNames);
  printf("%s: ok ", label);
  for (size_t i = 0; i < count; ++i) printf("%s%s", i ? "," : "", names[i]);
  putchar('\n');
}

static void List(const char* path) {
  DIR* dir = opendir(path);
  if (dir == NULL) return Fail("ls", path);
  char* names[256];
  size_t count = 0;
  struct dirent* e;
  while ((e = readdir(dir)) != NULL && count < 256) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[count++] = strdup(e->d_name);
  }
  closedir(dir);
  char label[512];
  snprintf(label, sizeof label, "ls %s", path);
  PrintNames(label, names, count);
  for (size_t i = 0; i < count; ++i) free(names[i]);
}

static void Environ(void) {
  char* names[256];
  size_t count = 0;
  for (char** e = environ; e != NULL && *e != NULL && count < 256; ++e) {
    names[count++] = strndup(*e, strcspn(*e, "="));
  }
  PrintNames("environ", names, count);
  for (size_t i = 0; i < count; ++i) free(names[i]);
}

static void Report(const char* op, const char* arg, int rc) {
  if (rc != 0) return Fail(op, arg);
  printf("%s %s: ok\n", op, arg);
}

// Runs the operation at argv[i]; returns how many arguments it used.
static int RunOp(int argc, char** argv, int i) {
  const char* op = argv[i];
  const char* a = i + 1 < argc ? argv[i + 1] : "";
  const char* b = i + 2 < argc ? argv[i + 2] : "";
  if (strcmp(op, "cat") == 0) return Cat(a), 2;
  if (strcmp(op, "write") == 0) return Write(a, b), 3;
  if (strcmp(op, "ls") == 0) return List(a), 2;
  if (strcmp(op, "mkdir") == 0) return Report(op, a, mkdir(a, 0755)), 2;
  if (strcmp(op, "rm") == 0) return Report(op, a, unlink(a)), 2;
  if (strcmp(op, "symlink") == 0) return Report(op, b, symlink(a, b)), 3;
  if (strcmp(op, "environ") == 0) return Environ(), 1;
  if (strcmp(op, "argv") == 0) {
    printf("argv: ok %s %d\n", argv[0], argc);
    return 1;
  }
  if (strcmp(op, "env") == 0) {
    const char* value = getenv(a);
    if (value == NULL) {
      printf("env %s: unset\n", a);
    } else {
      printf("env %s: ok %s\n", a, value);
    }
    return 2;
  }
  if (strcmp(op, "stdin") == 0) {
    size_t len = 0;
    char* text = ReadAll(0, &len);
    if (text == NULL) return Fail("stdin", "-"), 1;
    fputs("stdin: ok ", stdout);
    PrintEscaped(text, len);
    putchar('\n');
    free(text);
    return 1;
  }
  if (strcmp(op, "echo") == 0) {
    printf("%s\n", a);
    return 2;
  }
  if (strcmp(op, "sleep") == 0) {
    long ms = strtol(a, NULL, 10);
    struct timespec wait = {ms / 1000, (ms % 1000) * 1000000L};
    Report(op, a, nanosleep(&wait, NULL));
    return 2;
  }
  printf("%s: unknown operation\n", op);
  return 1;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc;) i += RunOp(argc, argv, i);
  return 0;
}
