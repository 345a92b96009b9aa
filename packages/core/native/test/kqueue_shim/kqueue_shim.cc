// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// TEST-ONLY kqueue(2)/kevent(2) emulation over a level-triggered epoll fd.
//
// Why: the kqueue backend (native/poller_kqueue.cc) must be built and run by
// the native suite on Linux CI, and Debian 12 ships no libkqueue-dev. When
// pkg-config finds a real libkqueue, CMake uses it instead of this file. The
// shim is our own code, written from the FreeBSD kqueue(2) manual page; it is
// never linked into a macOS/BSD build.
//
// Subset: kqueue(); kevent() with a changelist, an eventlist and a timeout;
// EVFILT_READ and EVFILT_WRITE on descriptors; EV_ADD, EV_DELETE, EV_ENABLE,
// EV_DISABLE, EV_ONESHOT, EV_RECEIPT. EV_CLEAR, EV_DISPATCH and every other
// filter (EVFILT_USER, timers, vnodes, ...) are refused per change with
// EV_ERROR / EINVAL, so a poller that starts using them fails loudly here
// instead of being tested against semantics the shim does not have.
//
// BSD semantics it mirrors (where epoll differs):
// - A knote is identified by (ident, filter): the read and write filters of a
//   descriptor are independent registrations, reported as separate events.
//   Internally one epoll registration per descriptor carries the union.
// - EV_ADD of an existing knote updates it (no EEXIST); EV_DELETE, EV_ENABLE
//   or EV_DISABLE of an absent one fail with ENOENT; a descriptor that is not
//   open fails with EBADF.
// - Change errors: when the eventlist has room, a failed change (or any change
//   with EV_RECEIPT) becomes an entry with EV_ERROR and data = errno (0 for a
//   successful receipt), the remaining changes are still applied, and kevent()
//   returns those entries without collecting events. Without room it returns
//   -1 with errno of the first failure.
// - Closing a descriptor makes its knotes vanish: every registration records
//   the file's (st_dev, st_ino), so a later change or event for a descriptor
//   number that was closed (and maybe reused by another file) finds no knote.
// - Level-triggered by default: an event is returned while its condition
//   holds. EV_EOF is set on the read filter as soon as the peer shut down its
//   write side, even with data still buffered (EPOLLRDHUP), and on the write
//   filter when the connection is gone (EPOLLHUP). A read filter fires at EOF
//   with 0 bytes buffered.
// - data: bytes readable (FIONREAD; for a listening TCP socket the accept
//   queue length from TCP_INFO), space writable (SO_SNDBUF minus SIOCOUTQ),
//   or the errno of a failed change. udata is returned unchanged.
//
// Known differences from a real kqueue (what this shim cannot prove):
// - fflags is always 0. FreeBSD puts the socket error there with EV_EOF, but
//   reading SO_ERROR on Linux clears it, which would hide it from the caller.
// - A local shutdown(SHUT_WR) sets EV_EOF on the write filter on BSD; Linux
//   epoll gives no such signal, so the shim reports EV_EOF on the write filter
//   only once the connection is gone in both directions.
// - Readiness itself comes from Linux's socket code, not a BSD/XNU network
//   stack: low-water marks, urgent data, buffer sizes and the exact moment a
//   reset or FIN becomes visible follow Linux.
// - If another descriptor still refers to a closed file (dup, fork), epoll
//   keeps that registration; the shim drops its events (generation and
//   identity checks) but a blocking wait may wake early and wait again.
// - The state of a queue whose fd was closed is freed only when kqueue()
//   returns that fd number again. Threads may share a queue (a mutex guards
//   its tables) but nothing here is tuned for speed.

#include <sys/event.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kReadFilter = 0;
constexpr int kWriteFilter = 1;

struct Knote {
  bool present = false;
  bool enabled = false;
  bool oneshot = false;
  void* udata = nullptr;
};

// Everything registered for one descriptor number, plus the identity of the
// file it referred to when the first knote was added.
struct Watched {
  dev_t device = 0;
  ino_t inode = 0;
  uint32_t generation = 0;  // tags this registration's epoll events
  uint32_t armed = 0;       // epoll mask currently registered (0 = none)
  Knote knotes[2];
};

struct Queue {
  std::mutex mutex;
  uint32_t next_generation = 1;
  std::unordered_map<int, Watched> watched;
};

std::mutex g_registry_mutex;
std::unordered_map<int, std::shared_ptr<Queue>>& Registry() {
  static std::unordered_map<int, std::shared_ptr<Queue>> registry;
  return registry;
}

std::shared_ptr<Queue> FindQueue(int kq) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto found = Registry().find(kq);
  return found == Registry().end() ? nullptr : found->second;
}

int FilterIndex(short filter) {
  if (filter == EVFILT_READ) return kReadFilter;
  if (filter == EVFILT_WRITE) return kWriteFilter;
  return -1;
}

