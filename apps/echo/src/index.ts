// The library side of apps/echo, one folder per layer: the RPC starter (service/, the Echo
// service; server/, its server; client/, its client) and raw/, the raw length-header echo server
// of `raw/cli.js serve`, the benchmarks' baseline. A copy of the starter drops raw/ with
// `rm -r src/raw test/raw` and one sed on this file (README, "Your own service").
export {
  type CallCommand,
  type ClientCommand,
  kAddressEnv,
  kClientUsage,
  kDefaultAddress,
  type LoadCommand,
  parseClientCommand,
  parseRequestWords,
} from './client/client-config';
export {
  createEchoClient,
  describeCallError,
  EchoClient,
  type EchoClientOptions,
  errorCode,
} from './client/echo-client';
export {
  formatLoadSummary,
  type LatencySummary,
  type LoadOptions,
  type LoadSummary,
  quantile,
  runLoad,
} from './client/run-load';
export { ConfigError } from './config-error';
export {
  isIntegerText,
  parseChoiceFlag,
  parseIntegerFlag,
  parseListFlag,
  wantsHelp,
} from './flags';
export type { EchoImplementation, EchoServer, EchoServerOptions } from './raw/echo-server';
export { kDefaultMaxFrameSize, kEchoImplementations } from './raw/echo-server';
export type { EchoAddress } from './raw/listen-address';
export { formatAddress, parseAddress } from './raw/listen-address';
export { startEchoServer } from './raw/start-echo-server';
export {
  createLogger,
  kLogLevels,
  type Logger,
  type LogLevel,
  logCallFailures,
  loggingInterceptor,
} from './server/logger';
export {
  joinHostPort,
  type MetricsHttpServer,
  type MetricsHttpServerOptions,
  startMetricsHttpServer,
} from './server/metrics-http-server';
export { answeredCode, kDurationBuckets, startReactorMetrics } from './server/reactor-metrics';
export {
  kServerSettings,
  kServerUsage,
  parseServerConfig,
  type ServerConfig,
} from './server/server-config';
export {
  ServerMetrics,
  type ServerMetricsOptions,
  type TallyTotals,
} from './server/server-metrics';
export {
  kDefaultServiceModuleOptions,
  kServiceModuleOptionsEnv,
  readServiceModuleOptions,
  type ServiceModuleOptions,
} from './server/service-module-options';
export {
  kServiceModule,
  type RunningRpcServer,
  type ShutdownReport,
  startRpcServer,
} from './server/start-rpc-server';
export * from './service/echo-api';
export {
  abortStatus,
  createEchoService,
  type EchoService,
  type EchoServiceOptions,
} from './service/echo-service';
