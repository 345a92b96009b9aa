// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// How connections end (see reactor.h, "Lingering close"): Close(), the
// end-of-input budget of a graceful shutdown, the lingering close itself and
// a closing listener's backlog.

#include <time.h>

#include <cstring>

#include "layout.h"
#include "reactor.h"
#include "result.h"

namespace netpoll {
namespace {

using namespace layout;  // NOLINT(build/namespaces): layout constants only.

constexpr size_t kDiscardSize = 64 << 10;  // scratch for input read while lingering
constexpr int kDiscardReads = 4;           // discarding reads per event (the rest: next batch)
constexpr int kBacklogSweep = 4096;        // connections a closing listener accepts at most

uint64_t NowMs() {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000u + static_cast<uint64_t>(now.tv_nsec) / 1000000u;
}

}  // namespace

int Reactor::Close(int fd, int linger_ms) {
  Connection* connection = Lookup(fd);
  if (connection == nullptr) return -EBADF;
  if (connection->kind == kListener) {
    if (linger_ms > 0) SweepBacklog(connection, linger_ms);
    Destroy(connection);
    return 0;
  }
  if (connection->lingering) {
    // A second close of a lingering connection (a shutdown deadline) cuts it off: 1 when output
    // was still undelivered (the peer is reset), else 0.
    if (linger_ms > 0) return 0;
    const bool cut = OwesOutput(connection);
    FinishLinger(connection, true, false);
    return cut ? 1 : 0;
  }
  if (connection->kind == kStream && !connection->failed) {
    if (linger_ms < 0) {
      // Work on the connection was cut (a shutdown deadline, a write timeout): whatever the
      // peer got is not the whole of it.
      AbortOnClose(connection->fd);
    } else {
      // Once more even when blocked: the peer may have read since the last writable event.
      FlushOutput(connection);
      if (linger_ms > 0 && OwesPeer(connection)) {
        StartLinger(connection, linger_ms);
        return 0;
      }
      // Closing at once (lingerTimeout 0) with output the kernel never took: it is lost.
      if (connection->blocked || connection->pending_head < connection->pending.size()) {
        AbortOnClose(connection->fd);
      }
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


// True when closing now could lose or reset bytes the peer is owed (see
// reactor.h). After the peer's EOF nothing more can arrive, so only output
// still queued here counts: the kernel delivers what it holds after close().
bool Reactor::OwesOutput(Connection* connection) const {
  if (connection->failed) return false;
  if (connection->blocked || connection->pending_head < connection->pending.size()) return true;
  // Bytes the kernel holds for the peer. A Unix socket counts what sits unread in the peer's
  // queue, which closing does not lose; TCP counts unacknowledged bytes, and the FIN once the
  // write side is shut.
  return UnacknowledgedBytes(connection->fd) > (connection->write_shut ? 1 : 0) &&
         !IsUnixSocket(connection->fd);
}

bool Reactor::OwesPeer(Connection* connection) const {
  if (connection->failed) return false;
  if (connection->blocked) return true;
  if (connection->peer_eof) return false;
  // A Unix socket's count is what sits unread in the peer's queue, which closing does not lose
  // (asked only when there is a count: it costs a system call).
  if (UnacknowledgedBytes(connection->fd) > 0 && !IsUnixSocket(connection->fd)) return true;
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
  // Cut off before the peer had everything: reset, so it does not take the EOF for the end.
  const bool cut = expired && OwesOutput(connection);
  if (cut) AbortOnClose(fd);
  Destroy(connection);
  if (emit) Emit(kRecordLingerDone, 0, fd, cut ? 1 : 0, 0);
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

}  // namespace netpoll
