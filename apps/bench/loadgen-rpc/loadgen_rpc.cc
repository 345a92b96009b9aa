// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The RPC benchmark's native load generator: a closed-loop client speaking @netpoll/rpc's wire
// format, version 1 (packages/rpc/WIRE.md), so that the server's cost is measured with a client
// that costs far less than any Node client. apps/bench's `main.js rpc` runs it for the
// `netpoll-native-load` stack, pinned to CPU 1 while the server runs on CPU 0. With `--wire net`
// it speaks the `net` stack's framing instead (src/rpc-net.ts: a 4-byte big-endian payload
// length, a 4-byte call id, the payload), for the `net-native-load` stack: the node:net server
// under the same load, so the two servers are compared with the client's cost and behaviour
// taken out of both. With `--wire frame` the length counts the call id too (`[id + payload
// length][id][payload]`): a plain length-header frame, which a length-header echo server returns
// unchanged, for the `c-native-load` stack (the C echo server: the kernel's floor).
//
//   netpoll_rpc_loadgen --port PORT [--host 127.0.0.1] [--connections 4] [--callers 100]
//                       [--payload 1024] [--warmup 1000] [--duration 5000] [--timeout 5000]
//                       [--method echo] [--wire rpc|net|frame]
//
// `--callers` requests are kept in flight, spread over `--connections` connections (the first
// `callers % connections` connections take one more). Each request is a REQUEST frame with a
// 4-byte length header, the DEADLINE flag and `--timeout` ms, method `--method` and a payload of
// `--payload` random bytes (each caller has its own). A RESPONSE is matched to its request by
// `seq`, checked byte for byte against that caller's payload, and the caller sends again at once;
// every request a read completes is re-sent in one write per connection. An ERROR reply is
// counted and the caller goes on. A server PING is answered with a PONG. Under `--wire net` a
// request is `[payload length][id][payload]` (`[id + payload length][id][payload]` under
// `--wire frame`), its reply must carry the same id and payload, and `--method` and `--timeout`
// (as a deadline) do not apply: those framings have neither.
//
// Output, one JSON object per line on stdout: {"event":"start"} when the measured window opens
// after `--warmup` ms, {"event":"end"} when it closes, then {"event":"result",...} once the calls
// in flight have come back: calls completed in the window, its length, p50/p99 round trips (µs,
// the same log buckets as apps/bench's LatencyHistogram), errors, mismatches, this process's
// CPU time over the window (getrusage) and its peak RSS (VmHWM).
//
// Exit status: 0; 1 when a reply did not match its request (mismatches > 0), the server closed a
// connection or sent GOAWAY, a frame was malformed, or nothing arrived for `--timeout` ms; 2 for a
// bad flag (the message names it); 3 when stdin reaches end of file (the parent that started it
// is gone), so it never outlives the bench. Linux only; a benchmark tool, never shipped.
//
// The flags are parsed in options.cc, the framings encoded and decoded in wire.h/wire.cc, round
// trips kept in histogram.h; Fail, the clocks, peak RSS and Connect are in system.h/system.cc.
// This file is the event loop and the reply path, in one translation unit so that the reply
// path (OnReadable, HandleFrame) is inlined into the loop: no call per readiness event.

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "system.h"
#include "wire.h"

