// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The shared-memory layout between the reactor and its TypeScript
// dispatcher. Everything here is mirrored once in src/layout.ts, and the
// native tests plus test/native/layout.native.test.ts check that both sides
// agree (the binding exports these values).
//
// Control block (Int32Array over one JS-allocated ArrayBuffer):
//
//   [0, kHeaderInts)            header words (kHeader*)
//   [kRecordBase, +kMaxRecords*4)   native→JS records of one batch
//   [kSubmitBase, +kMaxSubmits*4)   JS→native submissions (writes, closes)
//   [kSlabRefBase, +kMaxSlabs)      inbound slab reference counts (JS writes)
//
// Per-fd state (Int32Array, kFdStateInts words per fd number):
//   [fd*2 + kFdWritten]  total bytes written by native, modulo 2^32
//   [fd*2 + kFdFlags]    kFdFlag* bits
//
// Stats (Float64Array, kStat* indices): plain counters written by native.

#ifndef NETPOLL_NATIVE_LAYOUT_H_
#define NETPOLL_NATIVE_LAYOUT_H_

#include <cstdint>

namespace netpoll {
namespace layout {

constexpr int kHeaderInts = 16;
constexpr int kHeaderRecordCount = 0;    // native: records in this batch
constexpr int kHeaderFlags = 1;          // native: kBatchFlag* bits
constexpr int kHeaderSubmitCount = 2;    // JS: submissions queued
constexpr int kHeaderProcessedGen = 3;   // native: bumped per processed queue
constexpr int kHeaderDebug = 4;          // JS: 1 = poison reused slab memory

constexpr int kBatchFlagNeedSlab = 1 << 0;

constexpr int kRecordInts = 4;
constexpr int kMaxRecords = 4096;
constexpr int kRecordBase = kHeaderInts;

constexpr int kMaxSubmits = 4096;
constexpr int kSubmitBase = kRecordBase + kMaxRecords * kRecordInts;

// Inbound slabs take indices below kMaxSlabs (their reference counts sit in
// the control block); outbound ones take kMaxSlabs + i, up to
// kMaxOutboundSlabs of them (a write submission's index has 24 bits).
constexpr int kMaxSlabs = 1024;
constexpr int kMaxOutboundSlabs = 1 << 22;
constexpr int kSlabRefBase = kSubmitBase + kMaxSubmits * kRecordInts;

constexpr int kControlInts = kSlabRefBase + kMaxSlabs;

// Record kinds (word 0 low byte; the slab index sits in bits 8..31).
//   kRecordData            fd, offset, length (slab in word 0)
//   kRecordAccept          fd (new), listener fd
//   kRecordConnect         fd, 0 or -errno
//   kRecordHangup          fd, 0 (EOF) or -errno
//   kRecordDrain           fd
//   kRecordFrameTooLarge   fd, announced length (as uint32)
//   kRecordAcceptError     listener fd, -errno
//   kRecordAcceptPaused    listener fd, -errno (EMFILE/ENFILE; backing off)
//   kRecordLingerDone      fd, 1 when its deadline cut it short with output
//                          undelivered (else 0): a lingering close finished;
//                          the fd is closed
//   kRecordInputEnd        fd: the input budget of EndInput was read
constexpr int kRecordData = 1;
constexpr int kRecordAccept = 2;
constexpr int kRecordConnect = 3;
constexpr int kRecordHangup = 4;
constexpr int kRecordDrain = 5;
constexpr int kRecordFrameTooLarge = 6;
constexpr int kRecordAcceptError = 7;
constexpr int kRecordAcceptPaused = 8;
constexpr int kRecordLingerDone = 9;
constexpr int kRecordInputEnd = 10;

// Submission ops (word 0 low byte; slab index in bits 8..31):
//   kSubmitWrite   fd, offset, length of a registered memory region
//   kSubmitClose   fd, linger ms: a lingering close (see Reactor::Close);
//                  0 closes at once (pending writes are attempted once); < 0
//                  closes at once, with a reset if output is undelivered
constexpr int kSubmitWrite = 1;
constexpr int kSubmitClose = 2;

constexpr int kFdStateInts = 2;
constexpr int kFdWritten = 0;
constexpr int kFdFlags = 1;
constexpr int kFdFlagBackpressure = 1 << 0;
constexpr int kFdFlagLingering = 1 << 1;  // the fd is open until a linger-done record

constexpr int kStatBatches = 0;
constexpr int kStatEvents = 1;
constexpr int kStatNativeToJsCalls = 2;
constexpr int kStatReads = 3;
constexpr int kStatBytesRead = 4;
constexpr int kStatWritevCalls = 5;
constexpr int kStatBytesWritten = 6;
constexpr int kStatAccepts = 7;
constexpr int kStatWriteBlocked = 8;
constexpr int kStatAcceptBackoffs = 9;
constexpr int kStatHookFlushes = 10;
constexpr int kStatSubmissions = 11;
constexpr int kStatReadStalls = 12;   // connections parked: no inbound slab free
constexpr int kStatReadResumes = 13;  // parked connections armed again
constexpr int kStatLingering = 14;    // gauge: lingering closes in progress
constexpr int kStatLingerCloses = 15;  // lingering closes started
constexpr int kStatLingerExpired = 16;  // lingering closes cut off at their deadline
constexpr int kStatCount = 17;

}  // namespace layout
}  // namespace netpoll

#endif  // NETPOLL_NATIVE_LAYOUT_H_
