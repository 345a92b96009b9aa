// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// How connections end. The peer in these tests is a plain blocking socket
// with a small receive buffer, so output the reactor queues for it cannot
// all fit into the kernel at once; it reads when the test says so.

#include "close_tests.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>

#include "harness.h"

namespace netpoll_test {
namespace {

constexpr size_t kChunk = 1 << 16;  // the harness's outbound slab

// A peer outside the reactor: the raw client, the reactor's server fd, and
// the listener both hang off.
struct RawPeer {
  int listener = -1;
  int client = -1;
  int server = -1;
};

int RawConnect(int port, int receive_buffer) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  CHECK(connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

RawPeer Accept(Harness* harness, int receive_buffer = 16 << 10) {
  RawPeer peer;
  peer.listener = harness->reactor.Listen({netpoll::kFamilyIPv4, "127.0.0.1", 0}, 16);
  CHECK(peer.listener >= 0);
  CHECK(harness->reactor.SetReading(peer.listener, true) == 0);
  peer.client = RawConnect(ListenPort(peer.listener), receive_buffer);
  auto records = harness->DrainUntil([](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordAccept);
  });
  for (const auto& record : records) {
    if (record.kind == L::kRecordAccept) peer.server = record.fd;
  }
  CHECK(peer.server >= 0);
  // A small send buffer too, so that queued output meets backpressure soon.
  int send_buffer = 32 << 10;
  setsockopt(peer.server, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
  return peer;
}

// Fills the outbound slab with a pattern and queues it `count` times.
void QueueChunks(Harness* harness, int fd, int count) {
  for (size_t i = 0; i < kChunk; ++i) harness->outbound[i] = static_cast<uint8_t>(i % 251);
  for (int i = 0; i < count; ++i) {
    harness->Submit(L::kSubmitWrite, harness->outbound_index, fd, 0, static_cast<int>(kChunk));
  }
  harness->reactor.ProcessSubmissions();
}

bool Backpressured(const Harness& harness, int fd) {
  return (harness.fd_state[static_cast<size_t>(fd) * L::kFdStateInts + L::kFdFlags] &
          L::kFdFlagBackpressure) != 0;
}

// What a reading peer saw: bytes (checked against the pattern), then EOF or
// an error.
struct Received {
  size_t bytes = 0;
  bool pattern_ok = true;
  bool eof = false;
  int error = 0;
  bool Done() const { return eof || error != 0; }

  // Reads until EOF or an error, for up to about 2 s.
  void ToEnd(int fd) {
    for (int i = 0; i < 200 && !Done(); ++i) {
      WaitReadable(fd, 10);
      Poll(fd);
    }
  }

  // Reads what is there without blocking.
  void Poll(int fd) {
    uint8_t buffer[8192];
    while (!Done()) {
      ssize_t count = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (count == 0) {
        eof = true;
      } else if (count < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
        return;
      } else {
        for (ssize_t i = 0; i < count; ++i) {
          if (buffer[i] != static_cast<uint8_t>((bytes + static_cast<size_t>(i)) % kChunk % 251))
            pattern_ok = false;
        }
        bytes += static_cast<size_t>(count);
      }
    }
  }
};

int UnreadOn(int fd) {
  int count = -1;
  ioctl(fd, FIONREAD, &count);
  return count;
}

// Queues 16 chunks for a peer that does not read yet and has sent bytes
// the server never reads; returns when the output is blocked.
void OweThePeer(Harness* harness, const RawPeer& peer) {
  CHECK(harness->reactor.SetReading(peer.server, false) == 0);
  CHECK(send(peer.client, "unread", 6, 0) == 6);
  QueueChunks(harness, peer.server, 16);
  CHECK(Backpressured(*harness, peer.server));
  for (int i = 0; i < 100 && UnreadOn(peer.server) < 6; ++i) WaitReadable(peer.server, 10);
  CHECK(UnreadOn(peer.server) == 6);
}

}  // namespace

namespace {

// How a peer's stream ended: ECONNRESET, or 0 after an EOF.
int EndOf(int fd) {
  Received received;
  received.ToEnd(fd);
  CHECK(received.Done());
  return received.eof ? 0 : received.error;
}

// A connection whose peer does not read, with output blocked in native.
RawPeer Owed(Harness* harness) {
  RawPeer peer = Accept(harness);
  CHECK(harness->reactor.SetReading(peer.server, false) == 0);
  QueueChunks(harness, peer.server, 16);
  CHECK(Backpressured(*harness, peer.server));
  return peer;
}

void Finish(Harness* harness, const RawPeer& peer) {
  close(peer.client);
  CHECK(harness->reactor.Close(peer.listener) == 0);
}

}  // namespace

// A close that drops output resets the peer, so it never takes an EOF for
// the end of a stream cut short: a hard close (linger < 0: a shutdown deadline
// cut a handler, a write timeout) always; a close at once (linger 0) when the
// kernel never took some output; a lingering close cut by a second close when
// output is undelivered (the call then returns 1). Otherwise the peer reads EOF.
void TestAbortiveClose() {
  Harness harness;
  RawPeer hard = Owed(&harness);
  CHECK(harness.reactor.Close(hard.server, -1) == 0);
  CHECK(harness.reactor.lingering_count() == 0);
  CHECK(EndOf(hard.client) == ECONNRESET);
  Finish(&harness, hard);

  RawPeer hard_idle = Accept(&harness);
  CHECK(harness.reactor.Close(hard_idle.server, -1) == 0);
  CHECK(EndOf(hard_idle.client) == ECONNRESET);
  Finish(&harness, hard_idle);

  RawPeer now = Owed(&harness);
  CHECK(harness.reactor.Close(now.server, 0) == 0);
  CHECK(EndOf(now.client) == ECONNRESET);
  Finish(&harness, now);

  RawPeer now_idle = Accept(&harness);
  CHECK(harness.reactor.Close(now_idle.server, 0) == 0);
  CHECK(EndOf(now_idle.client) == 0);
  Finish(&harness, now_idle);

  RawPeer lingering = Owed(&harness);
  CHECK(harness.reactor.Close(lingering.server, 5000) == 0);
  CHECK(harness.reactor.lingering_count() == 1);
  CHECK(harness.reactor.Close(lingering.server, 0) == 1);
  CHECK(harness.reactor.lingering_count() == 0);
  CHECK(EndOf(lingering.client) == ECONNRESET);
  Finish(&harness, lingering);

  // Blocked, then the peer read everything the kernel held before the writable event was seen:
  // a close at once writes the rest (it tries even while blocked), and the peer reads EOF.
  RawPeer caught_up = Accept(&harness);
  CHECK(harness.reactor.SetReading(caught_up.server, false) == 0);
  QueueChunks(&harness, caught_up.server, 2);
  CHECK(Backpressured(harness, caught_up.server));
  Received early;
  for (int i = 0; i < 100; ++i) {
    early.Poll(caught_up.client);
    if (netpoll::UnacknowledgedBytes(caught_up.server) == 0) break;
    usleep(1000);
  }
  CHECK(early.bytes > 0 && early.bytes < 2 * kChunk);
  CHECK(harness.reactor.Close(caught_up.server, 0) == 0);
  Received rest = early;
  rest.ToEnd(caught_up.client);
  CHECK(rest.eof);
  CHECK(rest.bytes == 2 * kChunk);
  CHECK(rest.pattern_ok);
  Finish(&harness, caught_up);

  // Lingering only for the peer's EOF (it has every byte and the FIN): cutting it drops nothing.
  RawPeer done = Accept(&harness);
  CHECK(harness.reactor.SetReading(done.server, false) == 0);
  CHECK(send(done.client, "unread", 6, 0) == 6);
  for (int i = 0; i < 100 && UnreadOn(done.server) < 6; ++i) WaitReadable(done.server, 10);
  harness.Write(done.server, "reply");
  harness.reactor.ProcessSubmissions();
  CHECK(harness.reactor.Close(done.server, 5000) == 0);
  CHECK(harness.reactor.lingering_count() == 1);
  CHECK(EndOf(done.client) == 0);  // "reply", then the FIN
  for (int i = 0; i < 100 && netpoll::UnacknowledgedBytes(done.server) > 0; ++i) usleep(1000);
  CHECK(harness.reactor.Close(done.server, 0) == 0);
  CHECK(harness.reactor.lingering_count() == 0);
  Finish(&harness, done);
}

// The failure the lingering close exists for: closing at once with unread
// input resets the connection, and the peer loses what was still queued.
void TestCloseWithUnreadInputResets() {
  Harness harness;
  RawPeer peer = Accept(&harness);
  OweThePeer(&harness, peer);
  CHECK(harness.reactor.Close(peer.server, 0) == 0);
  Received received;
  received.ToEnd(peer.client);
  CHECK(received.error == ECONNRESET);
  CHECK(received.bytes < 16 * kChunk);
  close(peer.client);
  CHECK(harness.reactor.Close(peer.listener) == 0);
}

// A lingering close finishes the output, then the peer reads EOF after the
// last byte; the fd closes when the peer closes, with a linger-done record.
void TestLingerDeliversEverything() {
  Harness harness;
  RawPeer peer = Accept(&harness);
  OweThePeer(&harness, peer);
  const int baseline = CountOpenFds();
  CHECK(harness.reactor.Close(peer.server, 10000) == 0);
  // JS frees and reuses the output memory once the close is processed: the lingering close
  // sends from its own copy.
  std::fill(harness.outbound.begin(), harness.outbound.end(), 0);
  CHECK(harness.reactor.lingering_count() == 1);
  CHECK(harness.stats[L::kStatLingering] == 1);
  CHECK(harness.fd_state[static_cast<size_t>(peer.server) * L::kFdStateInts + L::kFdFlags] &
        L::kFdFlagLingering);
  CHECK(CountOpenFds() == baseline);  // still open while lingering
  Received received;
  bool closed_peer = false;
  auto records = harness.TickUntil([&](const std::vector<Harness::Record>& seen) {
    received.Poll(peer.client);
    // The peer keeps sending after the close: still no reset.
    if (!received.Done()) send(peer.client, "more", 4, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (received.eof && !closed_peer) {
      close(peer.client);
      closed_peer = true;
    }
    return Harness::Has(seen, L::kRecordLingerDone, peer.server);
  });
  CHECK(received.eof);
  CHECK(received.error == 0);
  CHECK(received.bytes == 16 * kChunk);
  CHECK(received.pattern_ok);
  CHECK(Harness::Has(records, L::kRecordLingerDone, peer.server));
  CHECK(!Harness::Has(records, L::kRecordData, peer.server));  // discarded, never reported
  CHECK(harness.reactor.lingering_count() == 0);
  CHECK(harness.stats[L::kStatLingering] == 0);
  CHECK(harness.stats[L::kStatLingerCloses] == 1);
  CHECK(harness.stats[L::kStatLingerExpired] == 0);
  CHECK((harness.fd_state[static_cast<size_t>(peer.server) * L::kFdStateInts + L::kFdFlags] &
         L::kFdFlagLingering) == 0);
  CHECK(CountOpenFds() == baseline - 2);  // server fd and client fd
  if (!closed_peer) close(peer.client);
  CHECK(harness.reactor.Close(peer.listener) == 0);
}

// A peer that reads everything but never closes, and keeps sending: it
// reads every byte and EOF, and gets no reset while the close lingers; the
// close ends at its deadline.
void TestLingerKeepsASendingPeerWhole() {
  Harness harness;
  RawPeer peer = Accept(&harness);
  OweThePeer(&harness, peer);
  CHECK(harness.reactor.Close(peer.server, 300) == 0);
  Received received;
  int sent_after_eof = 0;
  auto records = harness.TickUntil([&](const std::vector<Harness::Record>& seen) {
    received.Poll(peer.client);
    if (received.eof && send(peer.client, "more", 4, MSG_DONTWAIT | MSG_NOSIGNAL) == 4) {
      ++sent_after_eof;
    }
    return Harness::Has(seen, L::kRecordLingerDone, peer.server);
  });
  CHECK(Harness::Has(records, L::kRecordLingerDone, peer.server));
  CHECK(received.eof);
  CHECK(received.error == 0);
  CHECK(received.bytes == 16 * kChunk);
  CHECK(sent_after_eof > 0);  // every write after EOF succeeded until the deadline
  CHECK(harness.stats[L::kStatLingerExpired] == 1);
  close(peer.client);
  CHECK(harness.reactor.Close(peer.listener) == 0);
}

// A peer that neither reads nor closes: the close is cut off at its deadline.
void TestLingerDeadline() {
  Harness harness;
  RawPeer peer = Accept(&harness);
  OweThePeer(&harness, peer);
  CHECK(harness.reactor.Close(peer.server, 50) == 0);
  auto records = harness.TickUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordLingerDone, peer.server);
  });
  CHECK(Harness::Has(records, L::kRecordLingerDone, peer.server));
  // The deadline cut output the peer never got: the record says so, and the peer is reset
  // rather than shown an EOF after a stream cut short.
  for (const auto& record : records) {
    if (record.kind == L::kRecordLingerDone) CHECK(record.a == 1);
  }
  CHECK(harness.stats[L::kStatLingerExpired] == 1);
  CHECK(harness.reactor.lingering_count() == 0);
  Received received;
  received.ToEnd(peer.client);
  CHECK(received.error == ECONNRESET);
  CHECK(received.bytes < 16 * kChunk);
  // A second close of the same (now closed) fd is refused, not a crash.
  CHECK(harness.reactor.Close(peer.server, 0) == -EBADF);
  close(peer.client);
  CHECK(harness.reactor.Close(peer.listener) == 0);
}

