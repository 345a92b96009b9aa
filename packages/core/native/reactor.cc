// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Reactor engine; see reactor.h for the data path and the memory rules.
// This file: registration, the batch drain and event dispatch, and accept
// back-off. Reads into slabs are in reactor_read.cc, writes (the submission
// queue and writev) in reactor_write.cc, how connections end (lingering
// close, end of input) in reactor_close.cc.
// The accept back-off follows cloudwego/netpoll's EMFILE handling (detach
// the listener, retry with growing delays, re-attach when accept works).

#include "reactor.h"

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
    // The thread ends: output native still holds is lost, so reset the peer (what the kernel
    // holds, it still delivers after a plain close).
    if (connection->kind == kStream && !connection->failed &&
        (connection->blocked || connection->pending_head < connection->pending.size())) {
      AbortOnClose(connection->fd);
    }
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
  if (!inbound) {
    int position;
    if (!free_outbound_.empty()) {
      position = free_outbound_.back();
      free_outbound_.pop_back();
    } else {
      if (outbound_.size() >= static_cast<size_t>(kMaxOutboundSlabs)) return -ENOSPC;
      outbound_.push_back({});
      position = static_cast<int>(outbound_.size()) - 1;
    }
    outbound_[static_cast<size_t>(position)] = {data, length};
    return kMaxSlabs + position;
  }
  // Inbound slabs are never released: their indices are dense.
  if (slabs_.size() >= static_cast<size_t>(kMaxSlabs)) return -ENOSPC;
  Slab slab;
  slab.data = data;
  slab.length = length;
  slabs_.push_back(slab);
  const int index = static_cast<int>(slabs_.size()) - 1;
  if (current_slab_ < 0) current_slab_ = index;
  if (smallest_inbound_ == 0 || length < smallest_inbound_) smallest_inbound_ = length;
  return index;
}

int Reactor::ReleaseSlab(int index) {
  const int position = index - kMaxSlabs;  // inbound slabs are never released
  if (position < 0 || static_cast<size_t>(position) >= outbound_.size()) return -EINVAL;
  struct iovec& memory = outbound_[static_cast<size_t>(position)];
  if (memory.iov_base == nullptr) return -EINVAL;
  memory = {};
  free_outbound_.push_back(position);
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
  SetReadInterest(connection, (connection->interest & ~kPollReadable) | ReadInterest(connection));
  return 0;
}

// SetInterest for a change of read interest: a connection whose hang-up was
// parked while it was not reading is watched again once it reads again.
void Reactor::SetReadInterest(Connection* connection, uint32_t interest) {
  if (connection->hup_parked && (interest & kPollReadable) != 0) {
    connection->hup_parked = false;
    Watch(connection, interest);
    return;
  }
  SetInterest(connection, interest);
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
    // A hang-up without readable data, or while not reading: reported with
    // the socket's pending error, if any, and the fd is no longer watched.
    // But epoll reports EPOLLHUP whatever the interest (a Unix peer's close
    // raises it; a TCP FIN alone does not), so while reading is paused or
    // parked, input sent before a clean close may still be unread: the
    // hang-up then waits until reading resumes and that input is read, and
    // meanwhile the fd is not watched (the level-triggered hang-up would
    // spin).
    const int error = PendingSocketError(connection->fd);
    if (error == 0 && (events & kPollError) == 0 && !connection->peer_eof &&
        connection->read_budget != 0 && UnreadBytes(connection->fd) > 0) {
      if (connection->registered) poller_.Remove(connection->fd, connection->interest);
      connection->registered = false;
      connection->hup_parked = true;
      return;
    }
    Hangup(connection, error);
  }
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
