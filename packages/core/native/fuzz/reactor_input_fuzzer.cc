// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// libFuzzer target: the reactor's input path as connections really live it.
// Up to three connections, accepted through one listener with their own
// framing (none, or a 1-, 2- or 4-byte header), run a program drawn from the
// input: their peers send raw bytes or whole frames, shut down their write
// side or close; the JS side drains, keeps and releases slab references,
// pauses and resumes reading (readHighWaterMark), ends input (EndInput, a
// graceful shutdown), writes to the peer (read back and checked) and closes,
// lingering or at once. Every batch is checked as it comes:
//   - a connection's data records, in order, are a prefix of what its peer
//     sent, whole frames when framed; never after its last record, after JS
//     closed it, or beyond what had arrived when its input was ended;
//   - at EOF (a hang-up with 0) every whole frame the peer sent has arrived:
//     nothing is lost, whatever the connection's reading was doing;
//   - at the end of an ended input, exactly the whole frames of what had
//     arrived by EndInput; an oversized header yields one frame-too-large
//     record with its length after every frame before it;
//   - one hang-up, input-end or linger-done record at most per connection;
//   - referenced slab memory never changes (fuzz_support.h).
// Then every connection is resumed, its slabs released and its peer shut
// down, and each must reach its end; after closing everything no connection,
// lingering close, parked read or fd is left, and nothing hangs.
//
// Input: 5 bytes of sizes (DrawSizes), 1 + 3 per connection of set-up, then
// operations of 1 to 3 bytes each (see Op).

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace {

using netpoll_fuzz::Engine;
using netpoll_fuzz::Input;
namespace L = netpoll_fuzz::L;

// What JS writes to a peer: one pattern, so what the peer reads is checked by
// its offset in the stream.
uint8_t OutputByte(size_t at) { return static_cast<uint8_t>(at * 13 + 7); }

struct Conn {
  int peer = -1;  // -1 once closed
  int server = -1;
  netpoll::Framing framing;
  int linger_ms = 0;
  std::vector<uint8_t> sent;
  std::vector<uint8_t> received;
  bool paused = false;
  bool peer_shut = false;
  bool peer_closed = false;
  bool js_closed = false;
  bool lingering = false;  // a linger-done record is owed
  bool linger_done = false;
  bool too_large = false;
  bool hangup = false;
  int hangup_error = 0;
  bool input_end = false;
  int budget = -1;  // EndInput's answer, -1 before it
  size_t sent_at_end = 0;
  size_t written = 0;    // bytes JS queued for the peer
  size_t peer_read = 0;  // bytes the peer read back
};

// Whole frames (or, unframed, every byte) of `bytes[0, size)`.
netpoll_fuzz::FrameModel Model(const Conn& conn, size_t size) {
  if (conn.framing.header_size == 0) {
    netpoll_fuzz::FrameModel model;
    model.whole = size;
    return model;
  }
  return netpoll_fuzz::ModelFrames(conn.sent.data(), size, conn.framing.header_size,
                                   conn.framing.max_frame);
}

class Program {
 public:
  Program(Engine* engine, std::vector<Conn>* conns) : engine_(engine), conns_(*conns) {}

  // One batch, every record checked against the model.
  void Drain() {
    for (const Engine::Record& record : engine_->Drain()) Check(record);
  }

  void Check(const Engine::Record& record) {
    Conn* conn = Find(record.fd);
    FUZZ_CHECK_MSG(conn != nullptr, "a record for an fd no connection has");
    const std::string fd = " (fd " + std::to_string(record.fd) + ")";
    if (record.kind == L::kRecordLingerDone) {
      FUZZ_CHECK_MSG(conn->lingering && !conn->linger_done, "an unexpected linger-done" + fd);
      conn->linger_done = true;
      return;
    }
    FUZZ_CHECK_MSG(!conn->js_closed, "a record after JS closed the connection" + fd);
    FUZZ_CHECK_MSG(!conn->too_large, "a record after frame-too-large" + fd);
    switch (record.kind) {
      case L::kRecordData: {
        FUZZ_CHECK_MSG(!conn->hangup && !conn->input_end, "data after the input ended" + fd);
        const uint8_t* bytes = engine_->Bytes(record);
        const size_t size = static_cast<size_t>(record.b);
        const size_t at = conn->received.size();
        FUZZ_CHECK_MSG(at + size <= conn->sent.size() &&
                           memcmp(conn->sent.data() + at, bytes, size) == 0,
                       "data that is not the next bytes the peer sent" + fd);
        if (conn->framing.header_size > 0) {
          FUZZ_CHECK_MSG(netpoll_fuzz::WholeFrames(bytes, size, conn->framing.header_size,
                                                   conn->framing.max_frame),
                         "a data record that is not whole frames" + fd);
        }
        conn->received.insert(conn->received.end(), bytes, bytes + size);
        if (conn->budget >= 0) {
          FUZZ_CHECK_MSG(conn->received.size() <= conn->sent_at_end,
                         "data that arrived after EndInput" + fd);
        }
        if (retain_next_) engine_->Retain(record);
        break;
      }
      case L::kRecordFrameTooLarge: {
        const netpoll_fuzz::FrameModel model = Model(*conn, conn->sent.size());
        FUZZ_CHECK_MSG(conn->framing.header_size > 0 && model.too_large,
                       "frame-too-large for a frame within the limit" + fd);
        FUZZ_CHECK(static_cast<uint32_t>(record.a) == model.announced);
        FUZZ_CHECK_MSG(conn->received.size() == model.whole,
                       "frame-too-large before the frames ahead of it" + fd);
        conn->too_large = true;
        // JS closes the connection with ERR_NETPOLL_FRAME_TOO_LARGE.
        JsClose(conn);
        break;
      }
      case L::kRecordHangup: {
        FUZZ_CHECK_MSG(!conn->hangup, "a second hang-up" + fd);
        conn->hangup = true;
        conn->hangup_error = record.a;
        if (record.a == 0) {
          FUZZ_CHECK_MSG(conn->peer_shut || conn->peer_closed, "EOF the peer never sent" + fd);
          // Nothing lost: every whole frame the peer sent before its EOF has
          // arrived (after an EndInput, those of what had arrived by then).
          const size_t size = conn->budget >= 0 ? conn->sent_at_end : conn->sent.size();
          const netpoll_fuzz::FrameModel model = Model(*conn, size);
          FUZZ_CHECK_MSG(conn->received.size() == model.whole,
                         "EOF reported with input lost: " + std::to_string(conn->received.size()) +
                             " of " + std::to_string(model.whole) + " bytes arrived" +
                             (conn->paused ? " (reading paused)" : "") + fd);
        } else {
          // A reset: only a peer that closed with output unread causes one.
          FUZZ_CHECK_MSG(conn->peer_closed, "a hang-up error " + std::to_string(record.a) + fd);
        }
        break;
      }
      case L::kRecordInputEnd: {
        FUZZ_CHECK_MSG(conn->budget > 0 && !conn->input_end, "an unexpected input-end" + fd);
        conn->input_end = true;
        const netpoll_fuzz::FrameModel model = Model(*conn, conn->sent_at_end);
        FUZZ_CHECK_MSG(!model.too_large, "input-end instead of frame-too-large" + fd);
        FUZZ_CHECK_MSG(conn->received.size() == model.whole,
                       "input-end before what had arrived by EndInput" + fd);
        break;
      }
      default:
        netpoll_fuzz::Fail(__FILE__, __LINE__, "unexpected record kind " +
                                                   std::to_string(record.kind) + fd);
    }
  }

  void JsClose(Conn* conn) {
    if (conn->js_closed) return;
    engine_->ReleaseAll();  // JS frees the connection's input when it closes
    FUZZ_CHECK(engine_->reactor().Close(conn->server, conn->linger_ms) == 0);
    conn->js_closed = true;
    const int32_t flags = engine_->FdFlags(conn->server);
    conn->lingering = (flags & L::kFdFlagLingering) != 0;
    if (!conn->lingering) FUZZ_CHECK(!netpoll_fuzz::FdOpen(conn->server));
  }

  void set_retain(bool retain) { retain_next_ = retain; }

 private:
  Conn* Find(int fd) {
    for (Conn& conn : conns_) {
      if (conn.server == fd) return &conn;
    }
    return nullptr;
  }

  Engine* engine_;
  std::vector<Conn>& conns_;
  bool retain_next_ = false;
};

void PeerSend(Conn* conn, const uint8_t* bytes, size_t size) {
  if (conn->peer < 0 || conn->peer_shut || size == 0) return;
  const ssize_t written = send(conn->peer, bytes, size, MSG_NOSIGNAL);
  if (written > 0) {
    conn->sent.insert(conn->sent.end(), bytes, bytes + written);
  } else {
    // A full socket buffer (reading paused or parked), or the reactor's side
    // is gone (closed by JS, or reset).
    FUZZ_CHECK(written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EPIPE ||
                               errno == ECONNRESET));
  }
}