// Graceful shutdown of input: JS gets exactly the bytes that had arrived when
// EndInput ran, then an input-end record; later bytes stay unread.
void TestEndInputBudget() {
  Harness harness;
  RawPeer peer = Accept(&harness);
  CHECK(harness.reactor.SetReading(peer.server, false) == 0);
  std::string early(300, 'a');
  CHECK(send(peer.client, early.data(), early.size(), 0) == 300);
  for (int i = 0; i < 100 && UnreadOn(peer.server) < 300; ++i) WaitReadable(peer.server, 10);
  CHECK(harness.reactor.EndInput(peer.server) == 300);
  CHECK(harness.reactor.EndInput(peer.server) == 300);  // asking again changes nothing
  std::string late(200, 'b');
  CHECK(send(peer.client, late.data(), late.size(), 0) == 200);
  for (int i = 0; i < 100 && UnreadOn(peer.server) < 500; ++i) WaitReadable(peer.server, 10);
  CHECK(harness.reactor.SetReading(peer.server, true) == 0);
  size_t data = 0;
  auto records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordInputEnd, peer.server);
  });
  for (const auto& record : records) {
    if (record.kind == L::kRecordData && record.fd == peer.server) data += record.b;
  }
  CHECK(data == 300);
  CHECK(Harness::Has(records, L::kRecordInputEnd, peer.server));
  CHECK(UnreadOn(peer.server) == 200);
  // No input-end record for a connection with nothing pending: the budget is 0.
  RawPeer quiet = Accept(&harness);
  CHECK(harness.reactor.EndInput(quiet.server) == 0);
  // Closing with unread input lingers, so the peer reads EOF, not a reset.
  CHECK(harness.reactor.Close(peer.server, 5000) == 0);
  Received received;
  harness.TickUntil([&](const std::vector<Harness::Record>&) {
    received.Poll(peer.client);
    return received.Done();
  });
  CHECK(received.eof);
  CHECK(received.error == 0);
  close(peer.client);
  close(quiet.client);
  CHECK(harness.reactor.Close(quiet.server) == 0);
  harness.TickUntil([&](const std::vector<Harness::Record>&) {
    return harness.reactor.lingering_count() == 0;
  });
  CHECK(harness.reactor.lingering_count() == 0);
  CHECK(harness.reactor.Close(peer.listener) == 0);
  CHECK(harness.reactor.Close(quiet.listener) == 0);
}

