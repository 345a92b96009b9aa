// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// macOS/BSD implementation of poller.h over a kqueue (also built on Linux
// against Debian's libkqueue so CI exercises it). Readable and writable
// interest map to the EVFILT_READ and EVFILT_WRITE filters, added and deleted
// as the interest changes (netpoll's R2RW/RW2R); EV_EOF becomes a hang-up, as
// uSockets does.

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>

#include "poller.h"
#include "result.h"

namespace netpoll {
namespace {

int Apply(int kqueue_fd, struct kevent* changes, int count) {
  if (count == 0) return 0;
  // Ask for per-change receipts so one failing change does not hide another
  // and no pending event is consumed by this call.
  for (int i = 0; i < count; ++i) changes[i].flags |= EV_RECEIPT;
  struct kevent receipts[2];
  int received = RetryOnInterrupt([&] {
    return kevent(kqueue_fd, changes, count, receipts, count, nullptr);
  });
  if (received < 0) return NegativeErrno();
  for (int i = 0; i < received; ++i) {
    if ((receipts[i].flags & EV_ERROR) && receipts[i].data != 0 &&
        receipts[i].data != ENOENT) {
      return -static_cast<int>(receipts[i].data);
    }
  }
  return 0;
}

int Change(int kqueue_fd, int fd, uint32_t previous, uint32_t interest) {
  struct kevent changes[2];
  int count = 0;
  const uint32_t added = interest & ~previous;
  const uint32_t removed = previous & ~interest;
  if (added & kPollReadable) {
    EV_SET(&changes[count++], fd, EVFILT_READ, EV_ADD, 0, 0, nullptr);
  }
  if (added & kPollWritable) {
    EV_SET(&changes[count++], fd, EVFILT_WRITE, EV_ADD, 0, 0, nullptr);
  }
  if (removed & kPollReadable) {
    EV_SET(&changes[count++], fd, EVFILT_READ, EV_DELETE, 0, 0, nullptr);
  }
  if (removed & kPollWritable) {
    EV_SET(&changes[count++], fd, EVFILT_WRITE, EV_DELETE, 0, 0, nullptr);
  }
  return Apply(kqueue_fd, changes, count);
}

}  // namespace

Poller::~Poller() { Close(); }

int Poller::Open() {
  fd_ = kqueue();
  return fd_ < 0 ? NegativeErrno() : 0;
}

void Poller::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  free(scratch_);
  scratch_ = nullptr;
  scratch_capacity_ = 0;
}

int Poller::Add(int fd, uint32_t interest) {
  return Change(fd_, fd, 0, interest);
}

int Poller::Modify(int fd, uint32_t previous, uint32_t interest) {
  return Change(fd_, fd, previous, interest);
}

int Poller::Remove(int fd, uint32_t previous) {
  return Change(fd_, fd, previous, 0);
}

int Poller::Wait(PollResult* results, int capacity, int timeout_ms) {
  if (capacity > scratch_capacity_) {
    void* grown = realloc(scratch_, sizeof(struct kevent) * capacity);
    if (grown == nullptr) return -ENOMEM;
    scratch_ = grown;
    scratch_capacity_ = capacity;
  }
  auto* events = static_cast<struct kevent*>(scratch_);
  struct timespec timeout {};
  struct timespec* timeout_pointer = nullptr;
  if (timeout_ms >= 0) {
    timeout.tv_sec = timeout_ms / 1000;
    timeout.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;  // NOLINT
    timeout_pointer = &timeout;
  }
  int count = RetryOnInterrupt([&] {
    return kevent(fd_, nullptr, 0, events, capacity, timeout_pointer);
  });
  if (count < 0) return NegativeErrno();
  for (int i = 0; i < count; ++i) {
    uint32_t ready = 0;
    if (events[i].filter == EVFILT_READ) ready |= kPollReadable;
    if (events[i].filter == EVFILT_WRITE) ready |= kPollWritable;
    if (events[i].flags & EV_EOF) ready |= kPollHangup;
    if (events[i].flags & EV_ERROR) ready |= kPollError;
    results[i].fd = static_cast<int>(events[i].ident);
    results[i].events = ready;
  }
  return count;
}

}  // namespace netpoll
