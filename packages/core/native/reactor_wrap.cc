// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// See reactor_wrap.h. Errors are returned as negative numbers; the only
// JS exception this file can produce is from the dispatcher itself, which is
// routed to process 'uncaughtException' (napi_fatal_exception) because no
// caller is waiting for it.

#include "reactor_wrap.h"

#include <sys/resource.h>
#include <uv.h>

#include <cerrno>
#include <string>
#include <vector>

#include "layout.h"
#include "reactor.h"
#include "socket.h"

namespace netpoll {

struct LoopRuntime {
  napi_env env = nullptr;
  Reactor reactor;
  bool initialized = false;
  int open_handles = 0;
  uv_poll_t poll{};
  uv_prepare_t prepare{};
  uv_check_t check{};
  uv_timer_t timer{};
  uv_timer_t linger_timer{};  // runs batches while closes linger (their deadlines)
  bool linger_timer_active = false;
  napi_ref dispatcher = nullptr;
  napi_async_context async_context = nullptr;
  std::vector<napi_ref> memory_refs;
  std::vector<napi_ref> slab_refs;
  int32_t* control = nullptr;
  double* stats = nullptr;
  napi_async_cleanup_hook_handle cleanup = nullptr;

  void UpdateRef() {
    if (!initialized) return;
    auto* handle = reinterpret_cast<uv_handle_t*>(&poll);
    if (reactor.active_count() > 0) {
      uv_ref(handle);
    } else {
      uv_unref(handle);
    }
    // A lingering close also ends at its deadline, which does not make the
    // epoll fd readable: sweep them every tick.
    const bool lingering = reactor.lingering_count() > 0;
    if (lingering && !linger_timer_active) {
      uv_timer_start(&linger_timer, OnLingerTimer, kLingerTickMs, kLingerTickMs);
      linger_timer_active = true;
    } else if (!lingering && linger_timer_active) {
      uv_timer_stop(&linger_timer);
      linger_timer_active = false;
    }
  }

  static constexpr uint64_t kLingerTickMs = 10;

  void ScheduleBackoff() {
    int delay = reactor.TakeBackoffDelay();
    if (delay > 0) uv_timer_start(&timer, OnTimer, static_cast<uint64_t>(delay), 0);
  }

  void CallDispatcher() {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value function;
    napi_value receiver;
    napi_value result;
    napi_get_reference_value(env, dispatcher, &function);
    napi_get_global(env, &receiver);
    stats[layout::kStatNativeToJsCalls] += 1;
    napi_status status =
        napi_make_callback(env, async_context, receiver, function, 0, nullptr, &result);
    if (status == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
    napi_close_handle_scope(env, scope);
  }

  void RunBatch() {
    reactor.ProcessSubmissions();
    int records = reactor.Drain();
    if (records > 0 || control[layout::kHeaderFlags] != 0) CallDispatcher();
    reactor.ProcessSubmissions();
    ScheduleBackoff();
    UpdateRef();
  }

  // Runs before the loop blocks (prepare) and after its I/O callbacks
  // (check): sends late replies, and arms connections whose reading was
  // parked for want of a slab once JS has released one (JS writes slab
  // reference counts only; it never calls native to say so).
  void RunHook() {
    if (reactor.stalled_count() > 0) reactor.ResumeStalledReads();
    if (control[layout::kHeaderSubmitCount] <= 0) return;
    stats[layout::kStatHookFlushes] += 1;
    reactor.ProcessSubmissions();
    UpdateRef();
  }

  static void OnPoll(uv_poll_t* handle, int /*status*/, int /*events*/) {
    static_cast<LoopRuntime*>(handle->data)->RunBatch();
  }
  static void OnPrepare(uv_prepare_t* handle) {
    static_cast<LoopRuntime*>(handle->data)->RunHook();
  }
  static void OnCheck(uv_check_t* handle) {
    static_cast<LoopRuntime*>(handle->data)->RunHook();
  }
  static void OnLingerTimer(uv_timer_t* handle) {
    static_cast<LoopRuntime*>(handle->data)->RunBatch();
  }
  static void OnTimer(uv_timer_t* handle) {
    auto* self = static_cast<LoopRuntime*>(handle->data);
    self->reactor.ResumeAccept();
    self->UpdateRef();
  }

  // Async env cleanup: close every fd now, then the uv handles; the
  // runtime frees itself when the last handle has closed.
  static void OnCleanup(napi_async_cleanup_hook_handle handle, void* data) {
    auto* self = static_cast<LoopRuntime*>(data);
    self->cleanup = handle;
    self->reactor.Shutdown();
    if (!self->initialized) {
      self->Finish();
      return;
    }
    uv_poll_stop(&self->poll);
    uv_prepare_stop(&self->prepare);
    uv_check_stop(&self->check);
    uv_timer_stop(&self->timer);
    uv_timer_stop(&self->linger_timer);
    self->open_handles = 5;
    uv_close(reinterpret_cast<uv_handle_t*>(&self->poll), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&self->prepare), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&self->check), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&self->timer), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&self->linger_timer), OnClosed);
  }

  static void OnClosed(uv_handle_t* handle) {
    auto* self = static_cast<LoopRuntime*>(handle->data);
    if (--self->open_handles == 0) self->Finish();
  }

  void Finish() {
    napi_remove_async_cleanup_hook(cleanup);
    delete this;
  }
};

