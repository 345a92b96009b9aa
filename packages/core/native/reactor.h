// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The reactor engine: one level-triggered Poller, the fd table, inbound
// slabs, outbound write queues, native framing and accept back-off. It is
// pure C++ (no <napi.h>, no libuv) so the native test suite drives it
// directly; reactor_wrap.cc connects it to Node (one uv_poll on poll_fd(),
// one JS call per Drain(), hooks that call ProcessSubmissions()).
//
// Data path:
//   Drain():  Wait(timeout 0) → accept / connect completion / one recv per
//             readable socket into the current inbound slab / EPOLLOUT
//             flushes → compact records in the control block.
//   JS:       walks the records once, appends slab regions to readers, runs
//             handlers, queues (slab, offset, length) writes and closes.
//   ProcessSubmissions(): one writev per dirty connection; EAGAIN keeps the
//             rest and arms writable interest (backpressure).
//
// Memory rules: slabs are JS ArrayBuffers registered once; the engine keeps
// raw pointers. It never writes into an inbound slab below the current
// write offset, and resets a slab only when its JS reference count (in the
// control block) is zero and no record of the current batch points into it.
// Outbound regions are only read, and JS keeps them alive until the per-fd
// written counter shows they went out.
//
// Slab exhaustion: when a readable connection finds no inbound slab it may
// use (every slab is referenced by JS), its read interest is dropped and it
// joins a FIFO of stalled connections; its data stays in the kernel, so the
// peer sees TCP backpressure and level-triggered readiness cannot spin. The
// batch flag kBatchFlagNeedSlab asks JS for another slab (JS grows the pool
// up to its memory cap). ResumeStalledReads(), run at the start of every
// Drain() and from the loop hooks, arms stalled connections again once a
// slab large enough is unreferenced, oldest first and no more than the free
// memory can take.
//
// Lingering close: a close asked for by JS keeps the fd open while closing
// it at once could lose or reset bytes the peer is owed: output still
// queued here, bytes the peer has not acknowledged, or unread input (closing
// with unread input makes the kernel send RST, and the peer's kernel then
// drops what it had not delivered yet). The connection finishes writing,
// shuts down its write side (the peer reads EOF after the last byte), reads
// and discards input, and closes once the peer's EOF arrives (or an error),
// or the linger deadline passes.
// Output still queued is copied out of JS memory when the linger starts, so
// a slow peer never keeps slabs pinned. JS has forgotten the connection by
// then; it learns that the fd is closed from a kRecordLingerDone record (and
// the fd's kFdFlagLingering bit).
//
// Thread rules: every method runs on the owning JS thread.

#ifndef NETPOLL_NATIVE_REACTOR_H_
#define NETPOLL_NATIVE_REACTOR_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "poller.h"
#include "socket.h"

namespace netpoll {

struct ReactorLimits {
  int max_events = 1024;            // events taken per Drain()
  size_t max_batch_bytes = 4 << 20;  // bytes read per Drain()
  size_t read_size = 64 << 10;       // upper bound of one recv()
  size_t min_read = 4 << 10;         // smaller slab tails are skipped
  int accepts_per_event = 64;        // accept4 calls per listener event
};

// Framing applied to a connection's input: 0 disables it.
struct Framing {
  int header_size = 0;      // 1, 2 or 4 bytes, big-endian length
  uint32_t max_frame = 0;   // larger announced lengths close the connection
};

class Reactor {
 public:
  Reactor() = default;
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Opens the poller and adopts the shared memory: `control` has
  // layout::kControlInts words, `fd_state` has max_fds * kFdStateInts words,
  // `stats` has layout::kStatCount doubles. Returns 0 or -errno.
  int Open(int32_t* control, int32_t* fd_state, int max_fds, double* stats,
           const ReactorLimits& limits);

  // Closes every fd this reactor owns (listeners, connections, pending
  // dials) and the poller. Safe to call twice.
  void Shutdown();

  int poll_fd() const { return poller_.fd(); }

  // Number of registered fds; the wrapper keeps the loop alive while > 0.
  int active_count() const { return active_count_; }

  // Registers JS memory. Returns the slab index or -ENOSPC: inbound slabs
  // take indices below kMaxSlabs, outbound ones kMaxSlabs and up (at most
  // kMaxOutboundSlabs at once, each taken in O(1): output queued for many slow
  // peers registers one per large write).
  int AddSlab(uint8_t* data, size_t length, bool inbound);

