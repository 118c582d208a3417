// What QuickJS-NG lacks and the bundle needs, installed before linkedom and
// Readability load (esbuild keeps import order).
//
// URL and URLSearchParams: core-js's WHATWG implementation; Readability
// resolves links and images against the page's URL with them.
import "core-js/web/url";
import "core-js/web/url-search-params";

// Intl: linkedom formats numbers once while it loads; nothing it returns
// reaches Readability's result, so plain decimal formatting is enough.
if (typeof globalThis.Intl === "undefined") {
  globalThis.Intl = {
    NumberFormat: class NumberFormat {
      format(n) { return String(n); }
    },
  };
}
