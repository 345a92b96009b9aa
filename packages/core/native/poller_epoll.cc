// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Linux implementation of poller.h over a level-triggered epoll fd.
// Readable interest also asks for EPOLLRDHUP so a peer's FIN is reported as
// a hang-up together with the last readable data (netpoll's RDHUP handling).

#include <sys/epoll.h>

#include <cstdlib>

#include "poller.h"
#include "result.h"

namespace netpoll {
namespace {

uint32_t ToEpoll(uint32_t interest) {
  uint32_t events = 0;
  if (interest & kPollReadable) events |= EPOLLIN | EPOLLRDHUP;
  if (interest & kPollWritable) events |= EPOLLOUT;
  return events;
}

uint32_t FromEpoll(uint32_t events) {
  uint32_t result = 0;
  if (events & EPOLLIN) result |= kPollReadable;
  if (events & EPOLLOUT) result |= kPollWritable;
  if (events & (EPOLLHUP | EPOLLRDHUP)) result |= kPollHangup;
  if (events & EPOLLERR) result |= kPollError;
  return result;
}

int Control(int epoll_fd, int operation, int fd, uint32_t interest) {
  struct epoll_event event {};
  event.events = ToEpoll(interest);
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd, operation, fd, &event) == -1) return NegativeErrno();
  return 0;
}

}  // namespace

int Poller::Open() {
  fd_ = epoll_create1(EPOLL_CLOEXEC);
  return fd_ < 0 ? NegativeErrno() : 0;
}

int Poller::Add(int fd, uint32_t interest) {
  return Control(fd_, EPOLL_CTL_ADD, fd, interest);
}

int Poller::Modify(int fd, uint32_t /*previous*/, uint32_t interest) {
  return Control(fd_, EPOLL_CTL_MOD, fd, interest);
}

int Poller::Remove(int fd, uint32_t /*previous*/) {
  return Control(fd_, EPOLL_CTL_DEL, fd, 0);
}

int Poller::Wait(PollResult* results, int capacity, int timeout_ms) {
  if (capacity > scratch_capacity_) {
    void* grown = realloc(scratch_, sizeof(struct epoll_event) * capacity);
    if (grown == nullptr) return -ENOMEM;
    scratch_ = grown;
    scratch_capacity_ = capacity;
  }
  auto* events = static_cast<struct epoll_event*>(scratch_);
  int count = RetryOnInterrupt(
      [&] { return epoll_wait(fd_, events, capacity, timeout_ms); });
  if (count < 0) return NegativeErrno();
  for (int i = 0; i < count; ++i) {
    results[i].fd = events[i].data.fd;
    results[i].events = FromEpoll(events[i].events);
  }
  return count;
}

}  // namespace netpoll
