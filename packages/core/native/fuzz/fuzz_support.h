// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// What the libFuzzer targets share: a real Reactor (the engine sources,
// linked as they are) with its shared memory laid out as the JS side lays it
// out, a peer socket connected through an adopted Unix listener (accepted
// connections take the listener's framing, as in EventLoop.serve), and a
// model of the JS side that reads the batch records the way the dispatcher
// does: it checks every record against the slab table, copies the data out,
// and may keep slab references like unconsumed LinkBuffer nodes, checking
// when it lets them go that native never wrote into memory JS still held.
//
// A broken invariant aborts with a message (libFuzzer reports it as a crash
// and saves the input). Nothing here waits long: a target that stops making
// progress fails after kStuckMs rather than hanging the run.

#ifndef NETPOLL_NATIVE_FUZZ_FUZZ_SUPPORT_H_
#define NETPOLL_NATIVE_FUZZ_FUZZ_SUPPORT_H_

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "layout.h"
#include "reactor.h"
#include "socket.h"

namespace netpoll_fuzz {

namespace L = netpoll::layout;

// No progress for this long while progress is owed counts as a hang. Every
// wait in the targets is for readiness the kernel reports at once (Unix
// sockets on one machine), so only a bug gets anywhere near it.
constexpr int kStuckMs = 1000;

[[noreturn]] inline void Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(condition)                                            \
  do {                                                                   \
    if (!(condition)) netpoll_fuzz::Fail(__FILE__, __LINE__, #condition); \
  } while (0)

#define FUZZ_CHECK_MSG(condition, message)                                                    \
  do {                                                                                        \
    if (!(condition)) netpoll_fuzz::Fail(__FILE__, __LINE__, std::string(#condition) + ": " + \
                                                                 (message));                  \
  } while (0)

// Reads the fuzz input front to back; past the end it yields zeros, so every
// input is a valid program.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return offset_ < size_ ? data_[offset_++] : 0; }
  uint32_t U16() { return static_cast<uint32_t>(Byte()) << 8 | Byte(); }
  uint32_t U24() { return U16() << 8 | Byte(); }
  size_t left() const { return size_ - offset_; }
  const uint8_t* rest() const { return data_ + offset_; }
  void Skip(size_t count) { offset_ += count < left() ? count : left(); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

// A tiny deterministic PRNG (xorshift32): split points and retention drawn
// from a seed in the input, so one input always replays the same run.
class Rng {
 public:
  explicit Rng(uint32_t seed) : state_(seed * 2654435761u + 1) {}
  uint32_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  // Uniform-ish in [low, high].
  size_t Range(size_t low, size_t high) { return low + Next() % (high - low + 1); }

 private:
  uint32_t state_;
};

inline uint32_t ReadLength(const uint8_t* bytes, int header_size) {
  uint32_t length = 0;
  for (int i = 0; i < header_size; ++i) length = (length << 8) | bytes[i];
  return length;
}

// The largest length a header of `header_size` bytes can announce, capped
// as the JS options cap maxFrameSize (256 MiB for a 4-byte header).
inline uint32_t HeaderLimit(int header_size) {
  return header_size == 1 ? 0xffu : header_size == 2 ? 0xffffu : 256u << 20;
}

// What native framing must make of a byte stream: the prefix of whole frames
// it delivers, and whether it stops at an oversized header (and the length
// that header announced).
struct FrameModel {
  size_t whole = 0;         // bytes of complete frames before any stop
  bool too_large = false;   // a header announced more than max_frame
  uint32_t announced = 0;   // what it announced
};

inline FrameModel ModelFrames(const uint8_t* stream, size_t size, int header_size,
                              uint32_t max_frame) {
  FrameModel model;
  const size_t header = static_cast<size_t>(header_size);
  size_t at = 0;
  while (size - at >= header) {
    const uint32_t length = ReadLength(stream + at, header_size);
    if (length > max_frame) {
      model.too_large = true;
      model.announced = length;
      break;
    }
    if (size - at - header < length) break;
    at += header + length;
  }
  model.whole = at;
  return model;
}

// True when `bytes` is exactly a run of whole frames (each within max_frame).
inline bool WholeFrames(const uint8_t* bytes, size_t size, int header_size, uint32_t max_frame) {
  const FrameModel model = ModelFrames(bytes, size, header_size, max_frame);
  return !model.too_large && model.whole == size;
}

inline bool WaitReadable(int fd, int timeout_ms) {
  struct pollfd entry {};
  entry.fd = fd;
  entry.events = POLLIN;
  return poll(&entry, 1, timeout_ms) == 1;
}

inline bool FdOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

inline uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// One listening Unix socket per fuzzing process; each run's reactor adopts a
// duplicate of it (AdoptListener, as worker reactors share a listener), so a
// run costs no bind() and leaves no socket file behind between runs.
class SharedListener {
 public:
  static SharedListener& Get() {
    static SharedListener listener;
    return listener;
  }
  int fd() const { return fd_; }
  const sockaddr_un& address() const { return address_; }

  // A non-blocking peer connected to the listener (the accept is pending).
  int Connect() const {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof(address_)) == 0);
    return fd;
  }

 private:
  SharedListener() {
    std::snprintf(path_, sizeof(path_), "/tmp/netpoll-fuzz-%d.sock", static_cast<int>(getpid()));
    unlink(path_);
    address_.sun_family = AF_UNIX;
    std::strncpy(address_.sun_path, path_, sizeof(address_.sun_path) - 1);
    // Non-blocking, like every listener a reactor creates (the duplicates share that).
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd_ >= 0);
    FUZZ_CHECK(bind(fd_, reinterpret_cast<const sockaddr*>(&address_), sizeof(address_)) == 0);
    FUZZ_CHECK(listen(fd_, 64) == 0);
    std::atexit([] { unlink(Get().path_); });
  }
  char path_[64] = {};
  sockaddr_un address_{};
  int fd_ = -1;
};

// Memory for one inbound slab (JS: an ArrayBuffer). Small slabs live on the
// heap, where ASan's redzones catch any access past either end; large ones
// (a frame-capacity slab for maxFrameSize 256 MiB is that large) are mapped
// lazily, ending right before an inaccessible guard page, so only the pages
// native writes cost anything and a write past the end faults at once.
class SlabMemory {
 public:
  explicit SlabMemory(size_t size) : size_(size) {
    if (size < kMapAbove) {
      heap_.assign(size, 0);
      data_ = heap_.data();
      return;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    mapped_ = (size + page - 1) / page * page + page;
    void* base = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    FUZZ_CHECK(base != MAP_FAILED);
    base_ = static_cast<uint8_t*>(base);
    FUZZ_CHECK(mprotect(base_ + mapped_ - page, page, PROT_NONE) == 0);
    data_ = base_ + mapped_ - page - size;
  }
  ~SlabMemory() {
    if (base_ != nullptr) munmap(base_, mapped_);
  }
  SlabMemory(const SlabMemory&) = delete;
  SlabMemory& operator=(const SlabMemory&) = delete;
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kMapAbove = 1 << 20;
  size_t size_;
  std::vector<uint8_t> heap_;
  uint8_t* base_ = nullptr;
  size_t mapped_ = 0;
  uint8_t* data_ = nullptr;
};

// The sizes of one run, drawn from the input within what the JS side can
// configure, scaled: JS reads at most 64 KiB (read_size) into slabs of at
// least 16 KiB with 4 KiB as the smallest useful read (min_read), i.e.
// read_size = 16 * min_read and slabs >= 4 * min_read. Scaling min_read down
// keeps those ratios while letting small inputs reach every path (frames
// above read_size, slabs too full for a read, the batch byte limit).
struct Sizes {
  netpoll::ReactorLimits limits;
  size_t slab_size = 0;     // the two start-up slabs and every grown one
  size_t grow_slabs = 0;    // slabs JS may add when native asks (maxInboundMemory)
  bool poison = false;      // NETPOLL_DEBUG: native poisons reused slab memory
};

inline Sizes DrawSizes(Input* input) {
  static constexpr size_t kMinReads[] = {1, 2, 4, 8, 16, 64, 256, 4096};
  static constexpr int kEvents[] = {1, 2, 64};
  Sizes sizes;
  const uint8_t scale = input->Byte();
  const size_t min_read = kMinReads[scale % 8];
  sizes.limits.min_read = min_read;
  sizes.limits.read_size = 16 * min_read;
  sizes.slab_size = min_read * (4 + input->Byte() % 125);
  sizes.limits.max_batch_bytes = sizes.limits.read_size * (1 + input->Byte() % 64) / 4;
  const uint8_t events = input->Byte();
  sizes.limits.max_events = kEvents[events % 3];
  sizes.poison = (events & 0x80) != 0;
  sizes.grow_slabs = input->Byte() % 4;
  return sizes;
}

// A reactor and everything the JS side owns around it.
class Engine {
 public:
  struct Record {
    int kind, slab, fd, a, b;
  };