// True when `fd` still refers to the file `watched` was registered for.
bool SameFile(int fd, const Watched& watched) {
  struct stat status {};
  return fstat(fd, &status) == 0 && status.st_dev == watched.device &&
         status.st_ino == watched.inode;
}

uint32_t WantedMask(const Watched& watched) {
  uint32_t mask = 0;
  const Knote& read = watched.knotes[kReadFilter];
  const Knote& write = watched.knotes[kWriteFilter];
  // EPOLLRDHUP makes a peer's shutdown visible while data is still buffered.
  if (read.present && read.enabled) mask |= EPOLLIN | EPOLLRDHUP;
  if (write.present && write.enabled) mask |= EPOLLOUT;
  return mask;
}

// Brings the epoll registration of `fd` in line with its knotes. Returns 0 or
// an errno. A descriptor with nothing enabled is removed from the epoll set:
// epoll would otherwise keep reporting EPOLLHUP/EPOLLERR for it.
int Sync(int kq, int fd, Watched* watched) {
  const uint32_t wanted = WantedMask(*watched);
  if (wanted == watched->armed) return 0;
  struct epoll_event event {};
  event.events = wanted;
  event.data.u64 = (static_cast<uint64_t>(watched->generation) << 32) | static_cast<uint32_t>(fd);
  int operation = EPOLL_CTL_MOD;
  if (watched->armed == 0) operation = EPOLL_CTL_ADD;
  if (wanted == 0) operation = EPOLL_CTL_DEL;
  int status = epoll_ctl(kq, operation, fd, &event);
  if (status != 0 && errno == EEXIST && operation == EPOLL_CTL_ADD) {
    status = epoll_ctl(kq, EPOLL_CTL_MOD, fd, &event);
  } else if (status != 0 && errno == ENOENT && operation == EPOLL_CTL_MOD) {
    status = epoll_ctl(kq, EPOLL_CTL_ADD, fd, &event);
  } else if (status != 0 && errno == ENOENT && operation == EPOLL_CTL_DEL) {
    status = 0;
  }
  if (status != 0) return errno;
  watched->armed = wanted;
  return 0;
}

// Applies one change to `queue`. Returns 0 or the errno a kernel would put in
// the EV_ERROR entry.
int ApplyChange(Queue* queue, int kq, const struct kevent& change) {
  const int index = FilterIndex(change.filter);
  if (index < 0) return EINVAL;
  if (change.flags & (EV_CLEAR | EV_DISPATCH)) return EINVAL;
  if (change.ident > static_cast<uintptr_t>(INT_MAX)) return EBADF;
  const int fd = static_cast<int>(change.ident);
  struct stat status {};
  if (fstat(fd, &status) != 0) return EBADF;

  auto found = queue->watched.find(fd);
  if (found != queue->watched.end() &&
      (found->second.device != status.st_dev || found->second.inode != status.st_ino)) {
    // The registered file was closed and the number now names another file:
    // its knotes vanished with it. Its epoll registration died with the file
    // (or lingers as a zombie whose events the generation check drops).
    queue->watched.erase(found);
    found = queue->watched.end();
  }
  const bool exists = found != queue->watched.end() && found->second.knotes[index].present;
  if (!exists && !(change.flags & EV_ADD)) return ENOENT;
  if (found == queue->watched.end()) {
    Watched fresh;
    fresh.device = status.st_dev;
    fresh.inode = status.st_ino;
    fresh.generation = queue->next_generation++;
    found = queue->watched.emplace(fd, fresh).first;
  }
  Watched* watched = &found->second;
  const Watched before = *watched;
  Knote& knote = watched->knotes[index];
  if (change.flags & EV_DELETE) {
    knote = Knote();
  } else {
    if (!knote.present) {
      knote.present = true;
      knote.enabled = true;
    }
    if (change.flags & EV_ADD) {
      knote.udata = change.udata;
      knote.oneshot = (change.flags & EV_ONESHOT) != 0;
    }
    if (change.flags & EV_DISABLE) {
      knote.enabled = false;
    } else if (change.flags & EV_ENABLE) {
      knote.enabled = true;
    }
  }
  int error = Sync(kq, fd, watched);
  if (error != 0) *watched = before;
  if (!watched->knotes[kReadFilter].present && !watched->knotes[kWriteFilter].present) {
    queue->watched.erase(found);
  }
  return error;
}

int64_t ReadableBytes(int fd) {
  int bytes = 0;
  if (ioctl(fd, FIONREAD, &bytes) == 0) return bytes;
  // A listening TCP socket: kqueue reports the accept queue length, which
  // Linux exposes as tcpi_unacked in the LISTEN state.
  struct tcp_info info {};
  socklen_t length = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0 && info.tcpi_state == TCP_LISTEN) {
    return info.tcpi_unacked;
  }
  return 0;
}

int64_t WritableSpace(int fd) {
  int buffer = 0;
  int queued = 0;
  socklen_t length = sizeof(buffer);
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0) return 0;
  if (ioctl(fd, SIOCOUTQ, &queued) != 0) queued = 0;
  return buffer > queued ? buffer - queued : 0;
}

