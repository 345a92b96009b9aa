// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Checks of the kqueue(2) semantics poller_kqueue.cc depends on, written
// against the BSD interface only. On Linux CI they run against the test-only
// emulation in kqueue_shim/ (or libkqueue), and show that it behaves like the
// FreeBSD manual page says a kqueue does; built on macOS/FreeBSD, the same
// checks run against the kernel. Only the last check of
// TestKqueueEnableOneshot is shim-specific (the shim refuses EV_CLEAR).

#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "check.h"
#include "kqueue_tests.h"

namespace netpoll_test {
namespace {

int Poll(int kq, struct kevent* events, int capacity, int timeout_ms) {
  struct timespec timeout {};
  timeout.tv_sec = timeout_ms / 1000;
  timeout.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;  // NOLINT
  return kevent(kq, nullptr, 0, events, capacity, &timeout);
}

const struct kevent* Find(const struct kevent* events, int count, int fd, short filter) {
  for (int i = 0; i < count; ++i) {
    if (events[i].ident == static_cast<uintptr_t>(fd) && events[i].filter == filter) {
      return &events[i];
    }
  }
  return nullptr;
}

// Applies one change with EV_RECEIPT (so no pending event is consumed).
// Returns the receipt's data (0 = applied, else the errno), or -1 when no
// receipt came back.
long Change(int kq, int fd, short filter, unsigned short flags, void* udata = nullptr) {
  struct kevent change;
  EV_SET(&change, fd, filter, flags | EV_RECEIPT, 0, 0, udata);
  struct kevent answer {};
  struct timespec zero {};
  int count = kevent(kq, &change, 1, &answer, 1, &zero);
  if (count == 1 && (answer.flags & EV_ERROR)) return static_cast<long>(answer.data);
  return -1;
}

// A kqueue and a connected Unix socketpair; whatever is still open (>= 0)
// is closed when the test ends.
struct Fixture {
  int kq = kqueue();
  int pair[2] = {-1, -1};

  Fixture() {
    CHECK(kq >= 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  }
  ~Fixture() {
    for (int fd : {pair[0], pair[1], kq}) {
      if (fd >= 0) close(fd);
    }
  }
  void CloseEnd(int end) {
    close(pair[end]);
    pair[end] = -1;
  }
};

}  // namespace

void TestKqueueFilters() {
  Fixture fixture;
  const int kq = fixture.kq;
  const int* pair = fixture.pair;
  int read_tag = 0;
  int write_tag = 0;
  struct kevent changes[2];
  EV_SET(&changes[0], pair[0], EVFILT_READ, EV_ADD, 0, 0, &read_tag);
  EV_SET(&changes[1], pair[0], EVFILT_WRITE, EV_ADD, 0, 0, &write_tag);
  CHECK(kevent(kq, changes, 2, nullptr, 0, nullptr) == 0);

  // Two knotes on one descriptor, reported separately with their own udata.
  struct kevent events[8];
  int count = Poll(kq, events, 8, 0);
  CHECK(count == 1);
  const struct kevent* write_event = Find(events, count, pair[0], EVFILT_WRITE);
  CHECK(write_event != nullptr && write_event->udata == &write_tag && write_event->data > 0 &&
        !(write_event->flags & EV_EOF));
  CHECK(write(pair[1], "xyz", 3) == 3);
  count = Poll(kq, events, 8, 1000);
  CHECK(count == 2);
  const struct kevent* read_event = Find(events, count, pair[0], EVFILT_READ);
  CHECK(read_event != nullptr && read_event->udata == &read_tag && read_event->data == 3 &&
        !(read_event->flags & EV_EOF));
  CHECK(Find(events, count, pair[0], EVFILT_WRITE) != nullptr);

  // Deleting the write filter leaves the read filter alone.
  CHECK(Change(kq, pair[0], EVFILT_WRITE, EV_DELETE) == 0);
  count = Poll(kq, events, 8, 0);
  CHECK(count == 1 && events[0].filter == EVFILT_READ);

  // EV_EOF on the read filter as soon as the peer shuts down its write side,
  // with the data still buffered; then at EOF with nothing left.
  CHECK(shutdown(pair[1], SHUT_WR) == 0);
  count = Poll(kq, events, 8, 1000);
  read_event = Find(events, count, pair[0], EVFILT_READ);
  CHECK(read_event != nullptr && (read_event->flags & EV_EOF) && read_event->data == 3);
  char bytes[8];
  CHECK(read(pair[0], bytes, sizeof(bytes)) == 3 && memcmp(bytes, "xyz", 3) == 0);
  count = Poll(kq, events, 8, 0);
  read_event = Find(events, count, pair[0], EVFILT_READ);
  CHECK(read_event != nullptr && (read_event->flags & EV_EOF) && read_event->data == 0);

  // The write filter is unaffected by the peer's half-close, and gets EV_EOF
  // once the connection is gone.
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_DELETE) == 0);
  CHECK(Change(kq, pair[0], EVFILT_WRITE, EV_ADD, &write_tag) == 0);
  count = Poll(kq, events, 8, 0);
  CHECK(count == 1 && events[0].filter == EVFILT_WRITE && !(events[0].flags & EV_EOF));
  fixture.CloseEnd(1);
  count = Poll(kq, events, 8, 1000);
  write_event = Find(events, count, pair[0], EVFILT_WRITE);
  CHECK(write_event != nullptr && (write_event->flags & EV_EOF) && write_event->udata == &write_tag);
}

