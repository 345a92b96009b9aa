// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The round-trip histogram behind the result's p50/p99. Header-only: Record runs for every reply
// in the measured window.

#ifndef NETPOLL_RPC_LOADGEN_HISTOGRAM_H_
#define NETPOLL_RPC_LOADGEN_HISTOGRAM_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace netpoll_rpc_loadgen {

// apps/bench/src/histogram.ts, in C++: 64 log-spaced buckets per doubling from 1 µs; a quantile
// is the upper edge of its bucket.
class Histogram {
 public:
  static constexpr int kBucketsPerDoubling = 64;
  static constexpr int kDoublings = 27;

  Histogram() : counts_(kBucketsPerDoubling * kDoublings + 1, 0) {}

  void Record(double micros) {
    double clamped = micros < 1 ? 1 : micros;
    long index = static_cast<long>(std::floor(std::log2(clamped) * kBucketsPerDoubling));
    if (index < 0) index = 0;
    if (index >= static_cast<long>(counts_.size())) index = static_cast<long>(counts_.size()) - 1;
    counts_[static_cast<size_t>(index)] += 1;
    total_ += 1;
  }

  double Quantile(double q) const {
    if (total_ == 0) return NAN;
    uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    uint64_t seen = 0;
    for (size_t index = 0; index < counts_.size(); ++index) {
      seen += counts_[index];
      if (seen >= rank) return std::exp2(static_cast<double>(index + 1) / kBucketsPerDoubling);
    }
    return INFINITY;
  }

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

}  // namespace netpoll_rpc_loadgen

#endif  // NETPOLL_RPC_LOADGEN_HISTOGRAM_H_
