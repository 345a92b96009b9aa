// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Module entry point: registers the per-env addon instance and nothing else.

#include "reactor_wrap.h"

using NetpollReactor = netpoll::ReactorWrap;
NODE_API_ADDON(NetpollReactor)
