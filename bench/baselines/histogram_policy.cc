// The hybrid histogram policy of Shahrad et al., "Serverless in the Wild:
// Characterizing and Optimizing the Serverless Workload at a Large Cloud
// Provider" (USENIX ATC '20), section 4.
//
// Per application (here: per module) it keeps a histogram of idle times
// (the time between one invocation and the next) in 1-minute bins over a
// 4-hour range. After each invocation the application is unloaded; it is
// loaded again (pre-warmed) once the head of the histogram (its 5th
// percentile, shrunk by a 10% margin) has passed since the invocation, and
// kept loaded until its tail (its 99th percentile bin's end, grown by 10%).
// When the histogram is not representative (the coefficient of variation
// of its bin counts is below 2), it falls back to a fixed keep-alive the
// length of the range, with no pre-warming. Applications whose idle times
// mostly fall beyond the range get a time-series (ARIMA) forecast in the
// paper; here they fall back like the unrepresentative ones (no replay of
// ours spans more than the 4-hour range per idle time, so this path
// decides nothing in them). The thresholds follow the paper and a public
// reimplementation (dslab-faas).
//
// Idle times are observed at the maintainer's passes (strata/idle_times.h).
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "baselines/baselines.h"
#include "strata/idle_times.h"

namespace strata::bench {
namespace {

double Seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

class HistogramPolicy final : public Policy {
 public:
  explicit HistogramPolicy(HistogramOptions o)
      : o_(o),
        bin_s_(Seconds(o.bin)),
        range_s_(Seconds(o.range)) {}
  const char* name() const override { return "histogram"; }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    double now = Seconds(limits.now);
    std::vector<uint32_t> alive;
    std::vector<double> rank(modules.size(), 0);
    for (uint32_t i = 0; i < modules.size(); ++i) {
      const ModuleView& m = modules[i];
      IdleTimes& app = apps_.try_emplace(m.key, bin_s_, range_s_).first->second;
      app.Observe(m, now);
      rank[i] = -m.idle_s;
      if (m.min_hot > 0 || (app.has_last() && InWindow(app, now))) {
        alive.push_back(i);
      }
    }
    std::sort(alive.begin(), alive.end(), [&](uint32_t a, uint32_t b) {
      return modules[a].idle_s < modules[b].idle_s;
    });
    return AliveInOrder(modules, alive, rank, limits);
  }

 private:
  // The bin holding the p-th fraction of the recorded idle times.
  static size_t Percentile(const IdleTimes& app, double p) {
    const std::vector<uint64_t>& counts = app.counts();
    uint64_t prefix = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      prefix += counts[i];
      if (static_cast<double>(prefix) >= p * static_cast<double>(app.in_range())) {
        return i;
      }
    }
    return counts.size() - 1;
  }

  // Representative: most idle times in range, and bin counts that vary
  // (a CV of at least the threshold: a few bins hold the mass).
  bool Representative(const IdleTimes& app) const {
    if (app.in_range() == 0 ||
        static_cast<double>(app.out_of_range()) >=
            o_.oob_threshold * static_cast<double>(app.total())) {
      return false;
    }
    double n = static_cast<double>(app.counts().size());
    double mean = static_cast<double>(app.in_range()) / n;
    double sq = 0;
    for (uint64_t c : app.counts()) sq += (c - mean) * (c - mean);
    double cv = std::sqrt(sq / (n - 1)) / mean;
    return cv >= o_.cv_threshold;
  }

  bool InWindow(const IdleTimes& app, double now) const {
    double since = now - app.last_s();
    if (!Representative(app)) return since < range_s_;  // fixed keep-alive
    double prewarm = Percentile(app, o_.head) * bin_s_ * (1 - o_.margin);
    double until = (Percentile(app, o_.tail) + 1) * bin_s_ * (1 + o_.margin);
    return since >= prewarm && since < until;
  }

  const HistogramOptions o_;
  const double bin_s_, range_s_;
  std::unordered_map<uint32_t, IdleTimes> apps_;  // by ModuleView::key
};

}  // namespace

std::unique_ptr<Policy> MakeHistogramPolicy(HistogramOptions options) {
  return std::make_unique<HistogramPolicy>(options);
}

}  // namespace strata::bench
