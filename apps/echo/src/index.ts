// What other workspace packages use of apps/echo (apps/bench, tooling/fault), one folder per
// layer: the RPC starter (service/, the Echo service; server/, its server; client/, its client)
// and raw/, the raw length-header echo server of `raw/cli.js serve`, the benchmarks' baseline.
// The rest of src/ is reached through the commands (`server-cli.js`, `client-cli.js`, `cli.js`)
// and the service module the server loads. A copy of the starter drops raw/ with
// `rm -r src/raw test/raw` and one sed on this file (README, "Your own service").
export { createEchoClient, EchoClient, type EchoClientOptions } from './client/echo-client';
export { ConfigError } from './config-error';
export {
  isIntegerText,
  parseChoiceFlag,
  parseIntegerFlag,
  parseListFlag,
  wantsHelp,
} from './flags';
export { kDefaultMaxFrameSize, kEchoImplementations } from './raw/echo-server';
export type { EchoAddress } from './raw/listen-address';
export { parseAddress } from './raw/listen-address';
export { createLogger, type Logger, type LogLevel } from './server/logger';
export { parseServerConfig, type ServerConfig } from './server/server-config';
export type { TallyTotals } from './server/server-metrics';
export {
  type RunningRpcServer,
  type ShutdownReport,
  startRpcServer,
} from './server/start-rpc-server';
export * from './service/echo-api';
