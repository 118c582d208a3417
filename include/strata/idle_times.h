// A module's idle times (the gaps between one request and the next), kept
// in a histogram of fixed-width bins, as the hybrid histogram policy of
// Shahrad et al. (USENIX ATC '20) keeps them. strata's policy and the
// `histogram` baseline both read one.
//
// Idle times are observed at a policy's passes, from the pool's views: each
// pass sees how many acquires a module had since the previous one and when
// the last was, so the first gap of a pass is exact to within a pass
// interval and the others (requests within one pass) fall in the first bin.
//
// Thread contract: not thread-safe; a policy owns its histograms.
#ifndef STRATA_IDLE_TIMES_H_
#define STRATA_IDLE_TIMES_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "strata/policy.h"

namespace strata {

class IdleTimes {
 public:
  // Bins of `bin_s` seconds up to `range_s`; longer gaps are counted apart.
  IdleTimes(double bin_s, double range_s)
      : bin_s_(bin_s),
        counts_(static_cast<size_t>(std::lround(range_s / bin_s)), 0) {}

  // Records the gaps the module's view shows since the last pass; `now_s`
  // is the pool's clock at this pass.
  void Observe(const ModuleView& m, double now_s) {
    uint64_t fresh = m.acquires - std::min(m.acquires, seen_);
    seen_ = m.acquires;
    if (fresh == 0) return;
    double last = now_s - m.idle_s;
    if (has_last_) Record(last - last_s_);
    for (uint64_t k = 1; k < fresh; ++k) Record(0);
    has_last_ = true;
    last_s_ = last;
  }

  double bin_s() const { return bin_s_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t in_range() const { return in_range_; }
  uint64_t out_of_range() const { return out_of_range_; }
  uint64_t total() const { return in_range_ + out_of_range_; }
  bool has_last() const { return has_last_; }
  double last_s() const { return last_s_; }  // the last request, pool clock

 private:
  void Record(double gap_s) {
    auto bin = static_cast<size_t>(std::max(0.0, gap_s) / bin_s_);
    if (bin < counts_.size()) {
      ++counts_[bin];
      ++in_range_;
    } else {
      ++out_of_range_;
    }
  }

  double bin_s_;
  std::vector<uint64_t> counts_;
  uint64_t in_range_ = 0, out_of_range_ = 0;
  uint64_t seen_ = 0;  // acquires already observed
  bool has_last_ = false;
  double last_s_ = 0;
};

}  // namespace strata

#endif  // STRATA_IDLE_TIMES_H_
