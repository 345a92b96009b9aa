// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The poller contract, for either backend (poller_tests.cc): readiness, hang-up
// with data still pending, independent read and write interest, a refused
// connect.

#ifndef NETPOLL_NATIVE_TEST_POLLER_TESTS_H_
#define NETPOLL_NATIVE_TEST_POLLER_TESTS_H_

namespace netpoll_test {

void TestPollerContract();
void TestPollerHangupWithData();
void TestPollerIndependentInterest();
void TestPollerRefusedConnect();

}  // namespace netpoll_test

#endif  // NETPOLL_NATIVE_TEST_POLLER_TESTS_H_
