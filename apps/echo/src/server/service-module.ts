/**
 * The service module: `createServer(require.resolve('./service-module'), { reactors })` makes
 * each reactor thread load its own copy (rpc README, "Multi-core"), so everything here is per
 * reactor — the `hash` WorkerPool, the logger, the metrics. It exports what the rpc package
 * reads: `service` and `interceptors`.
 */
import { join } from 'node:path';
import { WorkerPool } from '@netpoll/gopool';
import type { Interceptor } from '@netpoll/rpc';
import { kServiceName } from '../service/echo-api';
import { createEchoService } from '../service/echo-service';
import { createLogger, logCallFailures, loggingInterceptor } from './logger';
import { startReactorMetrics } from './reactor-metrics';
import { readServiceModuleOptions } from './service-module-options';

const options = readServiceModuleOptions();
const logger = createLogger(options.logLevel, kServiceName);

// Threads stay up (minThreads) so the first hash pays no thread start; idle ones are unref'd and
// never keep the reactor alive at shutdown.
const pool = new WorkerPool({
  filename: join(__dirname, '..', 'service', 'hash-task.js'),
  minThreads: options.hashThreads,
  maxThreads: options.hashThreads,
});

startReactorMetrics(options.metricsChannel);

logCallFailures(logger);

export const service = createEchoService({ pool });
export const interceptors: Interceptor[] = logger.isLevelEnabled('debug')
  ? [loggingInterceptor(logger)]
  : [];

logger.debug({ hashThreads: options.hashThreads }, 'reactor loaded the service');
