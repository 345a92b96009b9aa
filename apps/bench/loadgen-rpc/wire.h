// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The framings netpoll_rpc_loadgen speaks (see loadgen_rpc.cc): @netpoll/rpc's wire format,
// version 1 (packages/rpc/WIRE.md), and the `net` stack's `[payload length][id][payload]`
// (src/rpc-net.ts), also sent as `[id + payload length][id][payload]`. The decoding helpers are
// inline because the reply path runs them on every frame; a request is encoded once per caller.

#ifndef NETPOLL_RPC_LOADGEN_WIRE_H_
#define NETPOLL_RPC_LOADGEN_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "options.h"
#include "system.h"

namespace netpoll_rpc_loadgen {

// WIRE.md constants.
constexpr uint8_t kVersion = 1;
constexpr uint8_t kRequest = 1;
constexpr uint8_t kResponse = 2;
constexpr uint8_t kError = 3;
constexpr uint8_t kPing = 5;
constexpr uint8_t kPong = 6;
constexpr uint8_t kGoaway = 7;
constexpr uint8_t kFlagDeadline = 0x01;
constexpr uint8_t kFlagMetadata = 0x02;
constexpr uint8_t kFlagClosing = 0x04;
constexpr uint8_t kFlagRefused = 0x08;  // ERROR only: refused before any handler ran
constexpr uint8_t kKnownFlags = kFlagDeadline | kFlagMetadata | kFlagClosing | kFlagRefused;
constexpr size_t kLengthHeader = 4;
constexpr size_t kFixedHeader = 6;  // kindVersion, flags, seq
constexpr uint32_t kMaxFrameSize = 4u << 20;
// The `net` stack's framing (--wire net): the call id after the length.
constexpr size_t kNetIdSize = 4;

inline uint32_t ReadU32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

inline void WriteU32(uint8_t* bytes, uint32_t value) {
  bytes[0] = static_cast<uint8_t>(value >> 24);
  bytes[1] = static_cast<uint8_t>(value >> 16);
  bytes[2] = static_cast<uint8_t>(value >> 8);
  bytes[3] = static_cast<uint8_t>(value);
}

// Skips the metadata block at `at` (WIRE.md "Metadata"); returns the offset after it.
inline size_t SkipMetadata(const uint8_t* body, size_t at, size_t length) {
  if (at + 1 > length) Fail("%s", "metadata beyond the body");
  size_t count = body[at++];
  if (count == 0) Fail("%s", "metadata with no entries");
  for (size_t entry = 0; entry < count; ++entry) {
    if (at + 1 > length) Fail("%s", "metadata beyond the body");
    size_t key = body[at++];
    if (key == 0 || at + key + 2 > length) Fail("%s", "metadata beyond the body");
    at += key;
    size_t value = (size_t{body[at]} << 8) | body[at + 1];
    at += 2;
    if (at + value > length) Fail("%s", "metadata beyond the body");
    at += value;
  }
  return at;
}

// One caller: its request frame (seq patched on every send) and its payload's place in it.
struct Caller {
  std::vector<uint8_t> frame;
  size_t seq_offset = 0;
  size_t payload_offset = 0;
  uint64_t sent_at = 0;
  bool in_flight = false;
};

// The request frame of one caller: length, header (REQUEST, DEADLINE), method, timeout, payload;
// under `--wire net`: payload length, call id, payload (`--wire frame`: the length counts the id).
Caller MakeCaller(const Options& options, std::mt19937_64& random);

}  // namespace netpoll_rpc_loadgen

#endif  // NETPOLL_RPC_LOADGEN_WIRE_H_