  explicit Engine(const Sizes& sizes) : sizes_(sizes) {
    control_.assign(L::kControlInts, 0);
    fd_state_.assign(static_cast<size_t>(kMaxFds) * L::kFdStateInts, 0);
    stats_.assign(L::kStatCount, 0);
    FUZZ_CHECK(reactor_.Open(control_.data(), fd_state_.data(), kMaxFds, stats_.data(),
                             sizes.limits) == 0);
    if (sizes.poison) control_[L::kHeaderDebug] = 1;
    // JS registers two slabs at start-up (Reactor constructor).
    AddSlab(sizes.slab_size);
    AddSlab(sizes.slab_size);
    listener_ = reactor_.AdoptListener(SharedListener::Get().fd());
    FUZZ_CHECK(listener_ >= 0);
  }

  netpoll::Reactor& reactor() { return reactor_; }
  int listener() const { return listener_; }
  const std::vector<double>& stats() const { return stats_; }

  // InboundSlabs.ensureFrameCapacity: with native framing, a slab that holds
  // a whole frame of header + maxFrameSize bytes exists (added when no slab
  // is that large); grown slabs then take that size when none of it is free.
  void EnsureFrameCapacity(size_t frame_bytes) {
    if (frame_bytes <= frame_bytes_) return;
    frame_bytes_ = frame_bytes;
    if (frame_bytes > sizes_.slab_size && !HasSlabOf(frame_bytes)) AddSlab(frame_bytes);
  }

