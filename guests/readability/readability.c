// The readability guest: QuickJS-NG running Mozilla Readability over
// linkedom, bundled into one script (js/handler.js) that is compiled in.
//
// Start-up (`wizer.initialize`) creates the JavaScript runtime and context
// and evaluates the script: ~160 ms that a snapshot takes once
// per module instead of once per instance. `extract` takes the same input as
// the C extractor, "<page URL>\n<HTML>", and returns Readability's result as
// JSON, or {"error": ...} when the script throws (a stack overflow on a
// deeply nested page, say). The runtime stays usable after an error.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"
#include "strata_guest.h"

// The bundle, NUL-terminated as JS_Eval requires.
static const char kBundle[] = {
#include "bundle.inc"
    , 0};

static JSRuntime* runtime;
static JSContext* context;
static JSValue handler;

static void fail_startup(const char* what) {
  fprintf(stderr, "readability: start-up failed: %s\n", what);
  abort();
}

__attribute__((export_name("wizer.initialize"))) void initialize(void) {
  if (context) return;
  runtime = JS_NewRuntime();
  if (!runtime) fail_startup("no memory for the runtime");
  context = JS_NewContext(runtime);
  if (!context) fail_startup("no memory for the context");
  JSValue result = JS_Eval(context, kBundle, sizeof kBundle - 1,
                           "readability.js", JS_EVAL_TYPE_GLOBAL);
  if (JS_IsException(result)) {
    JSValue error = JS_GetException(context);
    const char* message = JS_ToCString(context, error);
    fail_startup(message ? message : "the script threw");
  }
  JS_FreeValue(context, result);
  JSValue global = JS_GetGlobalObject(context);
  handler = JS_GetPropertyStr(context, global, "strataHandle");
  JS_FreeValue(context, global);
  if (!JS_IsFunction(context, handler)) fail_startup("no strataHandle()");
}

// A malloc'd copy of `text` for the host to free.
static uint64_t output(const char* text, size_t len) {
  char* out = malloc(len ? len : 1);
  if (!out) return strata_pack(NULL, 0);
  memcpy(out, text, len);
  return strata_pack(out, (uint32_t)len);
}

// {"error": message}, with the message escaped as a JSON string by
// JavaScript's own JSON.stringify.
static uint64_t error_output(JSValue message) {
  JSValue object = JS_NewObject(context);
  JS_SetPropertyStr(context, object, "error", message);
  JSValue json = JS_JSONStringify(context, object, JS_UNDEFINED, JS_UNDEFINED);
  JS_FreeValue(context, object);
  size_t len = 0;
  const char* text = JS_IsException(json) ? NULL : JS_ToCStringLen(context, &len, json);
  uint64_t out = text ? output(text, len)
                      : output("{\"error\":\"out of memory\"}", 25);
  if (text) JS_FreeCString(context, text);
  JS_FreeValue(context, json);
  return out;
}

__attribute__((export_name("extract"))) uint64_t extract(const char* ptr,
                                                         uint32_t len) {
  initialize();  // a no-op once start-up ran (or was snapshotted)
  JSValue input = JS_NewStringLen(context, ptr, len);
  JSValue result = JS_Call(context, handler, JS_UNDEFINED, 1, &input);
  JS_FreeValue(context, input);
  uint64_t out;
  if (JS_IsException(result)) {
    JSValue error = JS_GetException(context);
    out = error_output(JS_ToString(context, error));
    JS_FreeValue(context, error);
  } else {
    size_t n = 0;
    const char* text = JS_ToCStringLen(context, &n, result);
    out = text ? output(text, n) : error_output(JS_NewString(context, "out of memory"));
    if (text) JS_FreeCString(context, text);
  }
  JS_FreeValue(context, result);
  // The page's DOM is full of cycles that reference counting leaves behind:
  // collect them now, so that a reused instance does not grow call by call.
  JS_RunGC(runtime);
  return out;
}
