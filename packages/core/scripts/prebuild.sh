#!/usr/bin/env bash
# Builds the addon binary that one @netpoll/core-<target> package ships:
#   scripts/prebuild.sh <target> [out-file]
# target: linux-x64-gnu or linux-arm64-gnu (the prebuilt targets, see README "Install").
# A target of another architecture than the host is cross-compiled with
# scripts/toolchains/<target>.cmake (on Debian: `apt-get install g++-aarch64-linux-gnu` for
# linux-arm64-gnu). The build uses -DNETPOLL_RELEASE_BINARY=ON (hidden symbols, unused sections
# dropped, stripped) in its own folder, build/prebuild/<target>, so it never replaces the
# contributors' build/Release. scripts/check-binary.js then checks it (architecture, exports,
# stripped, linked libraries, glibc and libstdc++ floor) before it is copied to out-file
# (default build/prebuild/<target>/netpoll_core.node).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/prebuild.sh <linux-x64-gnu|linux-arm64-gnu> [out-file]}"
case "$target" in
linux-x64-gnu) machine=x86_64 ;;
linux-arm64-gnu) machine=aarch64 ;;
*)
  echo "prebuild: unknown target '$target' (prebuilt targets: linux-x64-gnu, linux-arm64-gnu)" >&2
  exit 2
  ;;
esac
[ "$(uname -s)" = Linux ] || { echo "prebuild: the prebuilt targets are built on Linux" >&2; exit 2; }
build="build/prebuild/$target"
out="${2:-$build/netpoll_core.node}"
args=(compile --out "$build" --CDNETPOLL_RELEASE_BINARY=ON)
if [ "$(uname -m)" != "$machine" ]; then
  toolchain="scripts/toolchains/$target.cmake"
  compiler="$(sed -n 's/^set(CMAKE_CXX_COMPILER \(.*\))$/\1/p' "$toolchain")"
  if ! command -v "$compiler" >/dev/null; then
    echo "prebuild: $target is cross-compiled on $(uname -m) with $compiler, which is not on PATH" >&2
    echo "prebuild: on Debian/Ubuntu: apt-get install g++-aarch64-linux-gnu" >&2
    exit 1
  fi
  args+=("--CDCMAKE_TOOLCHAIN_FILE=$PWD/$toolchain")
fi
rm -rf "$build"
log="$(mktemp)"
if ! pnpm exec cmake-js "${args[@]}" >"$log" 2>&1; then
  tail -40 "$log" >&2
  rm -f "$log"
  echo "prebuild: cmake-js failed for $target" >&2
  exit 1
fi
rm -f "$log"
node scripts/check-binary.js "$build/Release/netpoll_core.node" "$target"
mkdir -p "$(dirname "$out")"
cp "$build/Release/netpoll_core.node" "$out"
echo "prebuild: $target -> $out ($(wc -c <"$out") bytes)"
