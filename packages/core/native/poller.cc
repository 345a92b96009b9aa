// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The backend-independent part of the Poller contract (native/poller.h): the
// lifetime of the kernel object and of the scratch event array. The backends
// (poller_epoll.cc, poller_kqueue.cc) implement Open, Add, Modify, Remove and Wait.

#include "poller.h"

#include <unistd.h>

#include <cstdlib>

namespace netpoll {

Poller::~Poller() { Close(); }

void Poller::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  free(scratch_);
  scratch_ = nullptr;
  scratch_capacity_ = 0;
}

}  // namespace netpoll