namespace netpoll_rpc_loadgen {
namespace {

constexpr size_t kReadSize = 64 << 10;

struct Connection {
  int fd = -1;
  std::vector<Caller> callers;
  std::unordered_map<uint32_t, uint32_t> by_seq;  // seq in flight → caller index
  uint32_t next_seq = 1;
  std::vector<uint8_t> input;  // bytes [0, used) are unparsed
  size_t used = 0;
  std::vector<uint8_t> output;  // bytes [sent, size) still to write
  size_t sent = 0;
  bool waiting_for_output = false;
};

struct State {
  Options options;
  int epoll_fd = -1;
  std::vector<Connection> connections;
  bool issuing = true;    // callers send again after each reply
  bool measuring = false;
  uint64_t calls = 0;     // replies in the measured window that matched
  uint64_t errors = 0;    // ERROR replies in the window
  uint64_t mismatches = 0;
  uint64_t in_flight = 0;
  std::string first_error_code;
  Histogram histogram;
};

uint32_t NextSeq(Connection& connection) {
  uint32_t seq = connection.next_seq++;
  if (connection.next_seq == 0) connection.next_seq = 1;  // seq 0 is never used
  return seq;
}

void Issue(State& state, Connection& connection, uint32_t index) {
  Caller& caller = connection.callers[index];
  uint32_t seq = NextSeq(connection);
  while (connection.by_seq.count(seq) != 0) seq = NextSeq(connection);
  connection.by_seq.emplace(seq, index);
  WriteU32(caller.frame.data() + caller.seq_offset, seq);
  caller.sent_at = NowNanos();
  caller.in_flight = true;
  state.in_flight += 1;
  connection.output.insert(connection.output.end(), caller.frame.begin(), caller.frame.end());
}

void UpdateInterest(State& state, Connection& connection, bool want_output) {
  if (connection.waiting_for_output == want_output) return;
  epoll_event event{};
  event.events = want_output ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  event.data.u64 = static_cast<uint64_t>(&connection - state.connections.data());
  epoll_ctl(state.epoll_fd, EPOLL_CTL_MOD, connection.fd, &event);
  connection.waiting_for_output = want_output;
}

void Flush(State& state, Connection& connection) {
  while (connection.sent < connection.output.size()) {
    ssize_t written = write(connection.fd, connection.output.data() + connection.sent,
                            connection.output.size() - connection.sent);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Fail("write: %s", std::strerror(errno));
    }
    connection.sent += static_cast<size_t>(written);
  }
  if (connection.sent == connection.output.size()) {
    connection.output.clear();
    connection.sent = 0;
  }
  UpdateInterest(state, connection, !connection.output.empty());
}

// A reply matched to caller `index` (see TakeCaller): checks its payload, counts it and sends
// the caller's next request.
void Answered(State& state, Connection& connection, uint32_t index, uint32_t seq,
              const uint8_t* payload, size_t length) {
  Caller& caller = connection.callers[index];
  size_t expected = caller.frame.size() - caller.payload_offset;
  if (length != expected ||
      std::memcmp(payload, caller.frame.data() + caller.payload_offset, expected) != 0) {
    if (state.mismatches == 0) {
      std::fprintf(stderr,
                   "netpoll_rpc_loadgen: the reply to seq %u differs from its request "
                   "(%zu payload bytes, %zu expected)\n",
                   seq, length, expected);
    }
    state.mismatches += 1;
  } else if (state.measuring) {
    state.calls += 1;
    state.histogram.Record(static_cast<double>(NowNanos() - caller.sent_at) / 1000.0);
  }
  if (state.issuing) Issue(state, connection, index);
}

// Takes the caller waiting for `seq` out of the calls in flight and returns its index.
uint32_t TakeCaller(State& state, Connection& connection, uint32_t seq) {
  auto found = connection.by_seq.find(seq);
  if (found == connection.by_seq.end()) Fail("%s", "a reply to no request in flight");
  uint32_t index = found->second;
  connection.by_seq.erase(found);
  connection.callers[index].in_flight = false;
  state.in_flight -= 1;
  return index;
}

// Handles one `--wire net` or `--wire frame` body: the call id, then the payload.
void HandleNetFrame(State& state, Connection& connection, const uint8_t* body, size_t length) {
  if (length < kNetIdSize) Fail("%s", "a frame shorter than its call id");
  uint32_t seq = ReadU32(body);
  Answered(state, connection, TakeCaller(state, connection, seq), seq, body + kNetIdSize,
           length - kNetIdSize);
}

// Handles one frame body; replies and re-issued requests go to the connection's output.
void HandleFrame(State& state, Connection& connection, const uint8_t* body, size_t length) {
  if (length < kFixedHeader) Fail("%s", "a frame shorter than the message header");
  uint8_t version = body[0] >> 4;
  uint8_t kind = body[0] & 0x0f;
  uint8_t flags = body[1];
  uint32_t seq = ReadU32(body + 2);
  if (version != kVersion) Fail("%s", "a frame of another protocol version");
  if ((flags & ~kKnownFlags) != 0) Fail("%s", "a frame with reserved flag bits set");
  if (kind == kGoaway) Fail("%s", "the server sent GOAWAY");
  if (kind == kPing) {
    size_t reply_length = length;
    size_t at = connection.output.size();
    connection.output.resize(at + kLengthHeader + reply_length);
    uint8_t* reply = connection.output.data() + at;
    WriteU32(reply, static_cast<uint32_t>(reply_length));
    std::memcpy(reply + kLengthHeader, body, length);
    reply[kLengthHeader] = static_cast<uint8_t>((kVersion << 4) | kPong);
    reply[kLengthHeader + 1] = 0;
    return;
  }
  if (kind != kResponse && kind != kError) Fail("%s", "an unexpected message kind");
  if ((flags & kFlagClosing) != 0) Fail("%s", "the server is closing the connection (CLOSING)");
  uint32_t index = TakeCaller(state, connection, seq);
  size_t at = kFixedHeader;
  if (kind == kError) {
    if (at + 1 > length) Fail("%s", "an ERROR frame without its code");
    size_t code = body[at++];
    if (code == 0 || at + code + 2 > length) Fail("%s", "an ERROR frame beyond its body");
    if (state.first_error_code.empty()) {
      // Printed inside a JSON string: anything but letters, digits and '_' becomes '?'.
      for (size_t i = 0; i < code; ++i) {
        char c = static_cast<char>(body[at + i]);
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '_';
        state.first_error_code.push_back(plain ? c : '?');
      }
    }
    if (state.measuring) state.errors += 1;
    if (state.issuing) Issue(state, connection, index);
    return;
  }
  if ((flags & kFlagMetadata) != 0) at = SkipMetadata(body, at, length);
  Answered(state, connection, index, seq, body + at, length - at);
}

// Reads what is there (one read per readiness event) and handles every complete frame.
void OnReadable(State& state, Connection& connection) {
  if (connection.input.size() - connection.used < kReadSize) {
    connection.input.resize(connection.used + kReadSize);
  }
  ssize_t count;
  do {
    count = read(connection.fd, connection.input.data() + connection.used,
                 connection.input.size() - connection.used);
  } while (count < 0 && errno == EINTR);
  if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (count < 0) Fail("read: %s", std::strerror(errno));
  if (count == 0) Fail("%s", "the server closed a connection");
  connection.used += static_cast<size_t>(count);
  size_t at = 0;
  const Wire wire = state.options.wire;
  while (connection.used - at >= kLengthHeader) {
    // The net framing's length counts the payload only; the call id follows it.
    size_t length = size_t{ReadU32(connection.input.data() + at)} +
                    (wire == Wire::kNet ? kNetIdSize : 0);
    if (length > kMaxFrameSize) Fail("%s", "a frame longer than 4 MiB");
    if (connection.used - at < kLengthHeader + length) {
      // Make room for the whole frame, so the next reads complete it.
      if (connection.input.size() < at + kLengthHeader + length) {
        connection.input.resize(at + kLengthHeader + length + kReadSize);
      }
      break;
    }
    const uint8_t* body = connection.input.data() + at + kLengthHeader;
    if (wire != Wire::kRpc) {
      HandleNetFrame(state, connection, body, length);
    } else {
      HandleFrame(state, connection, body, length);
    }
    at += kLengthHeader + length;
  }
  if (at > 0) {
    std::memmove(connection.input.data(), connection.input.data() + at, connection.used - at);
    connection.used -= at;
  }
  Flush(state, connection);
}

void PrintEvent(const char* name) {
  std::printf("{\"event\":\"%s\"}\n", name);
  std::fflush(stdout);
}

// main's body, inside the namespace so the names above need no qualifying.
int Run(int argc, char** argv) {
  State state;
  state.options = ParseOptions(argc, argv);
  const Options& options = state.options;
  std::random_device seed;
  std::mt19937_64 random(seed());

  state.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  // The parent holds stdin's other end: end of file means it is gone. (Not a pipe or socket —
  // a file or /dev/null — cannot be watched, and then only a signal stops this process.)
  constexpr uint64_t kStdinToken = ~uint64_t{0};
  epoll_event stdin_event{};
  stdin_event.events = EPOLLIN;
  stdin_event.data.u64 = kStdinToken;
  epoll_ctl(state.epoll_fd, EPOLL_CTL_ADD, STDIN_FILENO, &stdin_event);

  state.connections.resize(static_cast<size_t>(options.connections));
  for (long i = 0; i < options.connections; ++i) {
    Connection& connection = state.connections[static_cast<size_t>(i)];
    connection.fd = Connect(options);
    long share = options.callers / options.connections + (i < options.callers % options.connections);
    for (long c = 0; c < share; ++c) connection.callers.push_back(MakeCaller(options, random));
    connection.by_seq.reserve(static_cast<size_t>(share) * 2);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = static_cast<uint64_t>(i);
    epoll_ctl(state.epoll_fd, EPOLL_CTL_ADD, connection.fd, &event);
  }
  for (Connection& connection : state.connections) {
    for (uint32_t index = 0; index < connection.callers.size(); ++index) {
      Issue(state, connection, index);
    }
    Flush(state, connection);
  }

  const uint64_t started = NowNanos();
  const uint64_t window_opens = started + static_cast<uint64_t>(options.warmup) * 1000000u;
  const uint64_t window_closes = window_opens + static_cast<uint64_t>(options.duration) * 1000000u;
  uint64_t window_started = 0;
  uint64_t window_ended = 0;
  uint64_t cpu_start = 0;
  uint64_t cpu_end = 0;
  uint64_t last_progress = started;
  std::vector<epoll_event> events(1024);
  // Runs until the window has closed and every call in flight then has come back.
  while (window_ended == 0 || state.in_flight > 0) {
    uint64_t now = NowNanos();
    if (window_started == 0 && now >= window_opens) {
      window_started = now;
      cpu_start = CpuMicros();
      state.measuring = true;
      PrintEvent("start");
    }
    if (window_started != 0 && window_ended == 0 && now >= window_closes) {
      window_ended = now;
      cpu_end = CpuMicros();
      state.measuring = false;
      state.issuing = false;
      PrintEvent("end");
      if (state.in_flight == 0) break;
    }
    uint64_t next = window_started == 0 ? window_opens : window_ended == 0 ? window_closes : 0;
    int wait_ms = 100;
    if (next != 0) {
      uint64_t left_ms = next > now ? (next - now + 999999) / 1000000 : 0;
      wait_ms = left_ms < 100 ? static_cast<int>(left_ms) : 100;
    }
    int ready = epoll_wait(state.epoll_fd, events.data(), static_cast<int>(events.size()), wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) Fail("epoll_wait: %s", std::strerror(errno));
    now = NowNanos();
    if (ready > 0) {
      last_progress = now;
    } else if (now - last_progress > static_cast<uint64_t>(options.timeout) * 1000000u) {
      char message[128];
      std::snprintf(message, sizeof(message), "%llu calls in flight",
                    static_cast<unsigned long long>(state.in_flight));
      Fail("no reply for --timeout ms with %s", message);
    }
    for (int i = 0; i < ready; ++i) {
      const epoll_event& event = events[static_cast<size_t>(i)];
      if (event.data.u64 == kStdinToken) {
        char scratch[256];
        ssize_t count = read(STDIN_FILENO, scratch, sizeof(scratch));
        if (count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR)) {
          std::fprintf(stderr, "netpoll_rpc_loadgen: stdin closed, stopping\n");
          return 3;
        }
        continue;
      }
      Connection& connection = state.connections[event.data.u64];
      if ((event.events & EPOLLOUT) != 0) Flush(state, connection);
      if ((event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(state, connection);
    }
  }
  uint64_t peak_rss = PeakRssBytes();
  for (Connection& connection : state.connections) close(connection.fd);
  close(state.epoll_fd);
  double elapsed_ms = static_cast<double>(window_ended - window_started) / 1e6;
  std::printf(
      "{\"event\":\"result\",\"calls\":%llu,\"elapsedMs\":%.3f,\"p50Micros\":%.3f,"
      "\"p99Micros\":%.3f,\"errors\":%llu,\"mismatches\":%llu,\"firstErrorCode\":\"%s\","
      "\"cpuMicros\":%llu,\"peakRssBytes\":%llu}\n",
      static_cast<unsigned long long>(state.calls), elapsed_ms,
      state.calls == 0 ? 0.0 : state.histogram.Quantile(0.5),
      state.calls == 0 ? 0.0 : state.histogram.Quantile(0.99),
      static_cast<unsigned long long>(state.errors),
      static_cast<unsigned long long>(state.mismatches), state.first_error_code.c_str(),
      static_cast<unsigned long long>(cpu_end - cpu_start),
      static_cast<unsigned long long>(peak_rss));
  std::fflush(stdout);
  return state.mismatches > 0 ? 1 : 0;
}

}  // namespace
}  // namespace netpoll_rpc_loadgen

int main(int argc, char** argv) { return netpoll_rpc_loadgen::Run(argc, argv); }