  // A peer connected through the listener, and the fd the reactor accepted
  // for it (with the listener's framing at that moment).
  std::pair<int, int> Accept(const netpoll::Framing& framing) {
    FUZZ_CHECK(reactor_.SetFraming(listener_, framing) == 0);
    FUZZ_CHECK(reactor_.SetReading(listener_, true) == 0);
    const int peer = SharedListener::Get().Connect();
    int server = -1;
    const uint64_t start = NowMs();
    while (server < 0) {
      FUZZ_CHECK_MSG(NowMs() - start < kStuckMs, "no accept record");
      WaitReadable(reactor_.poll_fd(), 10);
      for (const Record& record : Drain()) {
        if (record.kind == L::kRecordAccept) {
          FUZZ_CHECK(record.a == listener_);
          server = record.fd;
        }
      }
    }
    FUZZ_CHECK(reactor_.SetReading(listener_, false) == 0);
    return {peer, server};
  }

  // One batch, as the dispatcher sees it: every record is checked and data
  // records are copied out at once (a slab without references may be reused
  // by the next Drain). JS grows the slab pool when native asks for a slab.
  std::vector<Record> Drain() {
    reactor_.ProcessSubmissions();
    const int count = reactor_.Drain();
    FUZZ_CHECK(count >= 0 && count <= L::kMaxRecords);
    FUZZ_CHECK(control_[L::kHeaderRecordCount] == count);
    std::vector<Record> records;
    for (int i = 0; i < count; ++i) {
      const int32_t* word = control_.data() + L::kRecordBase + i * L::kRecordInts;
      Record record{word[0] & 0xff, static_cast<int>(static_cast<uint32_t>(word[0]) >> 8),
                    word[1], word[2], word[3]};
      FUZZ_CHECK(record.kind >= L::kRecordData && record.kind <= L::kRecordInputEnd);
      if (record.kind == L::kRecordData) {
        FUZZ_CHECK(record.slab >= 0 && static_cast<size_t>(record.slab) < slabs_.size());
        FUZZ_CHECK_MSG(slabs_[static_cast<size_t>(record.slab)] != nullptr,
                       "a data record in an outbound slab");
        const SlabMemory& slab = *slabs_[static_cast<size_t>(record.slab)];
        FUZZ_CHECK(record.a >= 0 && record.b > 0);
        FUZZ_CHECK(static_cast<size_t>(record.a) + static_cast<size_t>(record.b) <= slab.size());
      }
      records.push_back(record);
    }
    if ((control_[L::kHeaderFlags] & L::kBatchFlagNeedSlab) != 0) Grow();
    return records;
  }

  // Queues a submission (a write or a close) as JS does; the next Drain
  // processes it first.
  void Submit(int op, int slab, int fd, int a, int b) {
    const int index = control_[L::kHeaderSubmitCount]++;
    FUZZ_CHECK(index < L::kMaxSubmits);
    int32_t* entry = control_.data() + L::kSubmitBase + index * L::kRecordInts;
    entry[0] = op | (slab << 8);
    entry[1] = fd;
    entry[2] = a;
    entry[3] = b;
  }

