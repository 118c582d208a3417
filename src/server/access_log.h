// The structured access log: one JSON line per request (module, export,
// the tier that served it, status, latency, sizes), to stderr, stdout or a
// file, or off; sampled evenly when asked (every Nth of a share, not at
// random, so a low rate still logs a steady trickle).
//
// Thread contract: thread-safe.
#ifndef STRATA_SERVER_ACCESS_LOG_H_
#define STRATA_SERVER_ACCESS_LOG_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "internal/mutex.h"
#include "strata/server.h"
#include "strata/status.h"

namespace strata::server {

struct AccessRecord {
  std::string node;
  std::string method, path, route;
  std::string module, export_name, served_from;  // empty when none
  unsigned status = 0;
  std::chrono::nanoseconds latency{};
  uint64_t bytes_in = 0, bytes_out = 0;
};

class AccessLog {
 public:
  // kIo naming the file when it cannot be opened for appending.
  static Result<std::unique_ptr<AccessLog>> Open(
      const AccessLogOptions& options);
  ~AccessLog();

  // Writes `record` if it is among the sampled ones.
  void Write(const AccessRecord& record);

 private:
  AccessLog(std::FILE* out, bool owned, double sample);

  std::FILE* const out_;  // null: off
  const bool owned_;
  const double sample_;
  std::atomic<uint64_t> seen_{0};  // relaxed: only counts
  internal::Mutex mu_;             // one line at a time
};

}  // namespace strata::server

#endif  // STRATA_SERVER_ACCESS_LOG_H_
