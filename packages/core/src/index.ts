export { AbortError, type SignalWatcher, unwatchSignal, watchSignal } from './abort';
export type { Network } from './address';
export { loadBinding, type NativeBinding, type NativeLimits } from './binding';
export { Connection } from './connection';
export type { CloseCallback } from './connection-owner';
export { ConnectionReader, type WaitOptions } from './connection-reader';
export { ConnectionWriter } from './connection-writer';
export {
  acceptErrorChannel,
  backpressureChannel,
  type ConnectionSide,
  connectionCloseChannel,
  connectionOpenChannel,
  reactorStallChannel,
} from './diagnostics';
export { dialConnection } from './dialer';
export {
  type CoreErrorCode,
  InvalidArgumentError,
  isNetpollError,
  kCoreErrorCodes,
  NetpollError,
  OutOfRangeError,
  TimeoutError,
} from './errors';
export { EventLoop } from './event-loop';
export {
  type EventLoopOptions,
  kDefaultEventLoopOptions,
  type OnConnect,
  type OnDisconnect,
  type OnError,
  type OnPrepare,
  type OnRequest,
  type ResolvedEventLoopOptions,
  resolveEventLoopOptions,
} from './event-loop-options';
export { configureReactor, getReactorStats } from './get-reactor';
export { createListener, Listener } from './listener';
export {
  type ConnectionOptions,
  type DialOptions,
  type FramingOptions,
  kDefaultDialOptions,
  kDefaultFramingOptions,
  kDefaultListenerOptions,
  kDefaultReactorOptions,
  kDefaultShutdownOptions,
  type ListenerOptions,
  type ReactorOptions,
  type ResolvedDialOptions,
  type ResolvedFramingOptions,
  type ResolvedShutdownOptions,
  resolveDialOptions,
  resolveReactorOptions,
  type ShutdownOptions,
  type ShutdownResult,
} from './options';
export type { ReactorStats } from './reactor-stats';
export { NetpollSystemError } from './system-error';