namespace {

int32_t IntArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber()) return 0;
  return info[index].As<Napi::Number>().Int32Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsString()) return std::string();
  return info[index].As<Napi::String>().Utf8Value();
}

Napi::Value Result(const Napi::CallbackInfo& info, int value) {
  return Napi::Number::New(info.Env(), value);
}

// (family, host, port) → Endpoint.
Endpoint EndpointArgs(const Napi::CallbackInfo& info, size_t first) {
  Endpoint endpoint;
  endpoint.family = static_cast<SocketFamily>(IntArg(info, first));
  endpoint.host = StringArg(info, first + 1);
  endpoint.port = IntArg(info, first + 2);
  return endpoint;
}

Framing FramingArgs(const Napi::CallbackInfo& info, size_t first) {
  Framing framing;
  framing.header_size = IntArg(info, first);
  framing.max_frame = static_cast<uint32_t>(IntArg(info, first + 1));
  return framing;
}

}  // namespace

ReactorWrap::ReactorWrap(Napi::Env env, Napi::Object exports) : runtime_(new LoopRuntime()) {
  runtime_->env = env;
  napi_add_async_cleanup_hook(env, LoopRuntime::OnCleanup, runtime_, nullptr);
  DefineAddon(exports, {
                           InstanceMethod("maxFds", &ReactorWrap::MaxFds),
                           InstanceMethod("layout", &ReactorWrap::Layout),
                           InstanceMethod("init", &ReactorWrap::InitReactor),
                           InstanceMethod("addSlab", &ReactorWrap::AddSlab),
                           InstanceMethod("listen", &ReactorWrap::Listen),
                           InstanceMethod("adoptListener", &ReactorWrap::AdoptListener),
                           InstanceMethod("connect", &ReactorWrap::Connect),
                           InstanceMethod("setReading", &ReactorWrap::SetReading),
                           InstanceMethod("setFraming", &ReactorWrap::SetFraming),
                           InstanceMethod("releaseSlab", &ReactorWrap::ReleaseSlab),
                           InstanceMethod("setKeepAlive", &ReactorWrap::SetKeepAlive),
                           InstanceMethod("close", &ReactorWrap::Close),
                           InstanceMethod("endInput", &ReactorWrap::EndInput),
                           InstanceMethod("unacknowledgedBytes",
                                          &ReactorWrap::UnacknowledgedBytes),
                           InstanceMethod("flush", &ReactorWrap::Flush),
                           InstanceMethod("address", &ReactorWrap::Address),
                       });
}

// The runtime outlives this object when the env is torn down; it is freed
// by its own cleanup hook, never here.
ReactorWrap::~ReactorWrap() = default;

Napi::Value ReactorWrap::MaxFds(const Napi::CallbackInfo& info) {
  struct rlimit limit {};
  int max_fds = 1 << 16;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    max_fds = static_cast<int>(limit.rlim_cur < (1u << 20) ? limit.rlim_cur : (1u << 20));
  }
  return Result(info, max_fds);
}

