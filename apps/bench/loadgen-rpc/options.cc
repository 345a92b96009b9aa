// Copyright 2026 The netpoll-node Authors. Apache-2.0.

#include "options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace netpoll_rpc_loadgen {
namespace {

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "%s\n\nusage: netpoll_rpc_loadgen --port PORT [--host HOST] [--connections N] "
               "[--callers N]\n                           [--payload BYTES] [--warmup MS] "
               "[--duration MS] [--timeout MS]\n                           [--method NAME] "
               "[--wire rpc|net|frame]\n",
               message);
  std::exit(2);
}

long IntegerFlag(const char* flag, const char* text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  bool digits = *text != '\0';
  for (const char* c = text; *c != '\0'; ++c) digits = digits && *c >= '0' && *c <= '9';
  if (!digits || errno != 0 || *end != '\0' || value < min || value > max) {
    char message[256];
    std::snprintf(message, sizeof(message), "%s must be an integer from %ld to %ld (received %s)",
                  flag, min, max, text);
    Usage(message);
  }
  return value;
}

}  // namespace

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + flag).c_str());
    const char* value = argv[i + 1];
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--port") {
      options.port = IntegerFlag("--port", value, 1, 65535);
    } else if (flag == "--connections") {
      options.connections = IntegerFlag("--connections", value, 1, 10000);
    } else if (flag == "--callers") {
      options.callers = IntegerFlag("--callers", value, 1, 100000);
    } else if (flag == "--payload") {
      options.payload = IntegerFlag("--payload", value, 0, 1 << 20);
    } else if (flag == "--warmup") {
      options.warmup = IntegerFlag("--warmup", value, 0, 600000);
    } else if (flag == "--duration") {
      options.duration = IntegerFlag("--duration", value, 1, 3600000);
    } else if (flag == "--timeout") {
      options.timeout = IntegerFlag("--timeout", value, 1, 3600000);
    } else if (flag == "--method") {
      options.method = value;
      if (options.method.empty() || options.method.size() > 255) {
        Usage("--method must be 1 to 255 ASCII bytes");
      }
    } else if (flag == "--wire") {
      std::string wire = value;
      if (wire != "rpc" && wire != "net" && wire != "frame") {
        Usage("--wire must be rpc, net or frame");
      }
      options.wire = wire == "net" ? Wire::kNet : wire == "frame" ? Wire::kFrame : Wire::kRpc;
    } else {
      Usage(("unknown flag " + flag).c_str());
    }
  }
  if (options.port < 0) Usage("--port is required");
  if (options.callers < options.connections) {
    Usage("--callers must be at least --connections (every connection carries a caller)");
  }
  return options;
}

}  // namespace netpoll_rpc_loadgen
