#!/usr/bin/env bash
# Builds the libFuzzer targets of native/fuzz with clang (-fsanitize=fuzzer,address,undefined
# over the real engine sources) and runs each for a bounded time.
#   scripts/fuzz.sh [TARGET...]          every target, or the named ones (framing_fuzzer, ...)
#   NETPOLL_FUZZ_SECONDS=600 scripts/fuzz.sh   longer runs (default 60 s per target)
#   build-fuzz/netpoll_TARGET FILE...    replays inputs (a crash file, a corpus entry)
# Each run starts from the target's seed corpus (native/fuzz/corpus/TARGET, read only) plus what
# earlier runs on this machine found (build-fuzz/corpus/TARGET). A crash, a sanitizer report, a
# leak or an input running longer than 10 s fails the target; the input is saved under
# build-fuzz/artifacts/. Prints per target "fuzz TARGET: ..." with runs and coverage, and ends
# with "fuzz: N passed, N failed" (targets).
# Needs clang and its runtime libraries (Debian: apt-get install clang libclang-rt-dev).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${NETPOLL_FUZZ_SECONDS:-60}"
all=(framing_fuzzer reactor_input_fuzzer)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
build=build-fuzz

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (Debian: apt-get install clang libclang-rt-dev)"
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi
if ! cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNETPOLL_FUZZERS=ON -DNETPOLL_ADDON=OFF -DNETPOLL_NATIVE_TESTS=OFF >"$build.configure.log" 2>&1 ||
  ! cmake --build "$build" >"$build.build.log" 2>&1; then
  tail -30 "$build.configure.log" "$build.build.log" 2>/dev/null
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi
rm -f "$build.configure.log" "$build.build.log"

passed=0
failed=0
for target in "${targets[@]}"; do
  binary="$build/netpoll_$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz $target: no such target (have: ${all[*]})"
    failed=$((failed + 1))
    continue
  fi
  corpus="$build/corpus/$target"
  mkdir -p "$corpus" "$build/artifacts"
  log="$build/$target.log"
  # -timeout: one input running 10 s is a hang. -rss_limit_mb: a leak or runaway allocation
  # fails rather than exhausting the machine. New inputs go to the first (writable) corpus.
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1" \
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" "$corpus" "native/fuzz/corpus/$target" >"$log" 2>&1
  code=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)"
  if [ "$code" -eq 0 ]; then
    echo "fuzz $target: ok, ${runs:-?} runs in ${seconds} s (${rate:-?}/s), ${coverage:-no coverage line}"
    passed=$((passed + 1))
  else
    # The report: the invariant or sanitizer message, the stack, and the saved input.
    grep -vE '^#[0-9]+ +(NEW|REDUCE|pulse)|NEW_FUNC' "$log" | tail -60
    echo "fuzz $target: FAILED (exit $code) after ${runs:-?} runs; log $log; replay: $binary <artifact>"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