// close() of a listener resets the connections waiting in its backlog; a
// graceful close accepts them and closes them lingering (their peers read
// EOF after having sent a request nobody read).
void TestListenerCloseSweepsBacklog() {
  for (int linger : {0, 1000}) {
    Harness harness;
    int listener = harness.reactor.Listen({netpoll::kFamilyIPv4, "127.0.0.1", 0}, 16);
    CHECK(listener >= 0);
    std::vector<int> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(RawConnect(ListenPort(listener), 0));
      CHECK(send(clients.back(), "request", 7, 0) == 7);
    }
    CHECK(harness.reactor.Close(listener, linger) == 0);
    CHECK(harness.reactor.lingering_count() == (linger > 0 ? 3 : 0));
    for (int client : clients) {
      Received received;
      harness.TickUntil([&](const std::vector<Harness::Record>&) {
        received.Poll(client);
        return received.Done();
      });
      if (linger > 0) {
        CHECK(received.eof);
        CHECK(received.error == 0);
      } else {
        CHECK(received.error == ECONNRESET);
      }
      close(client);
    }
    harness.TickUntil([&](const std::vector<Harness::Record>&) {
      return harness.reactor.lingering_count() == 0;
    });
    CHECK(harness.reactor.lingering_count() == 0);
  }
}

