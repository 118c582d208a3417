#include "server/access_log.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "server/registry.h"

namespace strata::server {

Result<std::unique_ptr<AccessLog>> AccessLog::Open(
    const AccessLogOptions& options) {
  double sample = std::clamp(options.sample, 0.0, 1.0);
  const std::string& target = options.target;
  if (target == "off" || sample == 0) {
    return std::unique_ptr<AccessLog>(new AccessLog(nullptr, false, 0));
  }
  if (target == "stderr" || target.empty()) {
    return std::unique_ptr<AccessLog>(new AccessLog(stderr, false, sample));
  }
  if (target == "stdout") {
    return std::unique_ptr<AccessLog>(new AccessLog(stdout, false, sample));
  }
  std::FILE* f = std::fopen(target.c_str(), "a");
  if (f == nullptr) {
    return Status(ErrorCode::kIo, "access_log.target: cannot open '" + target +
                                      "' for appending: " +
                                      std::strerror(errno));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(f, true, sample));
}

AccessLog::AccessLog(std::FILE* out, bool owned, double sample)
    : out_(out), owned_(owned), sample_(sample) {}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(out_);
}

void AccessLog::Write(const AccessRecord& r) {
  if (out_ == nullptr) return;
  // Request n is logged when n * sample crosses an integer: evenly spread.
  uint64_t n = seen_.fetch_add(1, std::memory_order_relaxed);
  if (std::floor((n + 1) * sample_) == std::floor(n * sample_)) return;
  nlohmann::json line = {
      {"ts", UtcTimestamp()},
      {"node", r.node},
      {"method", r.method},
      {"path", r.path},
      {"route", r.route},
      {"status", r.status},
      {"latency_ms",
       std::chrono::duration<double, std::milli>(r.latency).count()},
      {"bytes_in", r.bytes_in},
      {"bytes_out", r.bytes_out}};
  if (!r.module.empty()) line["module"] = r.module;
  if (!r.export_name.empty()) line["export"] = r.export_name;
  if (!r.served_from.empty()) line["served_from"] = r.served_from;
  std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  internal::MutexLock lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace strata::server
