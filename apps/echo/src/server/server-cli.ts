#!/usr/bin/env node
import { ConfigError } from '../config-error';
/**
 * The server entry: `node dist/server/server-cli.js [--port N] ...` (or `ECHO_PORT=N ...`). Checks the
 * configuration once (exit 2 on a bad one), serves, logs `ready` with both addresses, and on
 * SIGTERM/SIGINT shuts down gracefully and exits 0 — a second signal cuts the drain short.
 */
import { wantsHelp } from '../flags';
import { kServiceName } from '../service/echo-api';
import { createLogger } from './logger';
import { kServerUsage, parseServerConfig, type ServerConfig } from './server-config';
import { startRpcServer } from './start-rpc-server';

async function main(argv: readonly string[]): Promise<void> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kServerUsage}\n`);
    return;
  }
  let config: ServerConfig;
  try {
    config = parseServerConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\n${kServerUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(config.logLevel, kServiceName);
  const server = await startRpcServer(config, logger);

  const cutShort = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: closing what is left now');
      cutShort.abort();
      return;
    }
    logger.info({ signal, timeout: config.shutdownTimeout }, 'shutting down');
    server.close(cutShort.signal).then(
      (report) => {
        logger.info(report, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Only now: a supervisor that sends SIGTERM as soon as it reads `ready` must find the handlers
  // in place (without them, SIGTERM kills the process at once, exit code null).
  logger.info(
    {
      address: server.address,
      metricsAddress: server.metricsAddress,
      reactors: config.reactors,
      hashThreads: config.hashThreads,
    },
    'ready',
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    // Start-up failed (a port in use…): say so in the log format too, and exit 1.
    createLogger('info', kServiceName).fatal({ err: error }, 'failed to start');
    process.exit(1);
  });
}
