// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Tests of how connections end (close_tests.cc): lingering closes, the input
// budget of a graceful shutdown, a closing listener's backlog, and output to
// a peer that closed its write side.

#ifndef NETPOLL_NATIVE_TEST_CLOSE_TESTS_H_
#define NETPOLL_NATIVE_TEST_CLOSE_TESTS_H_

namespace netpoll_test {

void TestCloseWithUnreadInputResets();
void TestLingerDeliversEverything();
void TestLingerKeepsASendingPeerWhole();
void TestLingerDeadline();
void TestAbortiveClose();
void TestEndInputBudget();
void TestListenerCloseSweepsBacklog();
void TestOutputDrainsAfterPeerEof();

}  // namespace netpoll_test

#endif  // NETPOLL_NATIVE_TEST_CLOSE_TESTS_H_
