#!/usr/bin/env bash
# Builds and runs the native C++ test suite (no Node needed).
#   scripts/native-test.sh [epoll|kqueue] [asan]
# kqueue on Linux needs Debian's libkqueue: apt-get install -y libkqueue-dev pkg-config
set -euo pipefail
cd "$(dirname "$0")/.."
poller="${1:-}"
sanitize=OFF
[ "${2:-}" = "asan" ] && sanitize=ON
build="build-native-${poller:-default}-${2:-plain}"
args=(-S . -B "$build" -G Ninja -DNETPOLL_NATIVE_TESTS=ON -DNETPOLL_ADDON=OFF -DNETPOLL_SANITIZE="$sanitize")
[ -n "$poller" ] && args+=(-DNETPOLL_POLLER="$poller")
cmake "${args[@]}" >/dev/null
cmake --build "$build"
# Leak checking is on by default under ASan; UBSan reports abort the run.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  "$build/netpoll_native_tests"
