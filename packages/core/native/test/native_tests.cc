// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Native test suite: the poller contract (either backend) and the reactor
// engine over socketpairs and loopback sockets, without Node. Built by CMake
// as netpoll_native_tests (-DNETPOLL_NATIVE_TESTS=ON); run it directly or via
// ctest, also under -DNETPOLL_SANITIZE=ON (ASan + UBSan). With the kqueue
// backend it also runs kqueue_tests.cc, which checks the kqueue API itself
// (the kernel's, libkqueue's or, on Linux, the test-only kqueue_shim).
//
// This file holds main() and the reactor's echo, outbound registry, accept
// back-off, fd accounting and listener adoption; poller_tests.cc,
// input_tests.cc and close_tests.cc hold the rest.

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
#include "close_tests.h"
#include "harness.h"
#include "input_tests.h"
#include "layout.h"
#include "poller.h"
#include "poller_tests.h"
#include "reactor.h"
#include "socket.h"
#if NETPOLL_POLLER_KQUEUE
#include "kqueue_tests.h"
#endif

namespace netpoll_test {
int g_checks = 0;
int g_failures = 0;
}  // namespace netpoll_test

namespace {

using netpoll::Poller;
using netpoll::PollResult;
using netpoll::Reactor;
using netpoll_test::Connect;
using netpoll_test::CountOpenFds;
using netpoll_test::Harness;
using netpoll_test::ListenPort;
using netpoll_test::Pair;
using netpoll_test::TcpPair;
using netpoll_test::WaitReadable;
namespace L = netpoll::layout;

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

// Outbound memory is registered apart from the inbound slabs: far more
// buffers than there are inbound indices (output queued for many slow peers
// takes one per large write), released indices are handed out again, and
// writes from any of them reach the peer; a released index writes nothing.
void TestOutboundRegistry() {
  Harness harness;
  Pair pair = Connect(&harness);
  std::vector<std::vector<uint8_t>> buffers(3 * L::kMaxSlabs, std::vector<uint8_t>(8, 'x'));
  std::vector<int> indices;
  for (auto& buffer : buffers) {
    const int index = harness.reactor.AddSlab(buffer.data(), buffer.size(), false);
    CHECK(index >= L::kMaxSlabs);
    indices.push_back(index);
  }
  CHECK(std::set<int>(indices.begin(), indices.end()).size() == indices.size());
  CHECK(harness.reactor.ReleaseSlab(0) == -EINVAL);  // an inbound slab
  CHECK(harness.reactor.ReleaseSlab(indices[10]) == 0);
  CHECK(harness.reactor.ReleaseSlab(indices[10]) == -EINVAL);
  std::vector<uint8_t> reused{'r', 'e', 'u', 's', 'e', 'd', '-', '2'};
  CHECK(harness.reactor.AddSlab(reused.data(), reused.size(), false) == indices[10]);
  std::vector<uint8_t>& last = buffers.back();
  memcpy(last.data(), "last--1-", 8);
  CHECK(harness.reactor.ReleaseSlab(indices[20]) == 0);
  harness.Submit(L::kSubmitWrite, indices.back(), pair.client, 0, 8);
  harness.Submit(L::kSubmitWrite, indices[20], pair.client, 0, 8);  // released: dropped
  harness.Submit(L::kSubmitWrite, indices[10], pair.client, 0, 8);
  std::string received;
  harness.DrainUntil([&](const std::vector<Harness::Record>& records) {
    received.clear();
    for (const auto& record : records) {
      if (record.kind != L::kRecordData || record.fd != pair.server) continue;
      received.append(
          reinterpret_cast<char*>(harness.slabs[static_cast<size_t>(record.slab)].data()) + record.a,
          static_cast<size_t>(record.b));
    }
    return received.size() >= 16;
  });
  CHECK(received == "last--1-reused-2");
  CHECK(harness.fd_state[static_cast<size_t>(pair.client) * L::kFdStateInts + L::kFdWritten] == 16);
  CHECK(harness.reactor.Close(pair.client) == 0);
  CHECK(harness.reactor.Close(pair.server) == 0);
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

// Two reactors share one listening socket, as worker reactors do for a Unix
// listener: the second adopts a duplicate (its own descriptor, same accept
// queue). Each connection is accepted by exactly one of them (the loser of the
// race sees EAGAIN), the owner closing its descriptor leaves the duplicate
// accepting, and each reactor closes only the descriptors it owns.
void TestAdoptListener() {
  const int baseline = CountOpenFds();
  {
    Harness owner;
    Harness adopter;
    const std::string path = "/tmp/netpoll-adopt-" + std::to_string(getpid()) + ".sock";
    unlink(path.c_str());
    const int listener = owner.reactor.Listen({netpoll::kFamilyUnix, path, 0}, 64);
    CHECK(listener >= 0);
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    CHECK(adopter.reactor.AdoptListener(pair[0]) == -EINVAL);  // not listening
    CHECK(adopter.reactor.AdoptListener(-1) == -EBADF);
    close(pair[0]);
    close(pair[1]);
    const int adopted = adopter.reactor.AdoptListener(listener);
    CHECK(adopted >= 0 && adopted != listener);
    CHECK(owner.reactor.SetReading(listener, true) == 0);
    CHECK(adopter.reactor.SetReading(adopted, true) == 0);

    // Both accept from the one queue: 20 connections, each accepted once.
    constexpr int kClients = 20;
    std::vector<int> clients;
    for (int i = 0; i < kClients; ++i) {
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
      CHECK(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
      clients.push_back(fd);
    }
    int accepted_by[2] = {0, 0};
    Harness* harnesses[2] = {&owner, &adopter};
    const int listeners[2] = {listener, adopted};
    for (int round = 0; round < 400 && accepted_by[0] + accepted_by[1] < kClients; ++round) {
      for (int side = 0; side < 2; ++side) {
        Reactor& reactor = harnesses[side]->reactor;
        if (!WaitReadable(reactor.poll_fd(), 5)) continue;
        int count = reactor.Drain();
        for (int i = 0; i < count; ++i) {
          const int32_t* record =
              harnesses[side]->control.data() + L::kRecordBase + i * L::kRecordInts;
          if ((record[0] & 0xff) != L::kRecordAccept) continue;
          CHECK(record[2] == listeners[side]);
          ++accepted_by[side];
        }
      }
    }
    CHECK(accepted_by[0] + accepted_by[1] == kClients);
    for (int fd : clients) close(fd);

    // The owner closes its descriptor; the duplicate still accepts.
    CHECK(owner.reactor.Close(listener) == 0);
    CHECK(fcntl(adopted, F_GETFD) != -1);
    int late = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    CHECK(connect(late, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    auto records = adopter.DrainUntil([&](const std::vector<Harness::Record>& seen) {
      return Harness::Has(seen, L::kRecordAccept);
    });
    CHECK(Harness::Has(records, L::kRecordAccept));
    close(late);
    CHECK(adopter.reactor.Close(adopted) == 0);
    unlink(path.c_str());
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
      {"poller contract", netpoll_test::TestPollerContract},
      {"poller hang-up with data pending", netpoll_test::TestPollerHangupWithData},
      {"poller independent interest", netpoll_test::TestPollerIndependentInterest},
      {"poller refused connect", netpoll_test::TestPollerRefusedConnect},
#if NETPOLL_POLLER_KQUEUE
      {"kqueue filters and EV_EOF", netpoll_test::TestKqueueFilters},
      {"kqueue change errors and receipts", netpoll_test::TestKqueueChangeErrors},
      {"kqueue knotes vanish on close", netpoll_test::TestKqueueCloseForgets},
      {"kqueue enable, disable, oneshot", netpoll_test::TestKqueueEnableOneshot},
#endif
      {"reactor echo", TestReactorEcho},
      {"outbound registry beyond the inbound indices", TestOutboundRegistry},
      {"framing", netpoll_test::TestFraming},
      {"backpressure", netpoll_test::TestBackpressure},
      {"reset while blocked", netpoll_test::TestResetWhileBlocked},
      {"read stall on exhausted slabs, then resume", netpoll_test::TestReadStallResume},
      {"smallest free slab first", netpoll_test::TestSmallestSlabFirst},
      {"a carried frame fits its slab (no stall for min_read beyond it)",
       netpoll_test::TestCarriedFrameFitsItsSlab},
      {"a Unix peer closing while reading is paused loses nothing",
       netpoll_test::TestUnixPeerCloseWhilePausedLosesNothing},
      {"frame-too-large ends an ended input (no input-end after it)",
       netpoll_test::TestFrameTooLargeEndsAnEndedInput},
      {"accept back-off", TestAcceptBackoff},
      {"no fd leak", TestNoFdLeak},
      {"adopted listener shares the accept queue", TestAdoptListener},
      {"close with unread input resets (the failure lingering avoids)",
       netpoll_test::TestCloseWithUnreadInputResets},
      {"lingering close delivers everything, then EOF", netpoll_test::TestLingerDeliversEverything},
      {"lingering close keeps a peer that keeps sending whole", netpoll_test::TestLingerKeepsASendingPeerWhole},
      {"lingering close deadline", netpoll_test::TestLingerDeadline},
      {"hard close resets a peer still owed output", netpoll_test::TestAbortiveClose},
      {"end-of-input budget", netpoll_test::TestEndInputBudget},
      {"listener close sweeps its backlog", netpoll_test::TestListenerCloseSweepsBacklog},
      {"output drains after the peer's EOF", netpoll_test::TestOutputDrainsAfterPeerEof},
  };
  int passed = 0;
  int failed = 0;
  for (const Case& test : cases) {
    int before = netpoll_test::g_failures;
    test.run();
    bool ok = netpoll_test::g_failures == before;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", test.name);
    (ok ? passed : failed)++;
  }
  std::printf("%d checks, %d failed\n", netpoll_test::g_checks, netpoll_test::g_failures);
  // The plain closing line CI reads.
  std::printf("native: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
