#!/usr/bin/env bash
# Runs the real-socket JS tests against an AddressSanitizer + UBSan build of the addon.
# Node itself is not instrumented, so libasan is preloaded and leak checking is off (V8 keeps
# allocations alive at exit); any heap error or UB in the addon aborts the run.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm exec cmake-js compile --out build-asan --CDNETPOLL_SANITIZE=ON >/dev/null
NETPOLL_ADDON_PATH="$PWD/build-asan/Release/netpoll_core.node" \
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  pnpm exec jest test/native --runInBand