void PeerRead(Conn* conn, size_t most) {
  if (conn->peer < 0) return;
  std::vector<uint8_t> buffer(most);
  const ssize_t count = recv(conn->peer, buffer.data(), most, MSG_DONTWAIT);
  if (count <= 0) return;
  for (ssize_t i = 0; i < count; ++i) {
    FUZZ_CHECK_MSG(buffer[static_cast<size_t>(i)] == OutputByte(conn->peer_read + i),
                   "the peer read bytes JS never wrote");
  }
  conn->peer_read += static_cast<size_t>(count);
  FUZZ_CHECK(conn->peer_read <= conn->written);
}

enum Op : uint8_t {
  kSendBytes,   // conn, length: raw bytes taken from the input
  kSendFrame,   // conn, length: one well-formed frame (or an oversized header)
  kDrain,
  kRelease,     // how many of the oldest references
  kRetain,      // whether JS keeps the regions of the next records
  kPause,       // conn: SetReading(false), or true again
  kEndInput,    // conn
  kPeerShut,    // conn
  kPeerClose,   // conn
  kJsClose,     // conn
  kJsWrite,     // conn, length
  kPeerRead,    // conn, length
  kTick,        // 1 ms passes (lingering deadlines)
  kReregister,  // the pattern gets a new outbound index; the old one is released
  kStaleWrite,  // conn, length: a write naming a released index (dropped, never sent)
  kOpCount,
};

