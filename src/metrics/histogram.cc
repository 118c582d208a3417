#include "strata/histogram.h"

#include <algorithm>
#include <bit>

namespace strata {

int Histogram::BucketOf(uint64_t v) {
  if (v < (uint64_t{1} << kSubBits)) return static_cast<int>(v);
  int exp = std::bit_width(v) - 1;  // >= kSubBits
  int shift = exp - kSubBits;
  int sub = static_cast<int>((v >> shift) & ((1 << kSubBits) - 1));
  return ((shift + 1) << kSubBits) + sub;
}

uint64_t Histogram::BucketUpperBound(int bucket) {
  if (bucket < (1 << kSubBits)) return static_cast<uint64_t>(bucket);
  int shift = (bucket >> kSubBits) - 1;
  uint64_t sub = static_cast<uint64_t>(bucket & ((1 << kSubBits) - 1));
  uint64_t low = ((uint64_t{1} << kSubBits) | sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void Histogram::Record(std::chrono::nanoseconds value) {
  uint64_t v = value.count() > 0 ? static_cast<uint64_t>(value.count()) : 0;
  counts_[BucketOf(v)].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(v, std::memory_order_relaxed);
  uint64_t max = max_ns_.load(std::memory_order_relaxed);
  while (v > max &&
         !max_ns_.compare_exchange_weak(max, v, std::memory_order_relaxed)) {
  }
}

void Histogram::Reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  sum_ns_.store(0, std::memory_order_relaxed);
  max_ns_.store(0, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::Counts() const {
  std::vector<uint64_t> out(kBuckets);
  for (int i = 0; i < kBuckets; ++i) {
    out[i] = counts_[i].load(std::memory_order_relaxed);
  }
  return out;
}

namespace {

// The value at quantile q of `counts` (a bucket's upper bound, capped at the
// largest value recorded).
uint64_t QuantileOf(const std::vector<uint64_t>& counts, uint64_t total,
                    double q, uint64_t max_ns) {
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) {
      return std::min(Histogram::BucketUpperBound(static_cast<int>(i)), max_ns);
    }
  }
  return max_ns;
}

}  // namespace

uint64_t Histogram::Quantile(double q) const {
  std::vector<uint64_t> counts = Counts();
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  return QuantileOf(counts, total, q, max_ns_.load(std::memory_order_relaxed));
}

Histogram::Summary Histogram::Summarize() const {
  const Histogram* self = this;
  return Summarize(std::span<const Histogram* const>(&self, 1));
}

Histogram::Summary Histogram::Summarize(
    std::span<const Histogram* const> histograms) {
  Summary s;
  std::vector<uint64_t> counts(kBuckets, 0);
  uint64_t sum = 0;
  for (const Histogram* h : histograms) {
    for (int i = 0; i < kBuckets; ++i) {
      counts[i] += h->counts_[i].load(std::memory_order_relaxed);
    }
    sum += h->sum_ns_.load(std::memory_order_relaxed);
    s.max_ns = std::max(s.max_ns, h->max_ns_.load(std::memory_order_relaxed));
  }
  for (uint64_t c : counts) s.count += c;
  if (s.count == 0) return s;
  s.mean_ns = static_cast<double>(sum) / static_cast<double>(s.count);
  s.p50_ns = QuantileOf(counts, s.count, 0.5, s.max_ns);
  s.p95_ns = QuantileOf(counts, s.count, 0.95, s.max_ns);
  s.p99_ns = QuantileOf(counts, s.count, 0.99, s.max_ns);
  s.p999_ns = QuantileOf(counts, s.count, 0.999, s.max_ns);
  for (int i = 0; i < kBuckets; ++i) {
    if (counts[i] > 0) {
      s.min_ns = i < (1 << kSubBits) ? static_cast<uint64_t>(i)
                                     : BucketUpperBound(i - 1) + 1;
      break;
    }
  }
  return s;
}

}  // namespace strata
