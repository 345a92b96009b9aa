export {
  type ClientCallContext,
  type ClientInterceptor,
  type ClientStats,
  createClient,
  RpcClient,
} from './client/client';
export type { EndpointStats } from './client/endpoint';
export {
  type DnsResolverOptions,
  dnsResolver,
  type Resolver,
  staticResolver,
} from './client/resolver';
export { clientCallChannel, serverCallChannel } from './diagnostics';
export {
  InvalidArgumentError,
  isNetpollError,
  kRpcErrorCodes,
  OutOfRangeError,
  RpcError,
  type RpcErrorCode,
  type RpcErrorDetails,
  RpcStatus,
} from './errors';
export {
  type CallOptions,
  type ClientOptions,
  type PoolOptions,
  type ResolvedClientOptions,
  type ResolvedPoolOptions,
  type ResolvedServerOptions,
  resolveClientOptions,
  resolveServerOptions,
  type ServerOptions,
  type WireOptions,
} from './options';
export type { Metadata } from './protocol/encode';
export {
  Kind,
  kFlagClosing,
  kFlagDeadline,
  kFlagMetadata,
  kFlagRefused,
  kProtocolVersion,
  type LengthHeader,
  type MessageKind,
} from './protocol/frame';
export { decodeMessage, encodeMessage, type Message } from './protocol/message';
export {
  jsonSerializer,
  rawSerializer,
  type Serializer,
  type SerializerOption,
} from './serializers';
export { type AbortCode, CallContext } from './server/call-context';
export {
  type CloseOptions,
  type CloseResult,
  createServer,
  RpcServer,
  type ServerStats,
} from './server/server';
export type { Interceptor } from './server/server-core';
export type { Handler, MethodDefinition, Service } from './server/service';
export type { CallStats, LatencySnapshot } from './stats';
export { type TaskPool, workerMethod } from './worker-method';
