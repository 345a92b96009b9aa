// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Tests of the kqueue API that poller_kqueue.cc relies on (kqueue_tests.cc),
// run by the native suite when it is built with NETPOLL_POLLER=kqueue.

#ifndef NETPOLL_NATIVE_TEST_KQUEUE_TESTS_H_
#define NETPOLL_NATIVE_TEST_KQUEUE_TESTS_H_

namespace netpoll_test {

void TestKqueueFilters();
void TestKqueueChangeErrors();
void TestKqueueCloseForgets();
void TestKqueueEnableOneshot();

}  // namespace netpoll_test

#endif  // NETPOLL_NATIVE_TEST_KQUEUE_TESTS_H_
