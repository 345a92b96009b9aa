#!/usr/bin/env bash
# Builds and runs the native C++ test suite (no Node needed).
#   scripts/native-test.sh [epoll|kqueue] [asan|plain] [linux-arm64-gnu]
# kqueue on Linux builds poller_kqueue.cc against libkqueue when pkg-config finds
# it, else against the test-only epoll emulation in native/test/kqueue_shim; the
# configure step prints which one. The suite ends with "N checks, N failed" and
# "native: N passed, N failed" (test cases).
# A third argument names a target of another architecture: the suite is then
# cross-compiled with scripts/toolchains/<target>.cmake and run under qemu
# user-mode emulation (Debian: g++-aarch64-linux-gnu and qemu-user-static), with
# the cross toolchain's sysroot for its libraries. Only plain builds cross.
set -euo pipefail
cd "$(dirname "$0")/.."
poller="${1:-}"
sanitize=OFF
[ "${2:-}" = "asan" ] && sanitize=ON
target="${3:-}"
build="build-native-${poller:-default}-${2:-plain}${target:+-$target}"
args=(-S . -B "$build" -G Ninja -DNETPOLL_NATIVE_TESTS=ON -DNETPOLL_ADDON=OFF -DNETPOLL_SANITIZE="$sanitize")
[ -n "$poller" ] && args+=(-DNETPOLL_POLLER="$poller")
runner=()
if [ -n "$target" ]; then
  case "$target" in
  linux-arm64-gnu) qemu=(qemu-aarch64-static qemu-aarch64) sysroot=/usr/aarch64-linux-gnu ;;
  *) echo "native-test: no cross set-up for '$target'" >&2; exit 2 ;;
  esac
  [ "$sanitize" = OFF ] || { echo "native-test: sanitizers are not run under emulation" >&2; exit 2; }
  for candidate in "${qemu[@]}"; do
    command -v "$candidate" >/dev/null && { runner=("$candidate" -L "$sysroot"); break; }
  done
  [ ${#runner[@]} -gt 0 ] || { echo "native-test: ${qemu[*]} not found (apt-get install qemu-user-static)" >&2; exit 1; }
  args+=(-DCMAKE_TOOLCHAIN_FILE="$PWD/scripts/toolchains/$target.cmake" -DCMAKE_BUILD_TYPE=Release)
fi
configure_log="$(cmake "${args[@]}")"
grep '^-- netpoll:' <<<"$configure_log" || true
cmake --build "$build"
[ -n "$target" ] && file "$build/netpoll_native_tests" | sed 's/,.*BuildID.*//; s/^/native: /'
# Leak checking is on by default under ASan; UBSan reports abort the run.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  "${runner[@]}" "$build/netpoll_native_tests"
