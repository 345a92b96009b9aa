// The library side of apps/echo: the RPC starter (the Echo service, its server, its client) and
// the raw length-header echo server of `cli.js serve` (from './echo-server', './listen-address',
// './start-echo-server'), the benchmarks' baseline. Exports stay one line each where they can, so
// a copy of the starter drops the raw server's with one sed (README, "Your own service").
export {
  type CallCommand,
  type ClientCommand,
  kAddressEnv,
  kClientUsage,
  kDefaultAddress,
  type LoadCommand,
  parseClientCommand,
  parseRequestWords,
} from './client-config';
export { ConfigError } from './config-error';
export * from './echo-api';
export {
  createEchoClient,
  describeCallError,
  EchoClient,
  type EchoClientOptions,
  errorCode,
} from './echo-client';
export type { EchoImplementation, EchoServer, EchoServerOptions } from './echo-server';
export { kDefaultMaxFrameSize, kEchoImplementations } from './echo-server';
export {
  abortStatus,
  createEchoService,
  type EchoService,
  type EchoServiceOptions,
} from './echo-service';
export { parseChoiceFlag, parseIntegerFlag, parseListFlag, wantsHelp } from './flags';
export type { EchoAddress } from './listen-address';
export { formatAddress, parseAddress } from './listen-address';
export { createLogger, kLogLevels, type Logger, type LogLevel, loggingInterceptor } from './logger';
export {
  joinHostPort,
  type MetricsHttpServer,
  type MetricsHttpServerOptions,
  startMetricsHttpServer,
} from './metrics-http-server';
export { answeredCode, kDurationBuckets, startReactorMetrics } from './reactor-metrics';
export {
  formatLoadSummary,
  type LatencySummary,
  type LoadOptions,
  type LoadSummary,
  quantile,
  runLoad,
} from './run-load';
export {
  kServerSettings,
  kServerUsage,
  parseServerConfig,
  type ServerConfig,
} from './server-config';
export { ServerMetrics, type ServerMetricsOptions, type TallyTotals } from './server-metrics';
export {
  kDefaultServiceModuleOptions,
  kServiceModuleOptionsEnv,
  readServiceModuleOptions,
  type ServiceModuleOptions,
} from './service-module-options';
export { startEchoServer } from './start-echo-server';
export {
  kServiceModule,
  type RunningRpcServer,
  type ShutdownReport,
  startRpcServer,
} from './start-rpc-server';