  int32_t FdFlags(int fd) const {
    return fd_state_[static_cast<size_t>(fd) * L::kFdStateInts + L::kFdFlags];
  }

  // The bytes of a data record (valid until the next Drain unless retained).
  const uint8_t* Bytes(const Record& record) const {
    return slabs_[static_cast<size_t>(record.slab)]->data() + record.a;
  }

  // Keeps a reference on the record's slab, as a LinkBuffer node over the
  // region would, with a copy to check the region against when released.
  void Retain(const Record& record) {
    ++control_[static_cast<size_t>(L::kSlabRefBase + record.slab)];
    const uint8_t* bytes = Bytes(record);
    retained_.push_back({record.slab, record.a, std::vector<uint8_t>(bytes, bytes + record.b)});
  }

  size_t retained() const { return retained_.size(); }

  // Drops the `count` oldest references. Native must not have written into a
  // region while it was referenced.
  void Release(size_t count) {
    if (count > retained_.size()) count = retained_.size();
    for (size_t i = 0; i < count; ++i) {
      const Held& held = retained_[i];
      const uint8_t* now = slabs_[static_cast<size_t>(held.slab)]->data() + held.offset;
      FUZZ_CHECK_MSG(memcmp(now, held.bytes.data(), held.bytes.size()) == 0,
                     "native wrote into slab memory JS still referenced");
      int32_t& ref = control_[static_cast<size_t>(L::kSlabRefBase + held.slab)];
      FUZZ_CHECK(ref > 0);
      --ref;
    }
    retained_.erase(retained_.begin(), retained_.begin() + static_cast<std::ptrdiff_t>(count));
  }

  void ReleaseAll() { Release(retained_.size()); }

  // JS's outbound memory (reactor.ts, #registerOutbound): indices from
  // kMaxSlabs up, apart from the inbound slabs (never a data record).
  int AddOutboundSlab(uint8_t* data, size_t size) {
    const int index = reactor_.AddSlab(data, size, false);
    FUZZ_CHECK(index >= L::kMaxSlabs);
    return index;
  }

  // JS unregistering outbound memory (its bytes were written, or it is freed).
  int ReleaseOutboundSlab(int index) { return reactor_.ReleaseSlab(index); }

  // Native processes the queued submissions now (JS's flush, or a loop hook).
  void ProcessSubmissions() { reactor_.ProcessSubmissions(); }

 private:
  static constexpr int kMaxFds = 4096;

  struct Held {
    int slab;
    int offset;
    std::vector<uint8_t> bytes;
  };

  void AddSlab(size_t size) {
    slabs_.push_back(std::make_unique<SlabMemory>(size));
    const int index = reactor_.AddSlab(slabs_.back()->data(), size, true);
    FUZZ_CHECK(index == static_cast<int>(slabs_.size()) - 1);
  }

  bool HasSlabOf(size_t size) const {
    for (const auto& slab : slabs_) {
      if (slab != nullptr && slab->size() >= size) return true;
    }
    return false;
  }

  bool FreeSlabOf(size_t size) const {
    for (size_t i = 0; i < slabs_.size(); ++i) {
      if (slabs_[i] != nullptr && slabs_[i]->size() >= size &&
          control_[L::kSlabRefBase + i] == 0) {
        return true;
      }
    }
    return false;
  }

  // InboundSlabs.grow: one slab per request while within the memory cap.
  void Grow() {
    if (grown_ >= sizes_.grow_slabs) return;
    ++grown_;
    AddSlab(frame_bytes_ > sizes_.slab_size && !FreeSlabOf(frame_bytes_) ? frame_bytes_
                                                                          : sizes_.slab_size);
  }

  Sizes sizes_;
  std::vector<int32_t> control_;
  std::vector<int32_t> fd_state_;
  std::vector<double> stats_;
  std::vector<std::unique_ptr<SlabMemory>> slabs_;  // inbound, by reactor index
  std::vector<Held> retained_;
  size_t frame_bytes_ = 0;
  size_t grown_ = 0;
  int listener_ = -1;
  // Declared last: destroyed first, while the memory it points into lives.
  netpoll::Reactor reactor_;
};

}  // namespace netpoll_fuzz

#endif  // NETPOLL_NATIVE_FUZZ_FUZZ_SUPPORT_H_
