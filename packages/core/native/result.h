// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// "Value or negative errno" helpers, following libuv's UV__ERR convention:
// every syscall wrapper in this addon returns a non-negative value on success
// and -errno on failure, so the hot path never throws and TypeScript builds
// the error object (code, errno, syscall) once, where it is needed.

#ifndef NETPOLL_NATIVE_RESULT_H_
#define NETPOLL_NATIVE_RESULT_H_

#include <cerrno>

namespace netpoll {

// Returns -errno for the calling thread's last error. Call it immediately
// after the failing syscall, before anything else can change errno.
inline int NegativeErrno() { return errno > 0 ? -errno : -EIO; }

// Runs `call` again while it fails with EINTR and returns its raw result.
template <typename Call>
inline auto RetryOnInterrupt(Call call) -> decltype(call()) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

// True when `result` is a negative errno meaning "try again later".
inline bool IsWouldBlock(int result) {
  return result == -EAGAIN || result == -EWOULDBLOCK;
}

}  // namespace netpoll

#endif  // NETPOLL_NATIVE_RESULT_H_
