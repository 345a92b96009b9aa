// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// TEST-ONLY kqueue emulation for Linux: the <sys/event.h> that
// native/poller_kqueue.cc sees when it is built on Linux without libkqueue
// (CMakeLists.txt picks real libkqueue through pkg-config when it exists and
// this shim otherwise). It exists because the kqueue backend must run in CI
// on the project's Debian 12 machines, which ship no libkqueue-dev; without
// it poller_kqueue.cc was only ever type-checked. It is never part of a
// release build on macOS/BSD, where the kernel's kqueue is used.
//
// The declarations follow the BSD interface (FreeBSD kqueue(2) values), so
// poller_kqueue.cc compiles unchanged. kqueue_shim.cc implements the subset
// the poller uses on top of a level-triggered epoll fd; its header comment
// lists the semantics it mirrors and the known differences.

#ifndef NETPOLL_TEST_KQUEUE_SHIM_SYS_EVENT_H_
#define NETPOLL_TEST_KQUEUE_SHIM_SYS_EVENT_H_

#include <stdint.h>
#include <time.h>

// Filters. Only the descriptor filters exist in the shim; any other filter
// is refused per change with EV_ERROR / EINVAL, as the kernel refuses an
// unknown one.
#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)

// Actions and flags accepted in a changelist.
#define EV_ADD 0x0001      // add the (ident, filter) knote, or update it
#define EV_DELETE 0x0002   // remove it (ENOENT when absent)
#define EV_ENABLE 0x0004   // report it again
#define EV_DISABLE 0x0008  // keep it registered but do not report it
#define EV_ONESHOT 0x0010  // delete it after its first report
#define EV_CLEAR 0x0020    // refused by the shim (EINVAL): edge semantics not emulated
#define EV_RECEIPT 0x0040  // always answer the change with an EV_ERROR entry (data 0 = ok)
#define EV_DISPATCH 0x0080 // refused by the shim (EINVAL)

// Flags returned in an eventlist.
#define EV_ERROR 0x4000  // a change failed (or a receipt); data holds the errno
#define EV_EOF 0x8000    // read side shut by the peer / connection gone

struct kevent {
  uintptr_t ident;     // the file descriptor
  short filter;        // EVFILT_READ or EVFILT_WRITE
  unsigned short flags;
  unsigned int fflags; // always 0 from the shim (see kqueue_shim.cc)
  int64_t data;        // bytes readable / space writable / errno for EV_ERROR
  void* udata;         // returned unchanged
};

#define EV_SET(kevp, a, b, c, d, e, f)     \
  do {                                     \
    struct kevent* ev_set_p_ = (kevp);     \
    ev_set_p_->ident = (a);                \
    ev_set_p_->filter = (b);               \
    ev_set_p_->flags = (c);                \
    ev_set_p_->fflags = (d);               \
    ev_set_p_->data = (e);                 \
    ev_set_p_->udata = (f);                \
  } while (0)

#ifdef __cplusplus
extern "C" {
#endif

// Returns a new queue descriptor (an epoll fd; it is readable while events
// are pending, so it can be nested in poll/epoll/uv_poll), or -1 with errno.
int kqueue(void);

// Applies `changelist`, then collects up to `nevents` events, waiting at most
// `timeout` (NULL = forever). Returns the number of entries written or -1
// with errno (EINTR when a signal interrupts the wait).
int kevent(int kq, const struct kevent* changelist, int nchanges,
           struct kevent* eventlist, int nevents, const struct timespec* timeout);

#ifdef __cplusplus
}
#endif

#endif  // NETPOLL_TEST_KQUEUE_SHIM_SYS_EVENT_H_
