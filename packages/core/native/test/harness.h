// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// What the native suite's test files share: waiting on fds, counting open
// fds, loopback pairs, and a reactor with its shared memory laid out as the
// JS side lays it out (Harness), plus a connected client/server pair on it.

#ifndef NETPOLL_NATIVE_TEST_HARNESS_H_
#define NETPOLL_NATIVE_TEST_HARNESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "check.h"
#include "layout.h"
#include "reactor.h"
#include "socket.h"

namespace netpoll_test {

namespace L = netpoll::layout;
using netpoll::Reactor;

// Waits until `fd` is readable (the nested-poller fd signals pending events).
inline bool WaitReadable(int fd, int timeout_ms = 2000) {
  struct pollfd entry {};
  entry.fd = fd;
  entry.events = POLLIN;
  return poll(&entry, 1, timeout_ms) == 1;
}

inline int CountOpenFds() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) ++count;
  }
  return count;
}

// A connected loopback TCP pair (blocking sockets), or false.
inline bool TcpPair(int* first, int* second) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bool ok = listener >= 0 &&
            bind(listener, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) == 0 &&
            listen(listener, 1) == 0 &&
            getsockname(listener, reinterpret_cast<struct sockaddr*>(&address), &length) == 0;
  *first = ok ? socket(AF_INET, SOCK_STREAM, 0) : -1;
  ok = ok && *first >= 0 &&
       connect(*first, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) == 0;
  *second = ok ? accept(listener, nullptr, nullptr) : -1;
  if (listener >= 0) close(listener);
  return ok && *second >= 0;
}
// A reactor plus its shared memory, as the JS side would allocate it.
struct Harness {
  std::vector<int32_t> control = std::vector<int32_t>(L::kControlInts, 0);
  std::vector<int32_t> fd_state;
  std::vector<double> stats = std::vector<double>(L::kStatCount, 0);
  std::vector<std::vector<uint8_t>> slabs;
  std::vector<uint8_t> outbound = std::vector<uint8_t>(1 << 16);
  int outbound_index = -1;
  Reactor reactor;

  explicit Harness(size_t slab_size = 1 << 16, int slab_count = 2) {
    fd_state.assign(8192 * L::kFdStateInts, 0);
    netpoll::ReactorLimits limits;
    CHECK(reactor.Open(control.data(), fd_state.data(), 8192, stats.data(), limits) == 0);
    slabs.resize(static_cast<size_t>(slab_count));
    for (auto& slab : slabs) {
      slab.resize(slab_size);
      CHECK(reactor.AddSlab(slab.data(), slab.size(), true) >= 0);
    }
    outbound_index = reactor.AddSlab(outbound.data(), outbound.size(), false);
    CHECK(outbound_index >= 0);
  }

  struct Record {
    int kind, slab, fd, a, b;
  };

  // Drains until `done(records)` or 200 polls; returns every record seen.
  std::vector<Record> DrainUntil(const std::function<bool(const std::vector<Record>&)>& done) {
    std::vector<Record> records;
    for (int round = 0; round < 200 && !done(records); ++round) {
      reactor.ProcessSubmissions();
      if (!WaitReadable(reactor.poll_fd(), 50)) continue;
      int count = reactor.Drain();
      for (int i = 0; i < count; ++i) {
        const int32_t* record = control.data() + L::kRecordBase + i * L::kRecordInts;
        Record entry{record[0] & 0xff, static_cast<int>(static_cast<uint32_t>(record[0]) >> 8),
                     record[1], record[2], record[3]};
        records.push_back(entry);
      }
    }
    return records;
  }

  // Like DrainUntil, but drains at least every `tick_ms` whether or not the
  // poll fd is readable (lingering closes end on deadlines, which raise no
  // event), for up to `limit_ms` of wall-clock time.
  std::vector<Record> TickUntil(const std::function<bool(const std::vector<Record>&)>& done,
                                int limit_ms = 3000, int tick_ms = 10) {
    std::vector<Record> records;
    const auto start = std::chrono::steady_clock::now();
    while (!done(records) && std::chrono::steady_clock::now() - start <
                                 std::chrono::milliseconds(limit_ms)) {
      reactor.ProcessSubmissions();
      // A readable poll fd returns at once: keep the rounds paced.
      if (WaitReadable(reactor.poll_fd(), tick_ms)) usleep(1000);
      int count = reactor.Drain();
      for (int i = 0; i < count; ++i) {
        const int32_t* record = control.data() + L::kRecordBase + i * L::kRecordInts;
        records.push_back({record[0] & 0xff, static_cast<int>(static_cast<uint32_t>(record[0]) >> 8),
                           record[1], record[2], record[3]});
      }
    }
    return records;
  }

  static bool Has(const std::vector<Record>& records, int kind, int fd = -1) {
    for (const Record& record : records) {
      if (record.kind == kind && (fd < 0 || record.fd == fd)) return true;
    }
    return false;
  }

  void Submit(int op, int slab, int fd, int offset, int length) {
    int index = control[L::kHeaderSubmitCount]++;
    int32_t* entry = control.data() + L::kSubmitBase + index * L::kRecordInts;
    entry[0] = op | (slab << 8);
    entry[1] = fd;
    entry[2] = offset;
    entry[3] = length;
  }

  // Copies `text` into outbound memory at `offset` and queues it for `fd`.
  void Write(int fd, const std::string& text, int offset = 0) {
    memcpy(outbound.data() + offset, text.data(), text.size());
    Submit(L::kSubmitWrite, outbound_index, fd, offset, static_cast<int>(text.size()));
  }
};

inline int ListenPort(int fd) {
  std::string address;
  CHECK(netpoll::SocketAddress(fd, false, &address) == netpoll::kFamilyIPv4);
  return std::atoi(address.substr(address.rfind(':') + 1).c_str());
}

struct Pair {
  int listener, client, server;
};

inline Pair Connect(Harness* harness, const netpoll::Framing& framing = {}) {
  Pair pair{};
  pair.listener = harness->reactor.Listen({netpoll::kFamilyIPv4, "127.0.0.1", 0}, 16);
  CHECK(pair.listener >= 0);
  CHECK(harness->reactor.SetFraming(pair.listener, framing) == 0);
  CHECK(harness->reactor.SetReading(pair.listener, true) == 0);
  pair.client = harness->reactor.Connect(
      {netpoll::kFamilyIPv4, "127.0.0.1", ListenPort(pair.listener)}, {});
  CHECK(pair.client >= 0);
  auto records = harness->DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordAccept) && Harness::Has(seen, L::kRecordConnect);
  });
  pair.server = -1;
  for (const auto& record : records) {
    if (record.kind == L::kRecordAccept) pair.server = record.fd;
    if (record.kind == L::kRecordConnect) CHECK(record.a == 0);
  }
  CHECK(pair.server >= 0);
  // Accepted and dialed TCP sockets have TCP_NODELAY (conformance item 54).
  for (int fd : {pair.server, pair.client}) {
    int on = 0;
    socklen_t length = sizeof(on);
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &length) == 0 && on != 0);
  }
  return pair;
}

}  // namespace netpoll_test

#endif  // NETPOLL_NATIVE_TEST_HARNESS_H_
