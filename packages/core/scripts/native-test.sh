#!/usr/bin/env bash
# Builds and runs the native C++ test suite (no Node needed).
#   scripts/native-test.sh [epoll|kqueue] [asan]
# kqueue on Linux builds poller_kqueue.cc against libkqueue when pkg-config finds
# it, else against the test-only epoll emulation in native/test/kqueue_shim; the
# configure step prints which one. The suite ends with "N checks, N failed" and
# "native: N passed, N failed" (test cases).
set -euo pipefail
cd "$(dirname "$0")/.."
poller="${1:-}"
sanitize=OFF
[ "${2:-}" = "asan" ] && sanitize=ON
build="build-native-${poller:-default}-${2:-plain}"
args=(-S . -B "$build" -G Ninja -DNETPOLL_NATIVE_TESTS=ON -DNETPOLL_ADDON=OFF -DNETPOLL_SANITIZE="$sanitize")
[ -n "$poller" ] && args+=(-DNETPOLL_POLLER="$poller")
configure_log="$(cmake "${args[@]}")"
grep '^-- netpoll:' <<<"$configure_log" || true
cmake --build "$build"
# Leak checking is on by default under ASan; UBSan reports abort the run.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  "$build/netpoll_native_tests"
