// Fixed keep-alive, the policy of AWS Lambda, Apache OpenWhisk and Knative:
// an execution environment is kept for a fixed time after it was last used
// (commonly 10 minutes), then released; when memory is short the least
// recently used goes first.
#include <algorithm>
#include <charconv>

#include "baselines/baselines.h"

namespace strata::bench {
namespace {

double Seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

class KeepAlivePolicy final : public Policy {
 public:
  explicit KeepAlivePolicy(std::chrono::nanoseconds ttl)
      : ttl_s_(Seconds(ttl)), name_("keepalive") {}
  const char* name() const override { return name_.c_str(); }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    std::vector<uint32_t> order;
    std::vector<double> rank(modules.size());
    for (uint32_t i = 0; i < modules.size(); ++i) {
      const ModuleView& m = modules[i];
      rank[i] = -m.idle_s;  // the most recent use ranks highest
      bool used = m.acquires > 0;
      if ((used && m.idle_s < ttl_s_) || m.min_hot > 0) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return modules[a].idle_s < modules[b].idle_s;
    });
    return AliveInOrder(modules, order, rank, limits);
  }

 private:
  double ttl_s_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Policy> MakeKeepAlivePolicy(std::chrono::nanoseconds ttl) {
  return std::make_unique<KeepAlivePolicy>(ttl);
}

Result<std::unique_ptr<Policy>> MakeBaselinePolicy(const std::string& spec) {
  if (spec == "gdsf") return MakeGdsfPolicy();
  if (spec == "histogram") return MakeHistogramPolicy();
  if (spec == "fifo") return MakeFifoPolicy();
  if (spec == "instantiate") return MakeInstantiatePolicy();
  if (spec == "keepalive") return MakeKeepAlivePolicy(std::chrono::minutes(10));
  if (spec.rfind("keepalive:", 0) == 0) {
    std::string ttl = spec.substr(10);
    double value = 0;
    auto [end, ec] = std::from_chars(ttl.data(), ttl.data() + ttl.size(), value);
    std::string unit(end, static_cast<const char*>(ttl.data() + ttl.size()));
    double scale = unit.empty() || unit == "s" ? 1
                   : unit == "m"               ? 60
                   : unit == "h"               ? 3600
                                               : -1;
    if (ec == std::errc() && scale > 0 && value > 0) {
      return MakeKeepAlivePolicy(std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::duration<double>(value * scale)));
    }
    return Status(ErrorCode::kInvalidArgument,
                  "bench: keep-alive '" + spec +
                      "' needs a positive TTL, e.g. keepalive:600 or keepalive:10m");
  }
  return Status(ErrorCode::kInvalidArgument,
                "bench: unknown baseline policy '" + spec + "'");
}

std::vector<Placement> AliveInOrder(const std::vector<ModuleView>& modules,
                                    const std::vector<uint32_t>& order,
                                    const std::vector<double>& rank,
                                    const PolicyLimits& limits,
                                    uint32_t max_per_module) {
  std::vector<Placement> plan(modules.size());
  for (uint32_t i = 0; i < modules.size(); ++i) {
    plan[i] = {modules[i].id, Tier::kColdDisk, 0, rank[i]};
  }
  uint64_t budget = limits.budget_bytes;
  uint32_t instances = limits.max_instances;
  for (uint32_t i : order) {
    const ModuleView& m = modules[i];
    uint64_t code = std::max<uint64_t>(m.code_bytes, 1);
    uint64_t instance = std::max<uint64_t>(m.instance_bytes, 1);
    if (code + instance > budget || instances == 0) continue;
    uint32_t want = std::max(HotInstancesNeeded(m, limits), m.min_hot);
    if (max_per_module > 0) want = std::min(want, max_per_module);
    uint64_t fit = (budget - code) / instance;
    uint32_t n = static_cast<uint32_t>(
        std::min<uint64_t>({want, fit, instances}));
    plan[i].tier = Tier::kHot;
    plan[i].target_hot = n;
    budget -= code + n * instance;
    instances -= n;
  }
  return plan;
}

}  // namespace strata::bench
