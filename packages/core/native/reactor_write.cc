// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The write path (see reactor.h): the submission queue JS fills with writes
// and closes, and the writev of each connection's pending output; a socket
// that pushes back keeps its output and is watched for writability.

#include "layout.h"
#include "reactor.h"
#include "result.h"

namespace netpoll {
namespace {

using namespace layout;  // NOLINT(build/namespaces): layout constants only.

constexpr int kMaxIovecs = 1024;  // IOV_MAX on Linux and macOS

}  // namespace

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
    uint8_t* memory = nullptr;
    size_t size = 0;
    if (slab_index < kMaxSlabs) {
      if (static_cast<size_t>(slab_index) >= slabs_.size()) continue;
      const Slab& slab = slabs_[static_cast<size_t>(slab_index)];
      memory = slab.data;
      size = slab.length;
    } else {
      const size_t position = static_cast<size_t>(slab_index - kMaxSlabs);
      if (position >= outbound_.size()) continue;
      memory = static_cast<uint8_t*>(outbound_[position].iov_base);
      size = outbound_[position].iov_len;
    }
    const size_t offset = static_cast<uint32_t>(entry[2]);
    const size_t length = static_cast<uint32_t>(entry[3]);
    if (memory == nullptr || length == 0 || offset > size || length > size - offset) continue;
    connection->pending.push_back({memory + offset, length});
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

}  // namespace netpoll
