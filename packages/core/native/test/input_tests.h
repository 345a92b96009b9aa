// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The reactor's input path (input_tests.cc): framing, backpressure, a reset
// while output is blocked, read stalls on exhausted slabs and their resume,
// slab choice, and how an input ends (peer close while paused, a frame too
// large).

#ifndef NETPOLL_NATIVE_TEST_INPUT_TESTS_H_
#define NETPOLL_NATIVE_TEST_INPUT_TESTS_H_

namespace netpoll_test {

void TestFraming();
void TestBackpressure();
void TestResetWhileBlocked();
void TestReadStallResume();
void TestCarriedFrameFitsItsSlab();
void TestUnixPeerCloseWhilePausedLosesNothing();
void TestFrameTooLargeEndsAnEndedInput();
void TestSmallestSlabFirst();

}  // namespace netpoll_test

#endif  // NETPOLL_NATIVE_TEST_INPUT_TESTS_H_
