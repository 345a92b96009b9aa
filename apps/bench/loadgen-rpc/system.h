// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// What netpoll_rpc_loadgen needs from the system besides its event loop's epoll, reads and
// writes: failing with exit status 1, the clocks, peak RSS, and a connected socket. NowNanos is
// inline: it times every call.

#ifndef NETPOLL_RPC_LOADGEN_SYSTEM_H_
#define NETPOLL_RPC_LOADGEN_SYSTEM_H_

#include <time.h>

#include <cstdint>

#include "options.h"

namespace netpoll_rpc_loadgen {

// Prints "netpoll_rpc_loadgen: " and `format` with `detail` to stderr and exits 1.
[[noreturn]] void Fail(const char* format, const char* detail);

inline uint64_t NowNanos() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

// This process's CPU time (user + system) so far.
uint64_t CpuMicros();

// This process's peak RSS (VmHWM); 0 when /proc/self/status cannot be read.
uint64_t PeakRssBytes();

// A non-blocking TCP_NODELAY socket connected to --host:--port; Fail when there is none.
int Connect(const Options& options);

}  // namespace netpoll_rpc_loadgen

#endif  // NETPOLL_RPC_LOADGEN_SYSTEM_H_
