// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Node-API glue for the reactor engine: one instance per env (main thread
// or worker), created by NODE_API_ADDON. It unpacks arguments, calls the
// engine and returns numbers (non-negative results or -errno); it never
// validates options (TypeScript does) and never allocates JS objects per
// event.
//
// Loop integration: one uv_poll on the engine's poller fd; each readable
// callback runs one batch (Drain → exactly one napi_make_callback into the
// JS dispatcher → ProcessSubmissions). A uv_prepare and a uv_check hook
// process submissions queued later (after awaits, timers) without a JS→C++
// call, and re-arm reads parked by slab exhaustion once JS has released
// slab memory (the prepare hook runs before every blocking poll). An async env cleanup hook closes every fd and the uv handles, so
// the addon unloads cleanly with its worker thread.
//
// Thread rules: every method runs on the env's JS thread.

#ifndef NETPOLL_NATIVE_REACTOR_WRAP_H_
#define NETPOLL_NATIVE_REACTOR_WRAP_H_

#include <napi.h>

namespace netpoll {

struct LoopRuntime;

class ReactorWrap : public Napi::Addon<ReactorWrap> {
 public:
  ReactorWrap(Napi::Env env, Napi::Object exports);
  ~ReactorWrap();

 private:
  Napi::Value MaxFds(const Napi::CallbackInfo& info);
  Napi::Value Layout(const Napi::CallbackInfo& info);
  Napi::Value InitReactor(const Napi::CallbackInfo& info);
  Napi::Value AddSlab(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value AdoptListener(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value SetReading(const Napi::CallbackInfo& info);
  Napi::Value SetFraming(const Napi::CallbackInfo& info);
  Napi::Value ReleaseSlab(const Napi::CallbackInfo& info);
  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value EndInput(const Napi::CallbackInfo& info);
  Napi::Value UnacknowledgedBytes(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Address(const Napi::CallbackInfo& info);

  // Owned by itself: freed after its uv handles have closed, which may be
  // later than this object's finalizer.
  LoopRuntime* runtime_;
};

}  // namespace netpoll

#endif  // NETPOLL_NATIVE_REACTOR_WRAP_H_