  // Unregisters an outbound slab index (its memory is no longer used by any
  // pending write). Returns 0 or -EINVAL. The index may be handed out again.
  int ReleaseSlab(int index);

  // Creates a listener that is registered but not yet accepting; call
  // SetReading(fd, true) to start accepting (EventLoop.serve).
  int Listen(const Endpoint& endpoint, int backlog, bool reuse_port = false);

  // Registers a duplicate of a listening socket owned by someone else (for
  // example another thread's reactor) as a listener of this reactor, not yet
  // accepting. The duplicate belongs to this reactor: Close() and Shutdown()
  // close it and never touch `fd`. Several reactors adopting one socket share
  // its accept queue; a reactor that loses the race for a connection gets
  // EAGAIN and waits for the next readiness. Returns the new fd or -errno.
  int AdoptListener(int fd);
  int Connect(const Endpoint& endpoint, const Framing& framing);

  // Sets the framing of a connection, or the framing a listener gives the
  // connections it accepts from now on. 0 or -EBADF.
  int SetFraming(int fd, const Framing& framing);

  // Pauses (false) or resumes (true) reading a connection, or accepting on
  // a listener. 0 or -errno.
  int SetReading(int fd, bool reading);

  // Closes an fd. A stream connection with output the peer is owed (see
  // "Lingering close" above) lingers for up to `linger_ms` before its fd
  // closes; with `linger_ms` 0, or nothing owed, pending output is attempted
  // once and the fd closes now (a lingering connection is cut off: the call
  // returns 1 when output was still undelivered). A close that drops output
  // resets the peer (TCP), so it does not take an EOF for the end of a stream
  // cut short: `linger_ms` < 0 (work on the connection was cut) always does,
  // 0 when output is left that the kernel never took, and a lingering close
  // cut at its deadline or by a second close when output is undelivered. A
  // listener closed with `linger_ms` > 0 first accepts the connections
  // waiting in its backlog and closes them lingering, so their peers see
  // EOF, not a reset. 0 (1: see above) or -EBADF.
  int Close(int fd, int linger_ms = 0);

  // Graceful shutdown of a connection's input: from now on JS gets only the
  // bytes that had arrived in the kernel by this call (framing may hold back
  // a partial frame), then reading stops for good and a kRecordInputEnd
  // record follows. Returns the byte budget (0: reading stopped already, no
  // record follows) or -errno.
  int EndInput(int fd);

  // Lingering closes in progress.
  int lingering_count() const { return lingering_count_; }

  // One batch: fills the record area and the header. Returns the number of
  // records; the caller calls JS when it is > 0 or a flag is set.
  int Drain();

  // Executes queued submissions (writes, closes) and flushes dirty
  // connections. Returns the number processed.
  int ProcessSubmissions();

  // Arms stalled connections again when an inbound slab they can use is no
  // longer referenced by JS. Cheap when nothing is stalled. Returns the
  // number of connections resumed.
  int ResumeStalledReads();

  // Connections whose reading is parked because no inbound slab was free.
  int stalled_count() const { return stalled_count_; }

  // Accept back-off: a delay in ms when a listener is paused by EMFILE or
  // ENFILE and a timer should call ResumeAccept(), or 0.
  int TakeBackoffDelay();
  void ResumeAccept();

 private:
  enum Kind { kStream, kListener, kConnecting };

  struct Connection {
    int fd = -1;
    Kind kind = kStream;
    uint32_t interest = 0;
    bool registered = false;
    bool reading = true;
    bool blocked = false;        // EAGAIN seen; waiting for writable
    bool dirty = false;          // queued in dirty_ for this round
    bool paused_accept = false;  // listener backed off
    bool stalled = false;        // read parked: no inbound slab was free
    bool peer_eof = false;       // read returned 0: the peer sends nothing more
    bool hup_parked = false;     // hung up while not reading, input unread: unwatched until
                                 // reading resumes (see OnStreamReady)
    bool failed = false;         // the socket reported an error (reset)
    bool lingering = false;      // closed by JS, finishing what the peer is owed
    bool write_shut = false;     // shutdown(SHUT_WR) done while lingering
    int64_t read_budget = -1;    // bytes JS may still get after EndInput, -1 = any
    uint64_t linger_deadline = 0;  // monotonic ms
    std::vector<uint8_t> linger_output;  // queued output copied out of JS memory
    size_t stall_need = 0;       // slab bytes the parked read needs
    Framing framing;
    std::vector<uint8_t> carry;  // partial frame, framing only
    std::vector<struct iovec> pending;
    size_t pending_head = 0;
  };