// Turns the epoll results into kevents (read before write for one
// descriptor), dropping events of closed or re-registered files. Returns the
// number of entries written.
int Translate(Queue* queue, int kq, const struct epoll_event* ready, int count,
              struct kevent* eventlist, int nevents) {
  int written = 0;
  for (int i = 0; i < count && written < nevents; ++i) {
    const int fd = static_cast<int>(static_cast<uint32_t>(ready[i].data.u64));
    const uint32_t generation = static_cast<uint32_t>(ready[i].data.u64 >> 32);
    auto found = queue->watched.find(fd);
    if (found == queue->watched.end() || found->second.generation != generation) continue;
    Watched* watched = &found->second;
    if (!SameFile(fd, *watched)) {
      queue->watched.erase(found);
      continue;
    }
    const uint32_t mask = ready[i].events;
    bool fired_oneshot = false;
    for (int index : {kReadFilter, kWriteFilter}) {
      Knote& knote = watched->knotes[index];
      if (!knote.present || !knote.enabled || written >= nevents) continue;
      const bool reading = index == kReadFilter;
      const uint32_t ready_bits =
          reading ? (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) : (EPOLLOUT | EPOLLHUP | EPOLLERR);
      if ((mask & ready_bits) == 0) continue;
      const uint32_t eof_bits = reading ? (EPOLLRDHUP | EPOLLHUP) : EPOLLHUP;
      struct kevent& out = eventlist[written++];
      out.ident = static_cast<uintptr_t>(fd);
      out.filter = reading ? EVFILT_READ : EVFILT_WRITE;
      out.flags = static_cast<unsigned short>((knote.oneshot ? EV_ONESHOT : 0) |
                                              ((mask & eof_bits) ? EV_EOF : 0));
      out.fflags = 0;
      out.data = reading ? ReadableBytes(fd) : WritableSpace(fd);
      out.udata = knote.udata;
      if (knote.oneshot) {
        knote = Knote();
        fired_oneshot = true;
      }
    }
    if (fired_oneshot) {
      Sync(kq, fd, watched);
      if (!watched->knotes[kReadFilter].present && !watched->knotes[kWriteFilter].present) {
        queue->watched.erase(found);
      }
    }
  }
  return written;
}

int64_t NowMs() {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

extern "C" int kqueue(void) {
  const int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return -1;
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  // A previous queue with this number was necessarily closed: replace it.
  Registry()[fd] = std::make_shared<Queue>();
  return fd;
}

extern "C" int kevent(int kq, const struct kevent* changelist, int nchanges,
                      struct kevent* eventlist, int nevents, const struct timespec* timeout) {
  if (nchanges < 0 || nevents < 0 || (nchanges > 0 && changelist == nullptr) ||
      (nevents > 0 && eventlist == nullptr)) {
    errno = EINVAL;
    return -1;
  }
  std::shared_ptr<Queue> queue = FindQueue(kq);
  if (queue == nullptr) {
    errno = EBADF;
    return -1;
  }
  int timeout_ms = -1;
  if (timeout != nullptr) {
    if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L) {
      errno = EINVAL;
      return -1;
    }
    // Round up so a short timeout never turns into a busy poll.
    const int64_t ms = static_cast<int64_t>(timeout->tv_sec) * 1000 + (timeout->tv_nsec + 999999) / 1000000;
    timeout_ms = ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
  }

  int written = 0;
  {
    std::lock_guard<std::mutex> lock(queue->mutex);
    for (int i = 0; i < nchanges; ++i) {
      const struct kevent change = changelist[i];  // the lists may alias
      const int error = ApplyChange(queue.get(), kq, change);
      if (error == 0 && !(change.flags & EV_RECEIPT)) continue;
      if (written < nevents) {
        eventlist[written] = change;
        eventlist[written].flags = EV_ERROR;
        eventlist[written].data = error;
        ++written;
      } else if (error != 0) {
        errno = error;
        return -1;
      }
    }
  }
  if (written > 0 || nevents == 0) return written;

  const int64_t deadline = timeout_ms > 0 ? NowMs() + timeout_ms : 0;
  std::vector<struct epoll_event> ready(static_cast<size_t>(nevents));
  for (;;) {
    int wait_ms = timeout_ms;
    if (timeout_ms > 0) {
      const int64_t left = deadline - NowMs();
      wait_ms = left > 0 ? static_cast<int>(left) : 0;
    }
    const int count = epoll_wait(kq, ready.data(), nevents, wait_ms);
    if (count < 0) return -1;  // errno from epoll_wait (EINTR, EBADF, ...)
    if (count == 0) return 0;
    {
      std::lock_guard<std::mutex> lock(queue->mutex);
      written = Translate(queue.get(), kq, ready.data(), count, eventlist, nevents);
    }
    if (written > 0 || wait_ms == 0) return written;
  }
}
