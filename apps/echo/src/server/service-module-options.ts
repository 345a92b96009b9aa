/**
 * What the server entry tells the service module that each reactor thread loads. `@netpoll/rpc`
 * passes a service module no data of its own, but a worker thread starts with a copy of the main
 * thread's environment: the entry writes the already-validated options into one variable before
 * the reactors start, and the module reads them back (no second validation of user input).
 */
import type { LogLevel } from './logger';

export interface ServiceModuleOptions {
  /** WorkerPool threads for `hash`, per reactor. */
  readonly hashThreads: number;
  readonly logLevel: LogLevel;
  /** The BroadcastChannel the reactors' metrics answer on (one per server). */
  readonly metricsChannel: string;
}

/** The variable the options travel in. */
export const kServiceModuleOptionsEnv = 'NETPOLL_ECHO_SERVICE_MODULE_OPTIONS';

/** Used when the module is loaded without the entry (a test's own createServer). */
export const kDefaultServiceModuleOptions: ServiceModuleOptions = Object.freeze({
  hashThreads: 1,
  logLevel: 'info',
  metricsChannel: 'netpoll-echo-metrics',
});

/** Sets the variable for the reactor threads started after this call. */
export function publishServiceModuleOptions(options: ServiceModuleOptions): void {
  process.env[kServiceModuleOptionsEnv] = JSON.stringify(options);
}

/** The options the entry published, or the defaults. */
export function readServiceModuleOptions(
  env: NodeJS.ProcessEnv = process.env,
): ServiceModuleOptions {
  const text = env[kServiceModuleOptionsEnv];
  if (text === undefined) return kDefaultServiceModuleOptions;
  return {
    ...kDefaultServiceModuleOptions,
    ...(JSON.parse(text) as Partial<ServiceModuleOptions>),
  };
}
