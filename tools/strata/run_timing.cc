#include "run_timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

double Ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Series {
  std::vector<double> ms;
  double Mean() const {
    return ms.empty() ? 0
                      : std::accumulate(ms.begin(), ms.end(), 0.0) /
                            static_cast<double>(ms.size());
  }
  // The value at quantile q (nearest rank).
  double Quantile(double q) const {
    if (ms.empty()) return 0;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    auto rank = static_cast<size_t>(std::ceil(q * sorted.size()));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
  }
  double Min() const {
    return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end());
  }
  double Max() const {
    return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
  }
};

Series Sum(const Series& a, const Series& b) {
  Series total;
  for (size_t i = 0; i < a.ms.size() && i < b.ms.size(); ++i) {
    total.ms.push_back(a.ms[i] + b.ms[i]);
  }
  return total;
}

std::string Row(const std::string& label, const Series& s) {
  char line[200];
  std::snprintf(line, sizeof line, "    %-26s %9.3f %9.3f %9.3f %9.3f %9.3f\n",
                label.c_str(), s.Mean(), s.Min(), s.Quantile(0.5),
                s.Quantile(0.99), s.Max());
  return line;
}

struct Timings {
  double link_ms = 0, register_ms = 0;
  Series instantiate, unpooled_call, acquire, pooled_call;
  int hot = 0;
};

void Report(const Module& module, size_t bytes, int repeat, const Timings& t,
            std::ostream& out) {
  const double compile_ms = Ms(module.load_time());
  char line[320];
  out << "strata: " << repeat << " runs of module '" << module.name() << "' ("
      << bytes << " bytes), without and through a pool, interleaved\n";
  std::snprintf(line, sizeof line,
                "  once: compile (or load from the module cache) %.3f ms, "
                "link %.3f ms; pool registration %.3f ms\n",
                compile_ms, t.link_ms, t.register_ms);
  out << line
      << "  per run, ms                     mean       min       p50       p99       max\n"
      << "  without a pool\n"
      << Row("instantiate", t.instantiate)
      << Row("call (_start)", t.unpooled_call)
      << Row("instantiate + call", Sum(t.instantiate, t.unpooled_call))
      << "  through a pool\n"
      << Row("acquire (" + std::to_string(t.hot) + "/" +
                 std::to_string(repeat) + " hot)",
             t.acquire)
      << Row("call (_start)", t.pooled_call)
      << Row("acquire + call", Sum(t.acquire, t.pooled_call));
  // The call is the same work either way; what the pool takes off the
  // request path is instantiation (and, against a one-shot run, compiling).
  const double saved = t.instantiate.Mean() - t.acquire.Mean();
  std::snprintf(line, sizeof line,
                "  pooling saves per run (mean): %.3f ms against instantiating "
                "per run (instantiate - acquire); %.3f ms against a one-shot "
                "run that compiles and links first\n",
                saved, compile_ms + t.link_ms + saved);
  out << line;
}

}  // namespace

Result<CommandOutput> RunRepeated(Engine& engine,
                                  const std::shared_ptr<const Module>& module,
                                  const Bytes& bytes,
                                  const InstanceLimits& limits,
                                  const CommandRequest& request, int repeat,
                                  std::ostream& report) {
  const std::string& name = module->name();
  Timings t;
  auto start = Clock::now();
  auto prepared = engine.Prepare(module);
  if (!prepared.ok()) return prepared.status();
  t.link_ms = MsSince(start);

  auto pool = Pool::Create(&engine, PoolOptions{});
  if (!pool.ok()) return pool.status();
  ModuleOptions options;
  options.min_hot = 1;
  options.limits = limits;
  // The unpooled runs have only the request's deadline; so do these.
  options.call_timeout =
      request.timeout.count() > 0
          ? request.timeout
          : std::chrono::milliseconds(std::chrono::hours(24));
  start = Clock::now();
  // The module compiled above is registered as it is, not compiled again.
  if (Status added = (*pool)->AddModule(name, bytes, module, options);
      !added.ok()) {
    return added;
  }
  t.register_ms = MsSince(start);
  (*pool)->RunMaintenance();
  (*pool)->WaitForRefills();

  // Interleaved, so that noise from the rest of the machine falls on both.
  std::optional<CommandOutput> first;
  for (int i = 0; i < repeat; ++i) {
    start = Clock::now();
    auto instance = (*prepared)->Instantiate(limits);
    if (!instance.ok()) return instance.status();
    t.instantiate.ms.push_back(MsSince(start));
    start = Clock::now();
    auto out = (*instance)->RunCommand(request);
    if (!out.ok()) return out.status();
    t.unpooled_call.ms.push_back(MsSince(start));
    if (!first) first = std::move(*out);
    instance->reset();

    {
      start = Clock::now();
      auto lease = (*pool)->Acquire(name, std::chrono::seconds(10));
      if (!lease.ok()) return lease.status();
      t.acquire.ms.push_back(MsSince(start));
      t.hot += lease->served_from() == ServedFrom::kHot;
      start = Clock::now();
      auto pooled = lease->RunCommand(request);
      if (!pooled.ok()) return pooled.status();
      t.pooled_call.ms.push_back(MsSince(start));
    }  // the lease drops its (used) instance here
    // The refill thread makes the next hot instance between requests, as
    // when requests arrive slower than an instantiation; not timed.
    (*pool)->WaitForRefills();
  }
  Report(*module, bytes.size(), repeat, t, report);
  return std::move(*first);
}

}  // namespace strata::cli
