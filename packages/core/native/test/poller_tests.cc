// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The poller contract, for either backend: readiness, hang-up
// with data still pending, independent read and write interest, a refused
// connect.

#include "poller_tests.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "check.h"
#include "harness.h"
#include "layout.h"
#include "poller.h"
#include "reactor.h"
#include "socket.h"

namespace netpoll_test {

using netpoll::Poller;
using netpoll::PollResult;
using netpoll::Reactor;
namespace L = netpoll::layout;

namespace {

uint32_t EventsFor(Poller* poller, int fd) {
  PollResult results[16];
  uint32_t events = 0;
  int count = poller->Wait(results, 16, 100);
  for (int i = 0; i < count; ++i) {
    if (results[i].fd == fd) events |= results[i].events;
  }
  return events;
}

}  // namespace

void TestPollerContract() {
  Poller poller;
  CHECK(poller.Open() == 0);
  CHECK(poller.fd() >= 0);
  int pair[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);

  CHECK(poller.Add(pair[0], netpoll::kPollReadable) == 0);
  CHECK(EventsFor(&poller, pair[0]) == 0);
  CHECK(write(pair[1], "x", 1) == 1);
  CHECK(WaitReadable(poller.fd()));
  CHECK(EventsFor(&poller, pair[0]) & netpoll::kPollReadable);
  // Level-triggered: still readable until drained.
  CHECK(EventsFor(&poller, pair[0]) & netpoll::kPollReadable);
  char byte;
  CHECK(read(pair[0], &byte, 1) == 1);
  CHECK((EventsFor(&poller, pair[0]) & netpoll::kPollReadable) == 0);

  CHECK(poller.Modify(pair[0], netpoll::kPollReadable,
                      netpoll::kPollReadable | netpoll::kPollWritable) == 0);
  CHECK(EventsFor(&poller, pair[0]) & netpoll::kPollWritable);
  CHECK(poller.Modify(pair[0], netpoll::kPollReadable | netpoll::kPollWritable,
                      netpoll::kPollReadable) == 0);
  CHECK((EventsFor(&poller, pair[0]) & netpoll::kPollWritable) == 0);

  // Hang-up: the peer closes; the fd reports readable (EOF) with a hang-up.
  close(pair[1]);
  uint32_t events = EventsFor(&poller, pair[0]);
  CHECK(events & netpoll::kPollReadable);
  CHECK(events & netpoll::kPollHangup);

  CHECK(poller.Remove(pair[0], netpoll::kPollReadable) == 0);
  CHECK(EventsFor(&poller, pair[0]) == 0);
  CHECK(poller.Add(pair[0], netpoll::kPollReadable) == 0);
#if NETPOLL_POLLER_KQUEUE
  // kqueue: EV_ADD of an existing (fd, filter) updates it.
  CHECK(poller.Add(pair[0], netpoll::kPollReadable) == 0);
#else
  // epoll: adding a watched fd again fails.
  CHECK(poller.Add(pair[0], netpoll::kPollReadable) == -EEXIST);
#endif
  close(pair[0]);
  poller.Close();
  poller.Close();  // idempotent
}

// The peer shut down its write side with data still buffered: the poller
// reports readable and hang-up together before the data is read (epoll's
// EPOLLRDHUP, kqueue's EV_EOF on EVFILT_READ), and keeps reporting both at
// EOF (level-triggered) until the fd is removed.
void TestPollerHangupWithData() {
  for (bool tcp : {false, true}) {
    Poller poller;
    CHECK(poller.Open() == 0);
    int pair[2] = {-1, -1};
    if (tcp) {
      CHECK(TcpPair(&pair[0], &pair[1]));
    } else {
      CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    }
    CHECK(poller.Add(pair[0], netpoll::kPollReadable) == 0);
    CHECK(write(pair[1], "ab", 2) == 2);
    CHECK(shutdown(pair[1], SHUT_WR) == 0);
    CHECK(WaitReadable(poller.fd()));
    const uint32_t both = netpoll::kPollReadable | netpoll::kPollHangup;
    CHECK((EventsFor(&poller, pair[0]) & both) == both);
    char bytes[4] = {};
    CHECK(read(pair[0], bytes, sizeof(bytes)) == 2 && memcmp(bytes, "ab", 2) == 0);
    CHECK((EventsFor(&poller, pair[0]) & both) == both);
    CHECK(read(pair[0], bytes, sizeof(bytes)) == 0);
    CHECK(poller.Remove(pair[0], netpoll::kPollReadable) == 0);
    CHECK(EventsFor(&poller, pair[0]) == 0);
    close(pair[0]);
    close(pair[1]);
  }
}

// Readable and writable interest are independent: pending input is not
// reported to a writable-only registration, and the reverse.
void TestPollerIndependentInterest() {
  Poller poller;
  CHECK(poller.Open() == 0);
  int pair[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  CHECK(write(pair[1], "x", 1) == 1);
  CHECK(poller.Add(pair[0], netpoll::kPollWritable) == 0);
  CHECK(EventsFor(&poller, pair[0]) == netpoll::kPollWritable);
  CHECK(poller.Modify(pair[0], netpoll::kPollWritable, netpoll::kPollReadable) == 0);
  CHECK(EventsFor(&poller, pair[0]) == netpoll::kPollReadable);
  // Interest 0 is allowed; nothing is pending for this open, healthy fd.
  CHECK(poller.Modify(pair[0], netpoll::kPollReadable, 0) == 0);
  CHECK(EventsFor(&poller, pair[0]) == 0);
  CHECK(poller.Remove(pair[0], 0) == 0);
  // The peer goes away: a writable-only registration sees the hang-up.
  CHECK(poller.Add(pair[0], netpoll::kPollWritable) == 0);
  close(pair[1]);
  CHECK(EventsFor(&poller, pair[0]) & netpoll::kPollHangup);
  CHECK(poller.Remove(pair[0], netpoll::kPollWritable) == 0);
  close(pair[0]);
}

// A refused non-blocking connect is reported to writable interest as a
// hang-up, and the socket error is still there for the caller to read.
void TestPollerRefusedConnect() {
  Poller poller;
  CHECK(poller.Open() == 0);
  // A bound, non-listening socket reserves a port nobody accepts on.
  int reserved = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  CHECK(bind(reserved, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) == 0);
  CHECK(getsockname(reserved, reinterpret_cast<struct sockaddr*>(&address), &length) == 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
  int status = connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address));
  CHECK(status == -1 && (errno == EINPROGRESS || errno == ECONNREFUSED));
  CHECK(poller.Add(fd, netpoll::kPollWritable) == 0);
  CHECK(WaitReadable(poller.fd()));
  CHECK(EventsFor(&poller, fd) & netpoll::kPollHangup);
  int error = 0;
  socklen_t error_length = sizeof(error);
  CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) == 0);
  CHECK(error == ECONNREFUSED || (status == -1 && errno == ECONNREFUSED));
  CHECK(poller.Remove(fd, netpoll::kPollWritable) == 0);
  close(fd);
  close(reserved);
}


}  // namespace netpoll_test