void TestKqueueChangeErrors() {
  Fixture fixture;
  const int kq = fixture.kq;
  const int* pair = fixture.pair;
  int tag = 0;
  struct timespec zero {};

  // Deleting a knote that was never added: an EV_ERROR entry with ENOENT that
  // echoes the change, when the eventlist has room...
  struct kevent change;
  EV_SET(&change, pair[0], EVFILT_WRITE, EV_DELETE, 0, 0, &tag);
  struct kevent events[4];
  int count = kevent(kq, &change, 1, events, 4, &zero);
  CHECK(count == 1);
  CHECK((events[0].flags & EV_ERROR) && events[0].data == ENOENT);
  CHECK(events[0].ident == static_cast<uintptr_t>(pair[0]) && events[0].filter == EVFILT_WRITE &&
        events[0].udata == &tag);
  // ...and -1 with errno when it has none.
  errno = 0;
  CHECK(kevent(kq, &change, 1, nullptr, 0, &zero) == -1 && errno == ENOENT);
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_ENABLE) == ENOENT);

  // A descriptor that is not open: EBADF.
  int closed = dup(pair[0]);
  CHECK(closed >= 0);
  close(closed);
  CHECK(Change(kq, closed, EVFILT_READ, EV_ADD) == EBADF);

  // EV_RECEIPT answers every change (data 0 = applied) and leaves pending
  // events for the next call.
  CHECK(write(pair[1], "x", 1) == 1);
  struct kevent changes[2];
  EV_SET(&changes[0], pair[0], EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0, &tag);
  EV_SET(&changes[1], pair[0], EVFILT_WRITE, EV_DELETE | EV_RECEIPT, 0, 0, nullptr);
  count = kevent(kq, changes, 2, events, 4, &zero);
  CHECK(count == 2);
  const struct kevent* added = Find(events, count, pair[0], EVFILT_READ);
  const struct kevent* missing = Find(events, count, pair[0], EVFILT_WRITE);
  CHECK(added != nullptr && (added->flags & EV_ERROR) && added->data == 0);
  CHECK(missing != nullptr && (missing->flags & EV_ERROR) && missing->data == ENOENT);
  count = Poll(kq, events, 4, 0);
  CHECK(count == 1 && events[0].filter == EVFILT_READ && events[0].data == 1 &&
        events[0].udata == &tag && !(events[0].flags & EV_ERROR));
}

void TestKqueueCloseForgets() {
  Fixture first;
  Fixture second;
  const int kq = first.kq;
  const int number = first.pair[0];
  CHECK(Change(kq, number, EVFILT_READ, EV_ADD) == 0);
  // dup2 closes the registered file and puts another one at its number.
  CHECK(dup2(second.pair[0], number) == number);
  CHECK(write(first.pair[1], "a", 1) == -1 && errno == EPIPE);  // its peer sees it closed
  CHECK(write(second.pair[1], "b", 1) == 1);                     // the new file at `number`
  struct kevent events[4];
  CHECK(Poll(kq, events, 4, 0) == 0);
  // The knote vanished with the file: deleting it fails, adding starts anew.
  CHECK(Change(kq, number, EVFILT_READ, EV_DELETE) == ENOENT);
  CHECK(Change(kq, number, EVFILT_READ, EV_ADD) == 0);
  int count = Poll(kq, events, 4, 1000);
  CHECK(count == 1 && events[0].ident == static_cast<uintptr_t>(number) && events[0].data == 1);
  // Closing the descriptor removes it too.
  first.CloseEnd(0);
  CHECK(write(second.pair[1], "c", 1) == 1);
  CHECK(Poll(kq, events, 4, 0) == 0);
}

void TestKqueueEnableOneshot() {
  Fixture fixture;
  const int kq = fixture.kq;
  const int* pair = fixture.pair;
  CHECK(write(pair[1], "x", 1) == 1);
  struct kevent events[4];

  // A disabled knote stays registered but is not reported.
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_ADD | EV_DISABLE) == 0);
  CHECK(Poll(kq, events, 4, 0) == 0);
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_ENABLE) == 0);
  CHECK(Poll(kq, events, 4, 0) == 1);
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_DISABLE) == 0);
  CHECK(Poll(kq, events, 4, 0) == 0);
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_DELETE) == 0);

  // EV_ONESHOT: reported once, then deleted although still readable.
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_ADD | EV_ONESHOT) == 0);
  CHECK(Poll(kq, events, 4, 0) == 1 && events[0].filter == EVFILT_READ);
  CHECK(Poll(kq, events, 4, 0) == 0);
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_DELETE) == ENOENT);

  // Nothing registered: a timed wait returns 0.
  CHECK(Poll(kq, events, 4, 20) == 0);
#if NETPOLL_KQUEUE_SHIM
  // The shim does not emulate edge-triggered knotes and says so.
  CHECK(Change(kq, pair[0], EVFILT_READ, EV_ADD | EV_CLEAR) == EINVAL);
#endif
}

}  // namespace netpoll_test
