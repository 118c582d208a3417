// Number formatting shared by the reports and the CLI.
#ifndef STRATA_BENCH_REPLAY_FORMAT_H_
#define STRATA_BENCH_REPLAY_FORMAT_H_

#include <cstdio>
#include <string>

namespace strata::bench {

// `v` with `digits` decimals, e.g. Fixed(2.5, 1) == "2.5".
inline std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
// Nanoseconds as microseconds and bytes as MiB, one decimal, no unit.
inline std::string Us(double ns) { return Fixed(ns / 1e3, 1); }
inline std::string Mib(double bytes) { return Fixed(bytes / 1048576.0, 1); }

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_FORMAT_H_
