// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// libFuzzer target: native framing on the reactor's real read path. A peer
// sends the fuzz input's byte stream over a Unix socket that the reactor
// accepted with a length-header framing (1, 2 or 4 bytes, maxFrameSize from
// the input); the stream is split at points drawn from the input, and the
// reactor drains between the writes, so frames and headers arrive cut
// anywhere. The JS side is modelled (fuzz_support.h): it keeps some records
// referenced so slabs run out and reads park, and grows or releases slabs.
//
// Invariants, against a reference parse of the stream (ModelFrames):
//   - the data records, in order, are exactly the stream's prefix of whole
//     frames; each record is whole frames;
//   - an oversized header yields one kRecordFrameTooLarge with the announced
//     length, after the frames before it, and nothing beyond it;
//   - otherwise the peer's EOF yields one kRecordHangup(0) (a partial frame
//     at the end is dropped), or, when the peer stays open, nothing more
//     than the whole frames arrives;
//   - no record points outside its slab, no referenced slab memory changes,
//     the connection and its fd are gone after Close, and nothing hangs
//     (ASan, UBSan and LeakSanitizer watch the rest).
//
// Input: 5 bytes of sizes (DrawSizes), 5 of framing, splits and retention
// (DrawRun), then the stream itself. The seeds in corpus/framing_fuzzer are
// named for what they reach; h1-carried-frame-stall is the input that found
// the parked read fixed in ReadOnce (native test "a carried frame fits its
// slab").

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace {

using netpoll_fuzz::Engine;
using netpoll_fuzz::Input;
using netpoll_fuzz::Rng;
namespace L = netpoll_fuzz::L;

enum class End { kShutdown, kClose, kStayOpen };

struct Run {
  int header_size = 4;
  uint32_t max_frame = 0;
  End end = End::kShutdown;
  size_t max_chunk = 1;       // largest piece the peer writes at once
  uint32_t retain_permille = 0;  // share of data records JS keeps referenced
  uint32_t seed = 0;
};

Run DrawRun(Input* input) {
  static constexpr int kHeaders[] = {1, 2, 4};
  Run run;
  const uint8_t framing = input->Byte();
  run.header_size = kHeaders[framing % 3];
  run.end = static_cast<End>((framing >> 2) % 3);
  // maxFrameSize is 1..limit in JS; small values are the interesting ones,
  // the limit itself too.
  const uint32_t limit = netpoll_fuzz::HeaderLimit(run.header_size);
  const uint32_t raw = input->U16();
  run.max_frame = (framing & 0x80) != 0 ? limit : 1 + raw % (limit < 4096 ? limit : 4096);
  const uint8_t shape = input->Byte();
  run.max_chunk = static_cast<size_t>(1) << (shape % 12);
  run.retain_permille = (shape >> 4) * 1000 / 15;
  run.seed = input->Byte();
  return run;
}

void FuzzOne(const uint8_t* data, size_t size) {
  Input input(data, size);
  const netpoll_fuzz::Sizes sizes = netpoll_fuzz::DrawSizes(&input);
  const Run run = DrawRun(&input);
  const uint8_t* stream = input.rest();
  const size_t stream_size = input.left();
  const netpoll_fuzz::FrameModel model =
      netpoll_fuzz::ModelFrames(stream, stream_size, run.header_size, run.max_frame);

  Engine engine(sizes);
  netpoll::Framing framing;
  framing.header_size = run.header_size;
  framing.max_frame = run.max_frame;
  engine.EnsureFrameCapacity(static_cast<size_t>(run.header_size) + run.max_frame);
  const std::pair<int, int> pair = engine.Accept(framing);
  const int server = pair.second;
  Rng rng(run.seed);

  std::vector<uint8_t> received;
  bool too_large = false;
  bool hangup = false;
  size_t sent = 0;
  bool peer_done = false;  // shut down or closed (when the run asks for it)
  int peer_fd = pair.first;
  uint64_t last_progress = netpoll_fuzz::NowMs();

  // Done when the outcome the model predicts has arrived; then one more
  // batch must bring nothing for this connection.
  auto finished = [&] {
    if (model.too_large) return too_large;
    if (run.end == End::kStayOpen) {
      return sent == stream_size && received.size() == model.whole &&
             netpoll::UnreadBytes(server) == 0;
    }
    return hangup;
  };

  while (!finished()) {
    bool progress = false;
    // The peer writes its next piece (non-blocking: a parked read leaves the
    // kernel buffer full, and the peer must not block the reactor's thread).
    if (sent < stream_size && !too_large) {
      const size_t piece = rng.Range(1, run.max_chunk);
      const size_t want = piece < stream_size - sent ? piece : stream_size - sent;
      const ssize_t written = send(peer_fd, stream + sent, want, MSG_NOSIGNAL);
      if (written > 0) {
        sent += static_cast<size_t>(written);
        progress = true;
      } else {
        FUZZ_CHECK(written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
      }
    }
    if (sent == stream_size && !peer_done && run.end != End::kStayOpen) {
      if (run.end == End::kShutdown) {
        FUZZ_CHECK(shutdown(peer_fd, SHUT_WR) == 0);
      } else {
        close(peer_fd);
        peer_fd = -1;
      }
      peer_done = true;
      progress = true;
    }

    for (const Engine::Record& record : engine.Drain()) {
      FUZZ_CHECK(record.fd == server);
      FUZZ_CHECK_MSG(!too_large && !hangup, "a record after the connection's last one");
      switch (record.kind) {
        case L::kRecordData: {
          const uint8_t* bytes = engine.Bytes(record);
          FUZZ_CHECK_MSG(netpoll_fuzz::WholeFrames(bytes, static_cast<size_t>(record.b),
                                                   run.header_size, run.max_frame),
                         "a data record that is not whole frames");
          received.insert(received.end(), bytes, bytes + record.b);
          FUZZ_CHECK_MSG(received.size() <= model.whole, "more data than the stream's frames");
          if (rng.Range(0, 999) < run.retain_permille) engine.Retain(record);
          break;
        }
        case L::kRecordFrameTooLarge:
          FUZZ_CHECK_MSG(model.too_large, "an oversized-frame record for a frame within the limit");
          FUZZ_CHECK(static_cast<uint32_t>(record.a) == model.announced);
          FUZZ_CHECK_MSG(received.size() == model.whole,
                         "the frames before an oversized header were not all delivered first");
          too_large = true;
          break;
        case L::kRecordHangup:
          FUZZ_CHECK_MSG(peer_done, "a hang-up before the peer ended");
          FUZZ_CHECK_MSG(record.a == 0, "a hang-up with an error: " + std::to_string(record.a));
          FUZZ_CHECK_MSG(!model.too_large, "EOF reported instead of the oversized header");
          FUZZ_CHECK_MSG(received.size() == model.whole, "EOF before every whole frame");
          hangup = true;
          break;
        default:
          netpoll_fuzz::Fail(__FILE__, __LINE__, "unexpected record kind " +
                                                     std::to_string(record.kind));
      }
      progress = true;
    }

    // JS consumes: now and then a few of the oldest retained regions, and
    // everything once the reactor parked this read (like a handler that
    // finally reads its buffered input).
    if (engine.retained() > 0 && (engine.reactor().stalled_count() > 0 || rng.Range(0, 3) == 0)) {
      engine.Release(engine.reactor().stalled_count() > 0 ? engine.retained()
                                                          : rng.Range(1, engine.retained()));
      engine.reactor().ResumeStalledReads();
      progress = true;
    }

    const uint64_t now = netpoll_fuzz::NowMs();
    if (progress) {
      last_progress = now;
    } else {
      FUZZ_CHECK_MSG(now - last_progress < netpoll_fuzz::kStuckMs,
                     "no progress: received " + std::to_string(received.size()) + " of " +
                         std::to_string(model.whole) + " bytes of whole frames, sent " +
                         std::to_string(sent) + " of " + std::to_string(stream_size) +
                         ", stalled reads " +
                         std::to_string(engine.reactor().stalled_count()));
      // Nothing moved: wait briefly for readiness rather than spin.
      netpoll_fuzz::WaitReadable(engine.reactor().poll_fd(), 1);
    }
  }

  FUZZ_CHECK(received.size() == model.whole);
  FUZZ_CHECK(model.whole == 0 || memcmp(received.data(), stream, model.whole) == 0);
  // Nothing more for this connection.
  for (const Engine::Record& record : engine.Drain()) {
    netpoll_fuzz::Fail(__FILE__, __LINE__,
                       "a record after the last one: kind " + std::to_string(record.kind));
  }
  engine.ReleaseAll();
  FUZZ_CHECK(engine.reactor().Close(server, 0) == 0);
  FUZZ_CHECK(!netpoll_fuzz::FdOpen(server));
  FUZZ_CHECK(engine.reactor().stalled_count() == 0);
  FUZZ_CHECK(engine.reactor().active_count() == 1);  // the listener
  if (peer_fd >= 0) close(peer_fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}
