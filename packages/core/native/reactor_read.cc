// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Reads into inbound slabs (see reactor.h, "Data path" and "Slab
// exhaustion"): choosing a slab, parking and resuming reads when none is
// free, one recv() per readable socket, and native framing.

#include <cstring>

#include "layout.h"
#include "reactor.h"
#include "result.h"

namespace netpoll {
namespace {

using namespace layout;  // NOLINT(build/namespaces): layout constants only.

constexpr uint8_t kPoisonByte = 0xDB;

uint32_t ReadLength(const uint8_t* bytes, int header_size) {
  uint32_t length = 0;
  for (int i = 0; i < header_size; ++i) length = (length << 8) | bytes[i];
  return length;
}

}  // namespace

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
    if (slab.used_in_batch || slab.length < need) continue;
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
    if (slab.length >= need && Ref(static_cast<int>(i)) == 0) return true;
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
    if (Ref(static_cast<int>(i)) != 0) continue;
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
    SetReadInterest(connection, connection->interest | ReadInterest(connection));
  }
  stalled_.resize(kept);
  Count(kStatReadResumes, resumed);
  return resumed;
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
  // Room for a useful read past the carried bytes, but never more than the
  // whole frame when its length is known: JS guarantees a slab that holds a
  // whole frame (header + maxFrameSize), not one that holds a frame plus
  // min_read, so asking for more could park this read for good.
  size_t need = carried + limits_.min_read;
  if (frame_size > 0 && need > frame_size) need = frame_size;
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
    // An oversized header ended the input (and unregistered the connection):
    // its frame-too-large record is the last one, no input-end follows.
    if (!connection->registered) return;
  }
  if (connection->read_budget >= 0) ConsumeBudget(connection, static_cast<size_t>(count));
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
    if (connection->read_budget >= 0) ConsumeBudget(connection, static_cast<size_t>(count));
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
  if (connection->read_budget >= 0) ConsumeBudget(connection, static_cast<size_t>(count));
}

}  // namespace netpoll