  struct Slab {
    uint8_t* data = nullptr;
    size_t length = 0;
    size_t offset = 0;      // inbound write offset
    size_t high_water = 0;  // bytes ever written since the last reset
    bool used_in_batch = false;
  };

  Connection* Lookup(int fd) const;
  int Register(Connection* connection, uint32_t interest);
  void Unregister(Connection* connection);
  void SetInterest(Connection* connection, uint32_t interest);
  void Destroy(Connection* connection);

  bool Emit(int kind, int slab, int fd, int a, int b);
  bool HasRoom(int records) const;
  int EnsureSlab(size_t need);
  void ResetSlab(Slab* slab);
  bool AnyFreeSlab(size_t need) const;
  void StallRead(Connection* connection, size_t need);
  void DropStaleStalls();
  uint32_t ReadInterest(const Connection* connection) const;

  int RegisterListener(int fd);
  void OnListenerReady(Connection* listener);
  void OnConnectReady(Connection* connection);
  void OnStreamReady(Connection* connection, uint32_t events);
  void ReadOnce(Connection* connection);
  void ReadIntoCarry(Connection* connection, size_t frame_size);
  void EmitFrames(Connection* connection, int slab_index, size_t total);
  void Hangup(Connection* connection, int error);
  void ConsumeBudget(Connection* connection, size_t count);
  void Watch(Connection* connection, uint32_t interest);
  void SetReadInterest(Connection* connection, uint32_t interest);

  // Lingering close (see the file comment).
  bool OwesPeer(Connection* connection) const;
  // True while output this end queued has not all reached the peer.
  bool OwesOutput(Connection* connection) const;
  void StartLinger(Connection* connection, int linger_ms);
  void OnLingerReady(Connection* connection, uint32_t events);
  void ShutWrite(Connection* connection);
  void FinishLinger(Connection* connection, bool expired, bool emit);
  void SweepLingering();
  void SweepBacklog(Connection* listener, int linger_ms);

  // Writes pending output. Returns 0, -EAGAIN (blocked) or another -errno.
  int FlushOutput(Connection* connection);

  int32_t Ref(int slab) const;
  void Count(int stat, double amount = 1) { stats_[stat] += amount; }

  Poller poller_;
  ReactorLimits limits_;
  int32_t* control_ = nullptr;
  int32_t* fd_state_ = nullptr;
  double* stats_ = nullptr;
  int max_fds_ = 0;
  std::vector<Connection*> table_;
  std::vector<Slab> slabs_;  // inbound, by index
  // Outbound memory by index - kMaxSlabs, kept apart so that the per-batch
  // walks over inbound slabs do not grow with the output queued.
  std::vector<struct iovec> outbound_;
  std::vector<int> free_outbound_;  // released outbound positions, reused first
  std::vector<PollResult> results_;
  std::vector<int> dirty_;
  std::vector<int> stalled_;  // FIFO of parked fds (stale entries skipped)
  std::vector<int> lingering_;  // fds of lingering connections (stale entries skipped)
  std::vector<uint8_t> discard_;  // input read and dropped while lingering
  int lingering_count_ = 0;
  int stalled_count_ = 0;
  int current_slab_ = -1;
  size_t smallest_inbound_ = 0;  // length of the smallest inbound slab (0: none yet)
  // This batch found no free slab smaller than the current one for reads needing at least this
  // many bytes (0: not scanned yet).
  size_t no_smaller_for_ = 0;
  int record_count_ = 0;
  size_t batch_bytes_ = 0;
  int active_count_ = 0;
  int backoff_step_ = 0;
  int paused_listeners_ = 0;
  bool backoff_wanted_ = false;
  bool open_ = false;
};

}  // namespace netpoll

#endif  // NETPOLL_NATIVE_REACTOR_H_
