/**
 * The server's configuration: each setting from its flag, else its environment variable, else
 * its default — checked once, here, before anything starts. A bad value throws a
 * {@link ConfigError} naming the flag, the variable, the accepted range and where the value came
 * from; the entry prints it and exits 2.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config-error';
import { isIntegerText, joinNegativeValues } from '../flags';
import { kLogLevels, type LogLevel } from './logger';

export interface ServerConfig {
  /** Interface both ports bind to: an IP literal or `localhost`. */
  readonly host: string;
  /** RPC port (0: any free port). */
  readonly port: number;
  /** `/metrics`, `/ready`, `/live` port (0: any free port). */
  readonly metricsPort: number;
  /** Reactor threads, each loading the service module. */
  readonly reactors: number;
  /** WorkerPool threads for `hash`, per reactor. */
  readonly hashThreads: number;
  /** How long a graceful shutdown lets calls in flight finish, ms. */
  readonly shutdownTimeout: number;
  readonly logLevel: LogLevel;
}

interface IntegerSetting {
  readonly kind: 'integer';
  readonly min: number;
  readonly max: number;
}
interface ChoiceSetting {
  readonly kind: 'choice';
  readonly choices: readonly string[];
}
interface HostSetting {
  readonly kind: 'host';
}
type Setting = (IntegerSetting | ChoiceSetting | HostSetting) & {
  readonly flag: string;
  readonly env: string;
  readonly fallback: string;
  readonly help: string;
};

/** Every setting: the usage text and the parser are both made from this table. */
export const kServerSettings = {
  host: {
    kind: 'host',
    flag: 'host',
    env: 'ECHO_HOST',
    fallback: '127.0.0.1',
    help: 'interface for both ports: an IP address or localhost (0.0.0.0: all)',
  },
  port: {
    kind: 'integer',
    min: 0,
    max: 65535,
    flag: 'port',
    env: 'ECHO_PORT',
    fallback: '7000',
    help: 'RPC port (0: any free port, logged)',
  },
  metricsPort: {
    kind: 'integer',
    min: 0,
    max: 65535,
    flag: 'metrics-port',
    env: 'ECHO_METRICS_PORT',
    fallback: '9464',
    help: 'port of /metrics, /ready and /live (0: any free port, logged)',
  },
  reactors: {
    kind: 'integer',
    min: 1,
    max: 256,
    flag: 'reactors',
    env: 'ECHO_REACTORS',
    fallback: '1',
    help: `reactor threads (this machine has ${availableParallelism()} CPUs)`,
  },
  hashThreads: {
    kind: 'integer',
    min: 1,
    max: 64,
    flag: 'hash-threads',
    env: 'ECHO_HASH_THREADS',
    fallback: '1',
    help: 'WorkerPool threads for hash, per reactor',
  },
  shutdownTimeout: {
    kind: 'integer',
    min: 0,
    max: 2_147_483_647,
    flag: 'shutdown-timeout',
    env: 'ECHO_SHUTDOWN_TIMEOUT',
    fallback: '10000',
    help: 'ms calls in flight may take to finish on SIGTERM/SIGINT',
  },
  logLevel: {
    kind: 'choice',
    choices: kLogLevels,
    flag: 'log-level',
    env: 'ECHO_LOG_LEVEL',
    fallback: 'info',
    help: `log level: ${kLogLevels.join(', ')}`,
  },
} as const satisfies Record<keyof ServerConfig, Setting>;

type Key = keyof ServerConfig;
const kKeys = Object.keys(kServerSettings) as Key[];

export const kServerUsage = `usage: server-cli.js [--FLAG VALUE]...   (or the environment variables; flags win)

Runs the Echo RPC service (@netpoll/rpc, JSON payloads) with Prometheus metrics.
Logs one JSON object per line; {"msg":"ready",...} names both addresses when it serves.
SIGTERM or SIGINT: graceful shutdown (GOAWAY, calls in flight finish), exit 0;
a second signal cuts the shutdown short. A bad setting exits 2 before listening.

${usageRows()}`;

/** One row per setting (flag and variable, then what it takes), the columns as wide as needed. */
function usageRows(): string {
  const rows: Array<[string, string]> = kKeys.map((key) => {
    const setting: Setting = kServerSettings[key];
    const range = setting.kind === 'integer' ? `, ${setting.min} to ${setting.max}` : '';
    return [
      `  --${setting.flag} (${setting.env})`,
      `${setting.help}${range}; default ${setting.fallback}`,
    ];
  });
  rows.push(['  --help, -h', 'print this and exit 0']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `${left.padEnd(width)}${right}`).join('\n');
}

function parseSetting(setting: Setting, text: string, source: string): number | string {
  const name = `--${setting.flag} (${setting.env})`;
  const received = `received ${JSON.stringify(text)} from ${source}`;
  switch (setting.kind) {
    case 'integer': {
      if (!isIntegerText(text, setting.min, setting.max)) {
        throw new ConfigError(
          `${name} must be an integer from ${setting.min} to ${setting.max} (${received})`,
        );
      }
      return Number(text);
    }
    case 'choice':
      if (!setting.choices.includes(text)) {
        throw new ConfigError(`${name} must be one of ${setting.choices.join(', ')} (${received})`);
      }
      return text;
    case 'host':
      if (text !== 'localhost' && isIP(text) === 0) {
        throw new ConfigError(`${name} must be an IP address or localhost (${received})`);
      }
      return text;
  }
}

/**
 * The configuration from `argv` (flags, without the node and script paths) and `env`. Throws a
 * {@link ConfigError} for an unknown flag, a flag without its value, a stray argument, or a
 * value outside its range.
 */
export function parseServerConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ServerConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        kKeys.map((key) => [kServerSettings[key].flag, { type: 'string' as const }]),
      ),
    });
    values = parsed.values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const config: Record<string, number | string> = {};
  for (const key of kKeys) {
    const setting: Setting = kServerSettings[key];
    const flag = values[setting.flag];
    const fromEnv = env[setting.env];
    if (typeof flag === 'string') config[key] = parseSetting(setting, flag, `--${setting.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') {
      config[key] = parseSetting(setting, fromEnv, setting.env);
    } else config[key] = parseSetting(setting, setting.fallback, 'the default');
  }
  const result = config as unknown as ServerConfig;
  if (result.port !== 0 && result.port === result.metricsPort) {
    throw new ConfigError(
      `--port (ECHO_PORT) and --metrics-port (ECHO_METRICS_PORT) must differ (both ${result.port})`,
    );
  }
  return Object.freeze(result);
}
