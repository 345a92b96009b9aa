// Copyright 2026 The netpoll-node Authors. Apache-2.0.

#include "wire.h"

#include <cstring>

namespace netpoll_rpc_loadgen {

Caller MakeCaller(const Options& options, std::mt19937_64& random) {
  Caller caller;
  if (options.wire != Wire::kRpc) {
    caller.frame.resize(kLengthHeader + kNetIdSize + static_cast<size_t>(options.payload));
    size_t length = static_cast<size_t>(options.payload) +
                    (options.wire == Wire::kFrame ? kNetIdSize : 0);
    WriteU32(caller.frame.data(), static_cast<uint32_t>(length));
    caller.seq_offset = kLengthHeader;
    caller.payload_offset = kLengthHeader + kNetIdSize;
    for (size_t i = caller.payload_offset; i < caller.frame.size(); ++i) {
      caller.frame[i] = static_cast<uint8_t>(random());
    }
    return caller;
  }
  size_t method = options.method.size();
  size_t header = kFixedHeader + 1 + method + 4;
  size_t body = header + static_cast<size_t>(options.payload);
  caller.frame.resize(kLengthHeader + body);
  uint8_t* frame = caller.frame.data();
  WriteU32(frame, static_cast<uint32_t>(body));
  frame[4] = static_cast<uint8_t>((kVersion << 4) | kRequest);
  frame[5] = kFlagDeadline;
  caller.seq_offset = 6;
  frame[10] = static_cast<uint8_t>(method);
  std::memcpy(frame + 11, options.method.data(), method);
  WriteU32(frame + 11 + method, static_cast<uint32_t>(options.timeout));
  caller.payload_offset = kLengthHeader + header;
  for (size_t i = caller.payload_offset; i < caller.frame.size(); ++i) {
    caller.frame[i] = static_cast<uint8_t>(random());
  }
  return caller;
}

}  // namespace netpoll_rpc_loadgen
