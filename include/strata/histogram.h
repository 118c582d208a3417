// A latency histogram cheap enough to leave on: log-linear buckets (HDR
// style, 16 sub-buckets per power of two, so quantiles are within ~6%)
// recorded with one relaxed atomic increment.
//
// Thread contract: Record() is thread-safe and lock-free; Summarize() and
// the other readers may run concurrently with it and see each record or not.
#ifndef STRATA_HISTOGRAM_H_
#define STRATA_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace strata {

class Histogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;

  void Record(std::chrono::nanoseconds value);
  void Reset();

  struct Summary {
    uint64_t count = 0;
    double mean_ns = 0;
    uint64_t min_ns = 0, p50_ns = 0, p95_ns = 0, p99_ns = 0, p999_ns = 0,
             max_ns = 0;
  };
  Summary Summarize() const;
  // The summary of several histograms' records taken together.
  static Summary Summarize(std::span<const Histogram* const> histograms);
  // Value at quantile q in [0, 1] (bucket upper bound).
  uint64_t Quantile(double q) const;
  // Counts per bucket, for merging and CDFs.
  std::vector<uint64_t> Counts() const;
  static uint64_t BucketUpperBound(int bucket);

 private:
  static int BucketOf(uint64_t value);

  // Three relaxed atomics per record (the count is the buckets' sum).
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> max_ns_{0};
};

}  // namespace strata

#endif  // STRATA_HISTOGRAM_H_