Napi::Value ReactorWrap::Layout(const Napi::CallbackInfo& info) {
  Napi::Object object = Napi::Object::New(info.Env());
  auto set = [&](const char* name, int value) { object.Set(name, value); };
  using namespace layout;  // NOLINT(build/namespaces)
  set("kHeaderRecordCount", kHeaderRecordCount);
  set("kHeaderFlags", kHeaderFlags);
  set("kHeaderSubmitCount", kHeaderSubmitCount);
  set("kHeaderProcessedGen", kHeaderProcessedGen);
  set("kHeaderDebug", kHeaderDebug);
  set("kRecordBase", kRecordBase);
  set("kMaxRecords", kMaxRecords);
  set("kSubmitBase", kSubmitBase);
  set("kMaxSubmits", kMaxSubmits);
  set("kSlabRefBase", kSlabRefBase);
  set("kMaxSlabs", kMaxSlabs);
  set("kControlInts", kControlInts);
  set("kRecordData", kRecordData);
  set("kRecordAccept", kRecordAccept);
  set("kRecordConnect", kRecordConnect);
  set("kRecordHangup", kRecordHangup);
  set("kRecordDrain", kRecordDrain);
  set("kRecordFrameTooLarge", kRecordFrameTooLarge);
  set("kRecordAcceptError", kRecordAcceptError);
  set("kRecordAcceptPaused", kRecordAcceptPaused);
  set("kRecordLingerDone", kRecordLingerDone);
  set("kRecordInputEnd", kRecordInputEnd);
  set("kFdFlagBackpressure", kFdFlagBackpressure);
  set("kFdFlagLingering", kFdFlagLingering);
  set("kSubmitWrite", kSubmitWrite);
  set("kSubmitClose", kSubmitClose);
  set("kFdStateInts", kFdStateInts);
  set("kStatCount", kStatCount);
  return object;
}

Napi::Value ReactorWrap::InitReactor(const Napi::CallbackInfo& info) {
  LoopRuntime* runtime = runtime_;
  if (runtime->initialized) return Result(info, -EALREADY);
  if (info.Length() < 4 || !info[0].IsArrayBuffer() || !info[1].IsArrayBuffer() ||
      !info[2].IsArrayBuffer() || !info[3].IsFunction()) {
    return Result(info, -EINVAL);
  }
  auto control = info[0].As<Napi::ArrayBuffer>();
  auto fd_state = info[1].As<Napi::ArrayBuffer>();
  auto stats = info[2].As<Napi::ArrayBuffer>();
  if (control.ByteLength() < sizeof(int32_t) * layout::kControlInts ||
      stats.ByteLength() < sizeof(double) * layout::kStatCount) {
    return Result(info, -EINVAL);
  }
  int max_fds = static_cast<int>(fd_state.ByteLength() / (sizeof(int32_t) * layout::kFdStateInts));
  ReactorLimits limits;
  if (info.Length() > 4 && info[4].IsObject()) {
    Napi::Object object = info[4].As<Napi::Object>();
    auto read = [&](const char* name, int fallback) {
      Napi::Value value = object.Get(name);
      return value.IsNumber() ? value.As<Napi::Number>().Int32Value() : fallback;
    };
    limits.max_events = read("maxEvents", limits.max_events);
    limits.max_batch_bytes = static_cast<size_t>(read("maxBatchBytes", 4 << 20));
    limits.read_size = static_cast<size_t>(read("readSize", 64 << 10));
  }
  runtime->control = static_cast<int32_t*>(control.Data());
  runtime->stats = static_cast<double*>(stats.Data());
  int status = runtime->reactor.Open(runtime->control, static_cast<int32_t*>(fd_state.Data()),
                                     max_fds, runtime->stats, limits);
  if (status < 0) return Result(info, status);
  napi_env env = info.Env();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Result(info, -EINVAL);
  for (napi_value value : {info[0], info[1], info[2]}) {
    napi_ref ref;
    napi_create_reference(env, value, 1, &ref);
    runtime->memory_refs.push_back(ref);
  }
  napi_create_reference(env, info[3], 1, &runtime->dispatcher);
  napi_value resource_name;
  napi_create_string_utf8(env, "netpoll:reactor", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, nullptr, resource_name, &runtime->async_context);

  uv_poll_init(loop, &runtime->poll, runtime->reactor.poll_fd());
  uv_prepare_init(loop, &runtime->prepare);
  uv_check_init(loop, &runtime->check);
  uv_timer_init(loop, &runtime->timer);
  uv_timer_init(loop, &runtime->linger_timer);
  runtime->poll.data = runtime;
  runtime->prepare.data = runtime;
  runtime->check.data = runtime;
  runtime->timer.data = runtime;
  runtime->linger_timer.data = runtime;
  uv_poll_start(&runtime->poll, UV_READABLE, LoopRuntime::OnPoll);
  uv_prepare_start(&runtime->prepare, LoopRuntime::OnPrepare);
  uv_check_start(&runtime->check, LoopRuntime::OnCheck);
  uv_unref(reinterpret_cast<uv_handle_t*>(&runtime->prepare));
  uv_unref(reinterpret_cast<uv_handle_t*>(&runtime->check));
  uv_unref(reinterpret_cast<uv_handle_t*>(&runtime->timer));
  uv_unref(reinterpret_cast<uv_handle_t*>(&runtime->linger_timer));
  runtime->initialized = true;
  runtime->UpdateRef();
  return Result(info, 0);
}

