// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The native suite's one assertion macro, shared by its test files. A failed
// CHECK prints its location and expression and the run goes on, so one run
// reports every failure; main() prints the totals.

#ifndef NETPOLL_NATIVE_TEST_CHECK_H_
#define NETPOLL_NATIVE_TEST_CHECK_H_

#include <cstdio>

namespace netpoll_test {

// Defined in native_tests.cc.
extern int g_checks;
extern int g_failures;

}  // namespace netpoll_test

#define CHECK(condition)                                                   \
  do {                                                                     \
    ++netpoll_test::g_checks;                                              \
    if (!(condition)) {                                                    \
      ++netpoll_test::g_failures;                                          \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                   #condition);                                            \
    }                                                                      \
  } while (0)

#endif  // NETPOLL_NATIVE_TEST_CHECK_H_
