// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// netpoll_rpc_loadgen's command line: the flags (listed in loadgen_rpc.cc) as parsed values.

#ifndef NETPOLL_RPC_LOADGEN_OPTIONS_H_
#define NETPOLL_RPC_LOADGEN_OPTIONS_H_

#include <string>

namespace netpoll_rpc_loadgen {

// The framing spoken: @netpoll/rpc's, the `net` stack's, or a plain length-header frame.
enum class Wire { kRpc, kNet, kFrame };

struct Options {
  std::string host = "127.0.0.1";
  long port = -1;
  long connections = 4;
  long callers = 100;
  long payload = 1024;
  long warmup = 1000;
  long duration = 5000;
  long timeout = 5000;
  std::string method = "echo";
  // --wire net: the `net` stack's framing; --wire frame: the same with the id in the length.
  Wire wire = Wire::kRpc;
};

// Parses argv[1..]; on a bad flag prints what is wrong and the usage and exits 2.
Options ParseOptions(int argc, char** argv);

}  // namespace netpoll_rpc_loadgen

#endif  // NETPOLL_RPC_LOADGEN_OPTIONS_H_
