// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Reactor engine; see reactor.h for the data path and the memory rules.
// The accept back-off follows cloudwego/netpoll's EMFILE handling (detach
// the listener, retry with growing delays, re-attach when accept works).

#include "reactor.h"

#include <time.h>

#include <climits>
#include <cstring>

#include "layout.h"
#include "result.h"

namespace netpoll {
namespace {

using namespace layout;  // NOLINT(build/namespaces): layout constants only.

// Accept back-off delays in milliseconds, staying at the last one.
constexpr int kBackoffDelays[] = {10, 50, 100, 200, 500, 1000};
constexpr int kBackoffSteps = sizeof(kBackoffDelays) / sizeof(int);
constexpr int kMaxIovecs = 1024;  // IOV_MAX on Linux and macOS
constexpr uint8_t kPoisonByte = 0xDB;
constexpr size_t kDiscardSize = 64 << 10;  // scratch for input read while lingering
constexpr int kDiscardReads = 4;           // discarding reads per event (the rest: next batch)
constexpr int kBacklogSweep = 4096;        // connections a closing listener accepts at most

uint64_t NowMs() {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000u + static_cast<uint64_t>(now.tv_nsec) / 1000000u;
}

uint32_t ReadLength(const uint8_t* bytes, int header_size) {
  uint32_t length = 0;
  for (int i = 0; i < header_size; ++i) length = (length << 8) | bytes[i];
  return length;
}

}  // namespace

Reactor::~Reactor() { Shutdown(); }

int Reactor::Open(int32_t* control, int32_t* fd_state, int max_fds,
                  double* stats, const ReactorLimits& limits) {
  int status = poller_.Open();
  if (status < 0) return status;
  control_ = control;
  fd_state_ = fd_state;
  stats_ = stats;
  max_fds_ = max_fds;
  limits_ = limits;
  table_.assign(static_cast<size_t>(max_fds), nullptr);
  results_.resize(static_cast<size_t>(limits.max_events));
  open_ = true;
  return 0;
}

void Reactor::Shutdown() {
  if (!open_) return;
  open_ = false;
  for (Connection* connection : table_) {
    if (connection == nullptr) continue;
    CloseSocket(connection->fd);
    delete connection;
  }
  table_.clear();
  stalled_.clear();
  stalled_count_ = 0;
  lingering_.clear();
  lingering_count_ = 0;
  active_count_ = 0;
  poller_.Close();
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

Reactor::Connection* Reactor::Lookup(int fd) const {
  if (fd < 0 || fd >= max_fds_ || !open_) return nullptr;
  return table_[static_cast<size_t>(fd)];
}

int Reactor::Register(Connection* connection, uint32_t interest) {
  if (connection->fd >= max_fds_) return -EMFILE;
  int status = poller_.Add(connection->fd, interest);
  if (status < 0) return status;
  connection->interest = interest;
  connection->registered = true;
  table_[static_cast<size_t>(connection->fd)] = connection;
  int32_t* state = fd_state_ + connection->fd * kFdStateInts;
  state[kFdWritten] = 0;
  state[kFdFlags] = 0;
  ++active_count_;
  return 0;
}

void Reactor::Unregister(Connection* connection) {
  // A connection that is no longer watched is never read again, so it
  // cannot stay parked either.
  if (connection->stalled) {
    connection->stalled = false;
    // The FIFO only holds stale entries now.
    if (--stalled_count_ == 0) stalled_.clear();
  }
  if (!connection->registered) return;
  poller_.Remove(connection->fd, connection->interest);
  connection->registered = false;
  connection->interest = 0;
}

void Reactor::SetInterest(Connection* connection, uint32_t interest) {
  if (!connection->registered || connection->interest == interest) return;
  if (poller_.Modify(connection->fd, connection->interest, interest) == 0)
    connection->interest = interest;
}

void Reactor::Destroy(Connection* connection) {
  Unregister(connection);
  CloseSocket(connection->fd);
  table_[static_cast<size_t>(connection->fd)] = nullptr;
  --active_count_;
  if (connection->paused_accept) {
    --paused_listeners_;
  } else if (paused_listeners_ > 0) {
    // A descriptor was freed: paused listeners may accept again.
    ResumeAccept();
  }
  delete connection;
}

int Reactor::AddSlab(uint8_t* data, size_t length, bool inbound) {
  Slab slab;
  slab.data = data;
  slab.length = length;
  slab.inbound = inbound;
  int index = -1;
  for (size_t i = 0; i < slabs_.size(); ++i) {
    if (slabs_[i].data == nullptr) {
      index = static_cast<int>(i);
      slabs_[i] = slab;
      break;
    }
  }
  if (index < 0) {
    if (slabs_.size() >= static_cast<size_t>(kMaxSlabs)) return -ENOSPC;
    slabs_.push_back(slab);
    index = static_cast<int>(slabs_.size()) - 1;
  }
  if (inbound && current_slab_ < 0) current_slab_ = index;
  if (inbound && (smallest_inbound_ == 0 || length < smallest_inbound_)) smallest_inbound_ = length;
  return index;
}

int Reactor::ReleaseSlab(int index) {
  if (index < 0 || static_cast<size_t>(index) >= slabs_.size()) return -EINVAL;
  Slab& slab = slabs_[static_cast<size_t>(index)];
  if (slab.inbound || slab.data == nullptr) return -EINVAL;
  slab = Slab();
  return 0;
}

int Reactor::Listen(const Endpoint& endpoint, int backlog, bool reuse_port) {
  int fd = ListenSocket(endpoint, backlog, reuse_port);
  if (fd < 0) return fd;
  return RegisterListener(fd);
}

int Reactor::AdoptListener(int fd) {
  int copy = DuplicateListenSocket(fd);
  if (copy < 0) return copy;
  return RegisterListener(copy);
}

int Reactor::RegisterListener(int fd) {
  auto* listener = new Connection();
  listener->fd = fd;
  listener->kind = kListener;
  listener->reading = false;
  int status = Register(listener, 0);
  if (status < 0) {
    CloseSocket(fd);
    delete listener;
    return status;
  }
  return fd;
}

int Reactor::Connect(const Endpoint& endpoint, const Framing& framing) {
  int fd = ConnectSocket(endpoint);
  if (fd < 0) return fd;
  if (endpoint.family != kFamilyUnix) SetNoDelay(fd);
  auto* connection = new Connection();
  connection->fd = fd;
  connection->kind = kConnecting;
  connection->framing = framing;
  // Writable interest reports completion; it is level-triggered, so an
  // already-completed connect (typical for Unix sockets) fires at once.
  int status = Register(connection, kPollWritable);
  if (status < 0) {
    CloseSocket(fd);
    delete connection;
    return status;
  }
  return fd;
}

int Reactor::SetFraming(int fd, const Framing& framing) {
  Connection* connection = Lookup(fd);
  if (connection == nullptr) return -EBADF;
  connection->framing = framing;
  return 0;
}

int Reactor::SetReading(int fd, bool reading) {
  Connection* connection = Lookup(fd);
  if (connection == nullptr || connection->kind == kConnecting) return -EBADF;
  connection->reading = reading;
  if (connection->paused_accept) return 0;
  // A stalled connection keeps its read interest off until a slab is free.
  SetInterest(connection, (connection->interest & ~kPollReadable) | ReadInterest(connection));
  return 0;
}

uint32_t Reactor::ReadInterest(const Connection* connection) const {
  const bool wanted = connection->reading && !connection->stalled && !connection->peer_eof &&
                      connection->read_budget != 0;
  return wanted ? static_cast<uint32_t>(kPollReadable) : 0u;
}

// Sets the interest of a connection that may have been unregistered by a
// hang-up (its peer closed only its write side, and output for it is queued).
void Reactor::Watch(Connection* connection, uint32_t interest) {
  if (connection->registered) {
    SetInterest(connection, interest);
  } else if (poller_.Add(connection->fd, interest) == 0) {
    connection->registered = true;
    connection->interest = interest;
  }
}

int Reactor::Close(int fd, int linger_ms) {
  Connection* connection = Lookup(fd);
  if (connection == nullptr) return -EBADF;
  if (connection->kind == kListener) {
    if (linger_ms > 0) SweepBacklog(connection, linger_ms);
    Destroy(connection);
    return 0;
  }
  if (connection->lingering) {
    // A second close of a lingering connection (a shutdown deadline) cuts it off.
    if (linger_ms <= 0) FinishLinger(connection, true, false);
    return 0;
  }
  if (connection->kind == kStream) {
    if (!connection->blocked && !connection->failed) FlushOutput(connection);
    if (linger_ms > 0 && OwesPeer(connection)) {
      StartLinger(connection, linger_ms);
      return 0;
    }
  }
  Destroy(connection);
  return 0;
}

int Reactor::EndInput(int fd) {
  Connection* connection = Lookup(fd);
  if (connection == nullptr || connection->kind != kStream) return -EBADF;
  if (connection->read_budget >= 0) return static_cast<int>(connection->read_budget);
  int unread = 0;
  if (!connection->peer_eof && !connection->failed && !connection->lingering) {
    unread = UnreadBytes(fd);
    if (unread < 0) unread = 0;
  }
  connection->read_budget = unread;
  if (unread == 0) SetInterest(connection, connection->interest & ~kPollReadable);
  return unread;
}

void Reactor::ConsumeBudget(Connection* connection, size_t count) {
  if (connection->read_budget < 0) return;
  const int64_t left = connection->read_budget - static_cast<int64_t>(count);
  connection->read_budget = left > 0 ? left : 0;
  if (connection->read_budget > 0) return;
  SetInterest(connection, connection->interest & ~kPollReadable);
  Emit(kRecordInputEnd, 0, connection->fd, 0, 0);
}

// ---------------------------------------------------------------------------
// Lingering close
// ---------------------------------------------------------------------------

// True when closing now could lose or reset bytes the peer is owed (see
// reactor.h). After the peer's EOF nothing more can arrive, so only output
// still queued here counts: the kernel delivers what it holds after close().
bool Reactor::OwesPeer(Connection* connection) const {
  if (connection->failed) return false;
  if (connection->blocked) return true;
  if (connection->peer_eof) return false;
  if (UnacknowledgedBytes(connection->fd) > 0) return true;
  return UnreadBytes(connection->fd) > 0;
}

void Reactor::StartLinger(Connection* connection, int linger_ms) {
  if (connection->stalled) {
    connection->stalled = false;
    if (--stalled_count_ == 0) stalled_.clear();
  }
  if (lingering_count_ == 0) lingering_.clear();  // only stale entries were left
  connection->lingering = true;
  connection->carry.clear();
  connection->carry.shrink_to_fit();
  connection->linger_deadline = NowMs() + static_cast<uint64_t>(linger_ms);
  ++lingering_count_;
  lingering_.push_back(connection->fd);
  stats_[kStatLingering] = lingering_count_;
  Count(kStatLingerCloses);
  fd_state_[connection->fd * kFdStateInts + kFdFlags] |= kFdFlagLingering;
  if (connection->blocked) {
    // JS frees the connection's output memory once this close is processed (it may be shared
    // slab memory other reads wait for): send from a copy from now on.
    std::vector<struct iovec>& pending = connection->pending;
    size_t bytes = 0;
    for (size_t i = connection->pending_head; i < pending.size(); ++i) bytes += pending[i].iov_len;
    connection->linger_output.resize(bytes);
    size_t offset = 0;
    for (size_t i = connection->pending_head; i < pending.size(); ++i) {
      memcpy(connection->linger_output.data() + offset, pending[i].iov_base, pending[i].iov_len);
      offset += pending[i].iov_len;
    }
    pending.assign(1, {connection->linger_output.data(), bytes});
    connection->pending_head = 0;
  } else {
    ShutWrite(connection);
    if (!connection->lingering) return;
  }
  Watch(connection, (connection->peer_eof ? 0u : static_cast<uint32_t>(kPollReadable)) |
                        (connection->blocked ? static_cast<uint32_t>(kPollWritable) : 0u));
}

void Reactor::ShutWrite(Connection* connection) {
  connection->write_shut = true;
  // ENOTCONN: the peer reset the connection meanwhile; nothing is owed any more.
  if (ShutdownWrite(connection->fd) < 0) FinishLinger(connection, false, false);
}

void Reactor::OnLingerReady(Connection* connection, uint32_t events) {
  if (connection->blocked) {
    int status = FlushOutput(connection);
    if (status < 0 && !IsWouldBlock(status)) {
      FinishLinger(connection, false, true);
      return;
    }
  }
  if (!connection->blocked && !connection->write_shut) {
    ShutWrite(connection);
    if (!connection->lingering) return;
  }
  if (!connection->peer_eof && (events & (kPollReadable | kPollHangup | kPollError))) {
    if (discard_.empty()) discard_.resize(kDiscardSize);
    for (int i = 0; i < kDiscardReads; ++i) {
      ssize_t count = ReadSome(connection->fd, discard_.data(), discard_.size());
      if (count == 0) {
        connection->peer_eof = true;
        break;
      }
      if (count < 0) {
        if (IsWouldBlock(static_cast<int>(count))) break;
        FinishLinger(connection, false, true);
        return;
      }
    }
  }
  if (connection->peer_eof && !connection->blocked) {
    FinishLinger(connection, false, true);
    return;
  }
  Watch(connection, (connection->peer_eof ? 0u : static_cast<uint32_t>(kPollReadable)) |
                        (connection->blocked ? static_cast<uint32_t>(kPollWritable) : 0u));
}

// Closes lingering connections whose deadline passed. (A peer that has
// acknowledged everything, FIN included, is not closed early: if it is still
// sending, its next write would meet a reset, and a peer that fails on that
// write may never read the replies and the EOF it already holds.)
void Reactor::SweepLingering() {
  const uint64_t now = NowMs();
  size_t kept = 0;
  for (size_t i = 0; i < lingering_.size(); ++i) {
    const int fd = lingering_[i];
    Connection* connection = Lookup(fd);
    if (connection == nullptr || !connection->lingering) continue;
    if (!HasRoom(1)) {
      lingering_[kept++] = fd;
      continue;
    }
    if (now >= connection->linger_deadline) {
      FinishLinger(connection, true, true);
    } else {
      lingering_[kept++] = fd;
    }
  }
  lingering_.resize(kept);
}

void Reactor::FinishLinger(Connection* connection, bool expired, bool emit) {
  connection->lingering = false;
  --lingering_count_;
  stats_[kStatLingering] = lingering_count_;
  if (expired) Count(kStatLingerExpired);
  const int fd = connection->fd;
  fd_state_[fd * kFdStateInts + kFdFlags] &= ~kFdFlagLingering;
  Destroy(connection);
  if (emit) Emit(kRecordLingerDone, 0, fd, 0, 0);
}

// A listener closing gracefully: connections already in its backlog would be
// reset by close(); accept them and close them lingering instead (nothing of
// theirs is read, so their peers see EOF).
void Reactor::SweepBacklog(Connection* listener, int linger_ms) {
  for (int i = 0; i < kBacklogSweep; ++i) {
    int fd = AcceptSocket(listener->fd);
    if (fd == -ECONNABORTED || fd == -EPROTO) continue;
    if (fd < 0) return;
    auto* connection = new Connection();
    connection->fd = fd;
    connection->kind = kStream;
    if (Register(connection, 0) < 0) {
      CloseSocket(fd);
      delete connection;
      continue;
    }
    if (OwesPeer(connection)) {
      StartLinger(connection, linger_ms);
    } else {
      Destroy(connection);
    }
  }
}

// ---------------------------------------------------------------------------
// Batch drain
// ---------------------------------------------------------------------------

int32_t Reactor::Ref(int slab) const { return control_[kSlabRefBase + slab]; }

bool Reactor::HasRoom(int records) const {
  return record_count_ + records <= kMaxRecords;
}

bool Reactor::Emit(int kind, int slab, int fd, int a, int b) {
  if (!HasRoom(1)) return false;
  int32_t* record = control_ + kRecordBase + record_count_ * kRecordInts;
  record[0] = kind | (slab << 8);
  record[1] = fd;
  record[2] = a;
  record[3] = b;
  ++record_count_;
  return true;
}

void Reactor::ResetSlab(Slab* slab) {
  if (control_[kHeaderDebug] != 0 && slab->high_water > 0) {
    memset(slab->data, kPoisonByte, slab->high_water);
  }
  slab->offset = 0;
  slab->high_water = 0;
}

int Reactor::EnsureSlab(size_t need) {
  const Slab* current =
      current_slab_ >= 0 ? &slabs_[static_cast<size_t>(current_slab_)] : nullptr;
  const bool fits = current != nullptr && current->length - current->offset >= need;
  // Reads go on filling the current slab, unless it is a large one (kept for whole large
  // frames) and a smaller slab is free: ordinary reads use the smallest free slab that fits
  // (the oldest among equals), so the pages of a large slab stay untouched, and out of RSS,
  // unless large frames arrive. One scan per batch finds out whether such a slab exists (slabs
  // are released only by JS, between batches), not one per read.
  if (fits && (current->length <= smallest_inbound_ ||
               (no_smaller_for_ != 0 && need >= no_smaller_for_))) {
    return current_slab_;
  }
  int best = -1;
  for (size_t i = 0; i < slabs_.size(); ++i) {
    const Slab& slab = slabs_[i];
    if (!slab.inbound || slab.used_in_batch || slab.length < need) continue;
    if (Ref(static_cast<int>(i)) != 0) continue;
    if (best < 0 || slab.length < slabs_[static_cast<size_t>(best)].length) {
      best = static_cast<int>(i);
    }
  }
  if (best >= 0 && (!fits || slabs_[static_cast<size_t>(best)].length < current->length)) {
    ResetSlab(&slabs_[static_cast<size_t>(best)]);
    current_slab_ = best;
    return current_slab_;
  }
  if (fits) {
    if (no_smaller_for_ == 0 || need < no_smaller_for_) no_smaller_for_ = need;
    return current_slab_;
  }
  control_[kHeaderFlags] |= kBatchFlagNeedSlab;
  return -1;
}

// True when some inbound slab of at least `need` bytes is unreferenced by
// JS. Slabs used earlier in this batch count as free: JS has not seen their
// records yet, and the next batch may reuse them.
bool Reactor::AnyFreeSlab(size_t need) const {
  for (size_t i = 0; i < slabs_.size(); ++i) {
    const Slab& slab = slabs_[i];
    if (slab.inbound && slab.length >= need && Ref(static_cast<int>(i)) == 0) return true;
  }
  return false;
}

// Parks a connection's reading: without read interest its level-triggered
// readiness stops firing (no busy loop), and its data waits in the kernel.
void Reactor::StallRead(Connection* connection, size_t need) {
  connection->stall_need = need;
  if (connection->stalled) return;
  connection->stalled = true;
  ++stalled_count_;
  // Entries of connections closed while parked are dropped lazily; keep
  // them from piling up while no memory frees (and no resume runs).
  if (stalled_.size() >= 2 * static_cast<size_t>(stalled_count_) + 64) DropStaleStalls();
  stalled_.push_back(connection->fd);
  Count(kStatReadStalls);
  SetInterest(connection, connection->interest & ~kPollReadable);
}

void Reactor::DropStaleStalls() {
  size_t kept = 0;
  for (int fd : stalled_) {
    Connection* connection = Lookup(fd);
    if (connection != nullptr && connection->stalled) stalled_[kept++] = fd;
  }
  stalled_.resize(kept);
}

int Reactor::ResumeStalledReads() {
  if (stalled_count_ == 0 || !open_) return 0;
  // Each resumed read needs at least min_read bytes of a free slab, so the
  // free memory bounds how many parked connections are armed at once: one
  // released slab does not wake (and re-park) thousands of connections.
  size_t largest = 0;
  size_t budget = 0;
  for (size_t i = 0; i < slabs_.size(); ++i) {
    const Slab& slab = slabs_[i];
    if (!slab.inbound || Ref(static_cast<int>(i)) != 0) continue;
    if (slab.length > largest) largest = slab.length;
    budget += slab.length / limits_.min_read;
  }
  if (budget == 0) return 0;
  int resumed = 0;
  size_t kept = 0;
  for (size_t i = 0; i < stalled_.size(); ++i) {
    const int fd = stalled_[i];
    Connection* connection = Lookup(fd);
    // Closed, hung up or already resumed (an fd number can be listed twice
    // when it was reused): drop the entry.
    if (connection == nullptr || !connection->stalled) continue;
    if (budget == 0 || connection->stall_need > largest) {
      stalled_[kept++] = fd;
      continue;
    }
    --budget;
    connection->stalled = false;
    --stalled_count_;
    ++resumed;
    SetInterest(connection, connection->interest | ReadInterest(connection));
  }
  stalled_.resize(kept);
  Count(kStatReadResumes, resumed);
  return resumed;
}

int Reactor::Drain() {
  record_count_ = 0;
  batch_bytes_ = 0;
  control_[kHeaderFlags] = 0;
  control_[kHeaderRecordCount] = 0;
  if (!open_) return 0;
  for (Slab& slab : slabs_) slab.used_in_batch = false;
  no_smaller_for_ = 0;  // JS may have released slabs since the last batch
  if (current_slab_ >= 0 && Ref(current_slab_) == 0) {
    ResetSlab(&slabs_[static_cast<size_t>(current_slab_)]);
  }
  if (stalled_count_ > 0) ResumeStalledReads();
  if (lingering_count_ > 0) SweepLingering();
  int count = poller_.Wait(results_.data(), limits_.max_events, 0);
  if (count <= 0) {
    control_[kHeaderRecordCount] = record_count_;
    return record_count_;
  }
  Count(kStatBatches);
  Count(kStatEvents, count);
  for (int i = 0; i < count; ++i) {
    // Keep room for the largest burst one event can produce; events left
    // over are level-triggered and come back in the next batch.
    if (!HasRoom(limits_.accepts_per_event + 2)) break;
    Connection* connection = Lookup(results_[static_cast<size_t>(i)].fd);
    if (connection == nullptr) continue;
    uint32_t events = results_[static_cast<size_t>(i)].events;
    switch (connection->kind) {
      case kListener:
        if (events & (kPollReadable | kPollError)) OnListenerReady(connection);
        break;
      case kConnecting:
        OnConnectReady(connection);
        break;
      case kStream:
        OnStreamReady(connection, events);
        break;
    }
  }
  control_[kHeaderRecordCount] = record_count_;
  return record_count_;
}

void Reactor::OnListenerReady(Connection* listener) {
  for (int i = 0; i < limits_.accepts_per_event; ++i) {
    int fd = AcceptSocket(listener->fd);
    if (fd == -EAGAIN || fd == -EWOULDBLOCK) return;
    if (fd == -ECONNABORTED || fd == -EPROTO) continue;
    if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
      // Out of descriptors: stop polling the listener (level-triggered
      // readiness would otherwise spin) and retry from a timer.
      Unregister(listener);
      listener->paused_accept = true;
      ++paused_listeners_;
      backoff_wanted_ = true;
      Count(kStatAcceptBackoffs);
      Emit(kRecordAcceptPaused, 0, listener->fd, fd, 0);
      return;
    }
    if (fd < 0) {
      Emit(kRecordAcceptError, 0, listener->fd, fd, 0);
      return;
    }
    backoff_step_ = 0;
    SetNoDelay(fd);
    auto* connection = new Connection();
    connection->fd = fd;
    connection->kind = kStream;
    connection->framing = listener->framing;
    if (Register(connection, kPollReadable) < 0) {
      CloseSocket(fd);
      delete connection;
      continue;
    }
    Count(kStatAccepts);
    Emit(kRecordAccept, 0, fd, listener->fd, 0);
  }
}

void Reactor::OnConnectReady(Connection* connection) {
  int error = PendingSocketError(connection->fd);
  if (error == 0) {
    connection->kind = kStream;
    SetInterest(connection, kPollReadable);
  } else {
    Unregister(connection);
  }
  Emit(kRecordConnect, 0, connection->fd, error, 0);
}

void Reactor::Hangup(Connection* connection, int error) {
  const bool reported = connection->peer_eof || connection->failed;
  connection->carry.clear();
  if (error == 0) {
    connection->peer_eof = true;
  } else {
    connection->failed = true;
  }
  if (error == 0 && connection->blocked) {
    // The peer closed its write side only: output queued for it still drains.
    SetInterest(connection, kPollWritable);
  } else {
    Unregister(connection);
  }
  if (!reported) Emit(kRecordHangup, 0, connection->fd, error, 0);
}

void Reactor::OnStreamReady(Connection* connection, uint32_t events) {
  if (connection->lingering) {
    OnLingerReady(connection, events);
    return;
  }
  if ((events & kPollWritable) && connection->blocked) {
    int status = FlushOutput(connection);
    if (status < 0 && !IsWouldBlock(status)) {
      Hangup(connection, status);
      return;
    }
    if (status == 0) Emit(kRecordDrain, 0, connection->fd, 0, 0);
  }
  if (!connection->registered) return;
  if ((events & kPollReadable) && ReadInterest(connection) != 0) {
    if (batch_bytes_ < limits_.max_batch_bytes) ReadOnce(connection);
    return;
  }
  if (events & (kPollHangup | kPollError)) {
    // A hang-up without readable data (or while reading is paused): report
    // it with the socket's pending error, if any, and stop watching.
    Hangup(connection, PendingSocketError(connection->fd));
  }
}

void Reactor::ReadOnce(Connection* connection) {
  const Framing& framing = connection->framing;
  size_t carried = connection->carry.size();
  size_t frame_size = 0;
  if (framing.header_size > 0 && carried >= static_cast<size_t>(framing.header_size)) {
    frame_size = framing.header_size +
                 static_cast<size_t>(ReadLength(connection->carry.data(), framing.header_size));
  }
  if (frame_size > limits_.read_size) {
    ReadIntoCarry(connection, frame_size);
    return;
  }
  const size_t need = carried + limits_.min_read;
  int slab_index = EnsureSlab(need);
  if (slab_index < 0) {
    // Only slabs used earlier in this batch are free: the connection stays
    // readable and is read in the next batch. Otherwise park it.
    if (!AnyFreeSlab(need)) StallRead(connection, need);
    return;
  }
  Slab& slab = slabs_[static_cast<size_t>(slab_index)];
  uint8_t* start = slab.data + slab.offset;
  if (carried > 0) memcpy(start, connection->carry.data(), carried);
  size_t want = slab.length - slab.offset - carried;
  if (want > limits_.read_size) want = limits_.read_size;
  if (connection->read_budget > 0 && want > static_cast<size_t>(connection->read_budget)) {
    want = static_cast<size_t>(connection->read_budget);
  }
  ssize_t count = ReadSome(connection->fd, start + carried, want);
  Count(kStatReads);
  if (count < 0) {
    if (!IsWouldBlock(static_cast<int>(count))) Hangup(connection, static_cast<int>(count));
    return;
  }
  if (count == 0) {
    Hangup(connection, 0);
    return;
  }
  Count(kStatBytesRead, static_cast<double>(count));
  batch_bytes_ += static_cast<size_t>(count);
  size_t total = carried + static_cast<size_t>(count);
  if (slab.offset + total > slab.high_water) slab.high_water = slab.offset + total;
  if (framing.header_size == 0) {
    slab.used_in_batch = true;
    Emit(kRecordData, slab_index, connection->fd, static_cast<int>(slab.offset),
         static_cast<int>(total));
    slab.offset += total;
  } else {
    EmitFrames(connection, slab_index, total);
  }
  ConsumeBudget(connection, static_cast<size_t>(count));
}

void Reactor::EmitFrames(Connection* connection, int slab_index, size_t total) {
  const Framing& framing = connection->framing;
  Slab& slab = slabs_[static_cast<size_t>(slab_index)];
  const uint8_t* start = slab.data + slab.offset;
  const size_t header = static_cast<size_t>(framing.header_size);
  size_t complete = 0;
  bool too_large = false;
  uint32_t announced = 0;
  while (total - complete >= header) {
    announced = ReadLength(start + complete, framing.header_size);
    if (announced > framing.max_frame) {
      too_large = true;
      break;
    }
    if (total - complete - header < announced) break;
    complete += header + announced;
  }
  if (complete > 0) {
    slab.used_in_batch = true;
    Emit(kRecordData, slab_index, connection->fd, static_cast<int>(slab.offset),
         static_cast<int>(complete));
  }
  if (too_large) {
    // Nothing is allocated for the oversized frame: the connection stops
    // being read and JS closes it with ERR_NETPOLL_FRAME_TOO_LARGE.
    slab.offset += complete;
    Unregister(connection);
    connection->carry.clear();
    Emit(kRecordFrameTooLarge, 0, connection->fd, static_cast<int>(announced), 0);
    return;
  }
  connection->carry.assign(start + complete, start + total);
  slab.offset += complete;
}

void Reactor::ReadIntoCarry(Connection* connection, size_t frame_size) {
  std::vector<uint8_t>& carry = connection->carry;
  size_t have = carry.size();
  size_t missing = frame_size - have;
  // Completing the frame needs a slab that can hold it whole; check first,
  // so a complete frame is never stranded in the carry without a readable
  // event to deliver it.
  if (EnsureSlab(frame_size) < 0) {
    if (!AnyFreeSlab(frame_size)) StallRead(connection, frame_size);
    return;
  }
  if (missing > limits_.read_size) missing = limits_.read_size;
  if (connection->read_budget > 0 && missing > static_cast<size_t>(connection->read_budget)) {
    missing = static_cast<size_t>(connection->read_budget);
  }
  carry.resize(have + missing);
  ssize_t count = ReadSome(connection->fd, carry.data() + have, missing);
  Count(kStatReads);
  if (count <= 0) {
    carry.resize(have);
    if (count == 0) {
      Hangup(connection, 0);
    } else if (!IsWouldBlock(static_cast<int>(count))) {
      Hangup(connection, static_cast<int>(count));
    }
    return;
  }
  carry.resize(have + static_cast<size_t>(count));
  Count(kStatBytesRead, static_cast<double>(count));
  batch_bytes_ += static_cast<size_t>(count);
  if (carry.size() < frame_size) {
    ConsumeBudget(connection, static_cast<size_t>(count));
    return;
  }
  int slab_index = EnsureSlab(frame_size);
  Slab& slab = slabs_[static_cast<size_t>(slab_index)];
  memcpy(slab.data + slab.offset, carry.data(), frame_size);
  if (slab.offset + frame_size > slab.high_water) slab.high_water = slab.offset + frame_size;
  slab.used_in_batch = true;
  Emit(kRecordData, slab_index, connection->fd, static_cast<int>(slab.offset),
       static_cast<int>(frame_size));
  slab.offset += frame_size;
  carry.clear();
  carry.shrink_to_fit();
  ConsumeBudget(connection, static_cast<size_t>(count));
}

// ---------------------------------------------------------------------------
// Write path
// ---------------------------------------------------------------------------

int Reactor::FlushOutput(Connection* connection) {
  std::vector<struct iovec>& pending = connection->pending;
  int status = 0;
  while (connection->pending_head < pending.size()) {
    size_t available = pending.size() - connection->pending_head;
    int count = available > static_cast<size_t>(kMaxIovecs) ? kMaxIovecs
                                                            : static_cast<int>(available);
    ssize_t written = WriteVector(connection->fd, &pending[connection->pending_head], count);
    Count(kStatWritevCalls);
    if (written < 0) {
      status = static_cast<int>(written);
      break;
    }
    Count(kStatBytesWritten, static_cast<double>(written));
    int32_t* state = fd_state_ + connection->fd * kFdStateInts;
    state[kFdWritten] = static_cast<int32_t>(static_cast<uint32_t>(state[kFdWritten]) +
                                             static_cast<uint32_t>(written));
    size_t left = static_cast<size_t>(written);
    while (left > 0) {
      struct iovec& vector = pending[connection->pending_head];
      if (left >= vector.iov_len) {
        left -= vector.iov_len;
        ++connection->pending_head;
      } else {
        vector.iov_base = static_cast<uint8_t*>(vector.iov_base) + left;
        vector.iov_len -= left;
        left = 0;
      }
    }
  }
  int32_t* flags = fd_state_ + connection->fd * kFdStateInts + kFdFlags;
  if (IsWouldBlock(status)) {
    if (!connection->blocked) Count(kStatWriteBlocked);
    connection->blocked = true;
    *flags |= kFdFlagBackpressure;
    Watch(connection, connection->interest | kPollWritable);
    return -EAGAIN;
  }
  pending.clear();
  connection->pending_head = 0;
  connection->blocked = false;
  *flags &= ~kFdFlagBackpressure;
  SetInterest(connection, connection->interest & ~kPollWritable);
  return status;
}

int Reactor::ProcessSubmissions() {
  int count = control_[kHeaderSubmitCount];
  if (count <= 0 || !open_) return 0;
  if (count > kMaxSubmits) count = kMaxSubmits;
  Count(kStatSubmissions, count);
  const int32_t* queue = control_ + kSubmitBase;
  for (int i = 0; i < count; ++i) {
    const int32_t* entry = queue + i * kRecordInts;
    const int op = entry[0] & 0xff;
    const int slab_index = static_cast<int>(static_cast<uint32_t>(entry[0]) >> 8);
    Connection* connection = Lookup(entry[1]);
    if (connection == nullptr) continue;
    if (op == kSubmitClose) {
      Close(connection->fd, entry[2]);
      continue;
    }
    if (op != kSubmitWrite || connection->kind != kStream || connection->lingering) continue;
    // Defensive bounds check: a bad descriptor is dropped, never written.
    if (slab_index < 0 || static_cast<size_t>(slab_index) >= slabs_.size()) continue;
    const Slab& slab = slabs_[static_cast<size_t>(slab_index)];
    const size_t offset = static_cast<uint32_t>(entry[2]);
    const size_t length = static_cast<uint32_t>(entry[3]);
    if (length == 0 || offset > slab.length || length > slab.length - offset) continue;
    connection->pending.push_back({slab.data + offset, length});
    if (!connection->dirty && !connection->blocked) {
      connection->dirty = true;
      dirty_.push_back(connection->fd);
    }
  }
  for (int fd : dirty_) {
    Connection* connection = Lookup(fd);
    if (connection == nullptr || !connection->dirty) continue;
    connection->dirty = false;
    int status = FlushOutput(connection);
    // A hard error drops the output; the socket reports the failure to the
    // poller (EPOLLERR/EPOLLHUP), which turns it into a hang-up record.
    (void)status;
  }
  dirty_.clear();
  control_[kHeaderSubmitCount] = 0;
  control_[kHeaderProcessedGen] += 1;
  return count;
}

// ---------------------------------------------------------------------------
// Accept back-off
// ---------------------------------------------------------------------------

int Reactor::TakeBackoffDelay() {
  if (!backoff_wanted_) return 0;
  backoff_wanted_ = false;
  int delay = kBackoffDelays[backoff_step_];
  if (backoff_step_ < kBackoffSteps - 1) ++backoff_step_;
  return delay;
}

void Reactor::ResumeAccept() {
  if (paused_listeners_ == 0) return;
  for (Connection* connection : table_) {
    if (connection == nullptr || !connection->paused_accept) continue;
    connection->paused_accept = false;
    --paused_listeners_;
    const uint32_t interest = connection->reading ? static_cast<uint32_t>(kPollReadable) : 0u;
    if (poller_.Add(connection->fd, interest) == 0) {
      connection->registered = true;
      connection->interest = interest;
    }
  }
}

}  // namespace netpoll