Napi::Value ReactorWrap::AddSlab(const Napi::CallbackInfo& info) {
  if (!runtime_->initialized) return Result(info, -EBADF);
  if (info.Length() < 2 || !info[0].IsArrayBuffer()) return Result(info, -EINVAL);
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  int index = runtime_->reactor.AddSlab(static_cast<uint8_t*>(buffer.Data()), buffer.ByteLength(),
                                        info[1].ToBoolean().Value());
  if (index >= 0) {
    // The reference keeps the ArrayBuffer (and so the raw pointer) alive
    // until ReleaseSlab or env teardown.
    if (runtime_->slab_refs.size() <= static_cast<size_t>(index))
      runtime_->slab_refs.resize(static_cast<size_t>(index) + 1, nullptr);
    napi_create_reference(info.Env(), info[0], 1, &runtime_->slab_refs[static_cast<size_t>(index)]);
  }
  return Result(info, index);
}

Napi::Value ReactorWrap::Listen(const Napi::CallbackInfo& info) {
  if (!runtime_->initialized) return Result(info, -EBADF);
  int fd = runtime_->reactor.Listen(EndpointArgs(info, 0), IntArg(info, 3), IntArg(info, 4) != 0);
  runtime_->UpdateRef();
  return Result(info, fd);
}

Napi::Value ReactorWrap::AdoptListener(const Napi::CallbackInfo& info) {
  if (!runtime_->initialized) return Result(info, -EBADF);
  int fd = runtime_->reactor.AdoptListener(IntArg(info, 0));
  runtime_->UpdateRef();
  return Result(info, fd);
}

Napi::Value ReactorWrap::Connect(const Napi::CallbackInfo& info) {
  if (!runtime_->initialized) return Result(info, -EBADF);
  int fd = runtime_->reactor.Connect(EndpointArgs(info, 0), FramingArgs(info, 3));
  runtime_->UpdateRef();
  return Result(info, fd);
}

Napi::Value ReactorWrap::SetFraming(const Napi::CallbackInfo& info) {
  return Result(info, runtime_->reactor.SetFraming(IntArg(info, 0), FramingArgs(info, 1)));
}

Napi::Value ReactorWrap::ReleaseSlab(const Napi::CallbackInfo& info) {
  int index = IntArg(info, 0);
  int status = runtime_->reactor.ReleaseSlab(index);
  if (status == 0 && static_cast<size_t>(index) < runtime_->slab_refs.size() &&
      runtime_->slab_refs[static_cast<size_t>(index)] != nullptr) {
    napi_delete_reference(info.Env(), runtime_->slab_refs[static_cast<size_t>(index)]);
    runtime_->slab_refs[static_cast<size_t>(index)] = nullptr;
  }
  return Result(info, status);
}

Napi::Value ReactorWrap::SetReading(const Napi::CallbackInfo& info) {
  return Result(info, runtime_->reactor.SetReading(IntArg(info, 0), IntArg(info, 1) != 0));
}

Napi::Value ReactorWrap::SetKeepAlive(const Napi::CallbackInfo& info) {
  return Result(info, netpoll::SetKeepAlive(IntArg(info, 0), IntArg(info, 1)));
}

Napi::Value ReactorWrap::Close(const Napi::CallbackInfo& info) {
  int status = runtime_->reactor.Close(IntArg(info, 0), IntArg(info, 1));
  runtime_->UpdateRef();
  return Result(info, status);
}

Napi::Value ReactorWrap::EndInput(const Napi::CallbackInfo& info) {
  return Result(info, runtime_->reactor.EndInput(IntArg(info, 0)));
}

Napi::Value ReactorWrap::UnacknowledgedBytes(const Napi::CallbackInfo& info) {
  return Result(info, netpoll::UnacknowledgedBytes(IntArg(info, 0)));
}

Napi::Value ReactorWrap::Flush(const Napi::CallbackInfo& info) {
  int count = runtime_->reactor.ProcessSubmissions();
  runtime_->UpdateRef();
  return Result(info, count);
}

Napi::Value ReactorWrap::Address(const Napi::CallbackInfo& info) {
  std::string text;
  int family = SocketAddress(IntArg(info, 0), IntArg(info, 1) != 0, &text);
  if (family < 0) return Result(info, family);
  return Napi::String::New(info.Env(), text);
}

}  // namespace netpoll