// A peer that closes its write side still gets all output queued for it:
// the hang-up keeps watching writability while output is blocked.
void TestOutputDrainsAfterPeerEof() {
  Harness harness;
  RawPeer peer = Accept(&harness);
  QueueChunks(&harness, peer.server, 16);
  CHECK(Backpressured(harness, peer.server));
  CHECK(shutdown(peer.client, SHUT_WR) == 0);
  auto records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordHangup, peer.server);
  });
  CHECK(Harness::Has(records, L::kRecordHangup, peer.server));
  Received received;
  records = harness.TickUntil([&](const std::vector<Harness::Record>& seen) {
    received.Poll(peer.client);
    return received.bytes == 16 * kChunk && Harness::Has(seen, L::kRecordDrain, peer.server);
  });
  CHECK(received.bytes == 16 * kChunk);
  CHECK(received.pattern_ok);
  CHECK(Harness::Has(records, L::kRecordDrain, peer.server));
  // Nothing is owed any more: the close is immediate.
  CHECK(harness.reactor.Close(peer.server, 5000) == 0);
  CHECK(harness.reactor.lingering_count() == 0);
  harness.TickUntil([&](const std::vector<Harness::Record>&) {
    received.Poll(peer.client);
    return received.Done();
  });
  CHECK(received.eof);
  close(peer.client);
  CHECK(harness.reactor.Close(peer.listener) == 0);
}

}  // namespace netpoll_test
