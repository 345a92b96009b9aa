// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// macOS/BSD implementation of poller.h over a kqueue. On Linux CI it is built
// against libkqueue when pkg-config finds one, else against the test-only
// epoll emulation in native/test/kqueue_shim, so the native suite runs it.
// Readable and writable interest map to the EVFILT_READ and EVFILT_WRITE
// filters, added and deleted as the interest changes (netpoll's R2RW/RW2R);
// EV_EOF becomes a hang-up, as uSockets does.
//
// kqueue reports each filter as its own event, so one fd can come back twice
// in a batch (read and write). Wait merges them into one PollResult per fd,
// as epoll reports it: a consumer that handles the read event first (and
// unregisters the fd on a reset) would otherwise act on the stale write event
// and report the same hang-up twice.

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

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

// The scratch space holds `capacity` kevent records, then the slot each
// merged result took, then an open-addressing table (fd -> result index,
// -1 = empty) of TableSize(capacity) entries. The table is left empty
// after every Wait.
size_t TableSize(int capacity) {
  size_t size = 2;
  while (size < 2 * static_cast<size_t>(capacity)) size <<= 1;
  return size;
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

int Poller::Open() {
  fd_ = kqueue();
  return fd_ < 0 ? NegativeErrno() : 0;
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
    const size_t table_size = TableSize(capacity);
    void* grown = realloc(scratch_, sizeof(struct kevent) * capacity + sizeof(int32_t) * capacity +
                                        sizeof(int32_t) * table_size);
    if (grown == nullptr) return -ENOMEM;
    scratch_ = grown;
    scratch_capacity_ = capacity;
    auto* table = reinterpret_cast<int32_t*>(static_cast<struct kevent*>(scratch_) + capacity) +
                  capacity;
    memset(table, 0xff, sizeof(int32_t) * table_size);  // every entry -1
  }
  auto* events = static_cast<struct kevent*>(scratch_);
  auto* placed = reinterpret_cast<int32_t*>(events + scratch_capacity_);
  int32_t* table = placed + scratch_capacity_;
  const size_t mask = TableSize(scratch_capacity_) - 1;
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
  int merged = 0;
  for (int i = 0; i < count; ++i) {
    uint32_t ready = 0;
    if (events[i].filter == EVFILT_READ) ready |= kPollReadable;
    if (events[i].filter == EVFILT_WRITE) ready |= kPollWritable;
    if (events[i].flags & EV_EOF) ready |= kPollHangup;
    if (events[i].flags & EV_ERROR) ready |= kPollError;
    const int fd = static_cast<int>(events[i].ident);
    size_t slot = static_cast<size_t>(static_cast<uint32_t>(fd)) & mask;
    while (table[slot] >= 0 && results[table[slot]].fd != fd) slot = (slot + 1) & mask;
    if (table[slot] >= 0) {
      results[table[slot]].events |= ready;
      continue;
    }
    table[slot] = merged;
    placed[merged] = static_cast<int32_t>(slot);
    results[merged].fd = fd;
    results[merged].events = ready;
    ++merged;
  }
  for (int i = 0; i < merged; ++i) table[placed[i]] = -1;
  return merged;
}

}  // namespace netpoll