void FuzzOne(const uint8_t* data, size_t size) {
  Input input(data, size);
  const netpoll_fuzz::Sizes sizes = netpoll_fuzz::DrawSizes(&input);
  Engine engine(sizes);
  static constexpr int kHeaders[] = {0, 1, 2, 4};
  std::vector<Conn> conns(1 + input.Byte() % 3);
  for (Conn& conn : conns) {
    const uint8_t setup = input.Byte();
    conn.framing.header_size = kHeaders[setup % 4];
    if (conn.framing.header_size > 0) {
      const uint32_t limit = netpoll_fuzz::HeaderLimit(conn.framing.header_size);
      const uint32_t raw = input.U16();
      conn.framing.max_frame = 1 + raw % (limit < 2048 ? limit : 2048);
      engine.EnsureFrameCapacity(static_cast<size_t>(conn.framing.header_size) +
                                 conn.framing.max_frame);
    } else {
      input.Skip(2);
    }
    conn.linger_ms = (setup & 0x10) != 0 ? 5 : 0;
    const std::pair<int, int> pair = engine.Accept(conn.framing);
    conn.peer = pair.first;
    conn.server = pair.second;
  }
  // JS's outbound memory: the pattern, registered once.
  std::vector<uint8_t> outbound(4096);
  for (size_t i = 0; i < outbound.size(); ++i) outbound[i] = OutputByte(i);
  int outbound_slab = engine.AddOutboundSlab(outbound.data(), outbound.size());
  FUZZ_CHECK(outbound_slab >= 0);
  int stale_slab = -1;  // a released index: writes naming it must be dropped

  Program program(&engine, &conns);
  std::vector<uint8_t> frame;
  for (int steps = 0; input.left() > 0 && steps < 256; ++steps) {
    const uint8_t op = input.Byte() % kOpCount;
    Conn& conn = conns[input.Byte() % conns.size()];
    switch (op) {
      case kSendBytes: {
        const size_t length = 1 + input.Byte() % 64;
        const size_t take = length < input.left() ? length : input.left();
        PeerSend(&conn, input.rest(), take);
        input.Skip(take);
        break;
      }
      case kSendFrame: {
        if (conn.framing.header_size == 0) break;
        // A frame within the limit, or (rarely) a header one above it.
        const uint8_t shape = input.Byte();
        uint32_t length = shape % 200;
        if (length > conn.framing.max_frame) length = conn.framing.max_frame;
        if (shape == 0xff) length = conn.framing.max_frame + 1;
        frame.assign(static_cast<size_t>(conn.framing.header_size), 0);
        for (int i = 0; i < conn.framing.header_size; ++i) {
          frame[static_cast<size_t>(i)] =
              static_cast<uint8_t>(length >> (8 * (conn.framing.header_size - 1 - i)));
        }
        if (shape != 0xff) {
          for (uint32_t i = 0; i < length; ++i) frame.push_back(static_cast<uint8_t>(i + shape));
        }
        PeerSend(&conn, frame.data(), frame.size());
        break;
      }
      case kDrain:
        program.Drain();
        break;
      case kRelease:
        engine.Release(1 + input.Byte() % 8);
        break;
      case kRetain:
        program.set_retain((input.Byte() & 1) != 0);
        break;
      case kPause:
        if (conn.js_closed) break;
        conn.paused = !conn.paused;
        FUZZ_CHECK(engine.reactor().SetReading(conn.server, !conn.paused) == 0);
        break;
      case kEndInput: {
        if (conn.js_closed || conn.budget >= 0) break;
        const size_t sent = conn.sent.size();
        const int budget = engine.reactor().EndInput(conn.server);
        FUZZ_CHECK(budget >= 0);
        conn.budget = budget;
        conn.sent_at_end = sent;
        break;
      }
      case kPeerShut:
        if (conn.peer >= 0 && !conn.peer_shut) {
          FUZZ_CHECK(shutdown(conn.peer, SHUT_WR) == 0);
          conn.peer_shut = true;
        }
        break;
      case kPeerClose:
        if (conn.peer >= 0) {
          close(conn.peer);
          conn.peer = -1;
          conn.peer_closed = true;
        }
        break;
      case kJsClose:
        program.JsClose(&conn);
        break;
      case kJsWrite: {
        if (conn.js_closed) break;
        // Only whole writes of the stream's next bytes, from the pattern.
        const size_t length = 1 + input.Byte() % 200;
        const size_t offset = conn.written % 256;
        engine.Submit(L::kSubmitWrite, outbound_slab, conn.server, static_cast<int>(offset),
                      static_cast<int>(length));
        conn.written += length;
        // The pattern repeats every 256 bytes, so offset % 256 continues it.
        break;
      }
      case kPeerRead:
        PeerRead(&conn, 1 + input.Byte() % 255);
        break;
      case kTick:
        usleep(1000);
        program.Drain();
        break;
      case kReregister: {
        // The memory stays alive (native may still send from it); only its index changes. JS
        // releases an index only once native wrote what it queued from it, so what is queued is
        // processed first: the index may be handed out again at once, and a write still queued
        // under it would then name the new memory.
        engine.ProcessSubmissions();
        const int fresh = engine.AddOutboundSlab(outbound.data(), outbound.size());
        FUZZ_CHECK(fresh != outbound_slab);
        FUZZ_CHECK(engine.ReleaseOutboundSlab(outbound_slab) == 0);
        FUZZ_CHECK(engine.ReleaseOutboundSlab(outbound_slab) == -EINVAL);
        stale_slab = outbound_slab;
        outbound_slab = fresh;
        break;
      }
      case kStaleWrite: {
        const size_t length = 1 + input.Byte() % 200;
        if (stale_slab < 0 || conn.js_closed) break;
        // Not counted in conn.written: the peer must never see these bytes.
        engine.Submit(L::kSubmitWrite, stale_slab, conn.server, 0, static_cast<int>(length));
        break;
      }
    }
  }

  // Wind down: JS resumes every connection and lets go of its references,
  // each peer ends its input; every connection must reach its end.
  program.set_retain(false);
  engine.ReleaseAll();
  for (Conn& conn : conns) {
    if (conn.peer >= 0 && !conn.peer_shut) {
      FUZZ_CHECK(shutdown(conn.peer, SHUT_WR) == 0);
      conn.peer_shut = true;
    }
    if (conn.js_closed) continue;
    if (conn.paused) FUZZ_CHECK(engine.reactor().SetReading(conn.server, true) == 0);
    conn.paused = false;
  }
  auto ended = [](const Conn& conn) {
    if (conn.js_closed) return !conn.lingering || conn.linger_done;
    if (conn.hangup || conn.input_end) return true;
    return conn.budget == 0;  // an input ended with nothing left to read: no record follows
  };
  uint64_t start = netpoll_fuzz::NowMs();
  for (;;) {
    bool all = true;
    for (Conn& conn : conns) {
      all = all && ended(conn);
      if (conn.peer >= 0) PeerRead(&conn, 4096);  // lingering closes wait for the peer to read
    }
    if (all) break;
    FUZZ_CHECK_MSG(netpoll_fuzz::NowMs() - start < static_cast<uint64_t>(netpoll_fuzz::kStuckMs),
                   "a connection never reached its end");
    netpoll_fuzz::WaitReadable(engine.reactor().poll_fd(), 1);
    program.Drain();
    engine.ReleaseAll();
  }
  for (Conn& conn : conns) {
    if (!conn.js_closed) program.JsClose(&conn);
    // A second close cuts a lingering one off, as a shutdown deadline does.
    if (conn.lingering && !conn.linger_done) {
      FUZZ_CHECK(engine.reactor().Close(conn.server, 0) == 0);
    }
    FUZZ_CHECK(!netpoll_fuzz::FdOpen(conn.server));
    if (conn.peer >= 0) close(conn.peer);
  }
  engine.ReleaseAll();
  FUZZ_CHECK(engine.reactor().lingering_count() == 0);
  FUZZ_CHECK(engine.reactor().stalled_count() == 0);
  FUZZ_CHECK(engine.reactor().active_count() == 1);  // the listener
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzOne(data, size);
  return 0;
}
