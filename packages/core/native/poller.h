// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The platform contract of the reactor: a level-triggered readiness poller
// over one kernel object (an epoll fd on Linux, a kqueue elsewhere). The
// design follows cloudwego/netpoll's Poll interface and libuv's platform
// split: this header is pure C++ (no <napi.h>, no libuv), and exactly one of
// poller_epoll.cc / poller_kqueue.cc is compiled, chosen by CMake.
//
// Thread rules: a Poller is used by one thread at a time (the JS thread that
// owns the reactor). None of its methods block when `timeout_ms` is 0.

#ifndef NETPOLL_NATIVE_POLLER_H_
#define NETPOLL_NATIVE_POLLER_H_

#include <cstdint>

namespace netpoll {

// Portable readiness bits. Interest masks use kPollReadable and
// kPollWritable; results may also carry kPollHangup and kPollError.
// Mirrored once in src/layout.ts.
enum PollEvent : uint32_t {
  kPollReadable = 1u << 0,
  kPollWritable = 1u << 1,
  kPollHangup = 1u << 2,
  kPollError = 1u << 3,
};

// One ready descriptor reported by Poller::Wait. A backend may report the
// same fd twice in one batch (kqueue reports each filter on its own); the
// consumer must tolerate that.
struct PollResult {
  int fd;
  uint32_t events;
};

class Poller {
 public:
  Poller() = default;
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Creates the kernel object. Returns 0 or -errno. Must be called once,
  // before any other method.
  int Open();

  // Closes the kernel object. Safe to call twice.
  void Close();

  // The fd to watch from an outer loop: it is readable while events are
  // pending (both epoll and kqueue fds can be nested this way).
  int fd() const { return fd_; }

  // Starts watching `fd` for `interest` (a mask of kPollReadable and
  // kPollWritable; 0 is allowed and reports only errors/hang-ups on epoll).
  // Returns 0 or -errno (syscall "epoll_ctl" or "kevent").
  int Add(int fd, uint32_t interest);

  // Changes the interest of a watched fd from `previous` to `interest`.
  // Returns 0 or -errno.
  int Modify(int fd, uint32_t previous, uint32_t interest);

  // Stops watching `fd`, whose current interest is `previous`. Returns 0 or
  // -errno. Closing an fd also removes it; call Remove first anyway so that
  // no stale event is reported for a reused fd number.
  int Remove(int fd, uint32_t previous);

  // Fills up to `capacity` results, waiting at most `timeout_ms` (0 = poll,
  // -1 = forever). Returns the count or -errno (EINTR is retried).
  int Wait(PollResult* results, int capacity, int timeout_ms);

 private:
  int fd_ = -1;
  // Backend scratch space for kernel event records, grown on demand.
  void* scratch_ = nullptr;
  int scratch_capacity_ = 0;
};

}  // namespace netpoll

#endif  // NETPOLL_NATIVE_POLLER_H_
