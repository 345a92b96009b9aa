/**
 * The client CLI's command line: `call METHOD [REQUEST]` and `load [...]`, checked once before
 * anything is sent. The request is checked with the same parser the server uses, so a bad one
 * fails here, naming the field. Errors are {@link ConfigError}s; the CLI prints them and exits 2.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config-error';
import { isIntegerText, joinNegativeValues } from '../flags';
import {
  type EchoMethod,
  isEchoMethod,
  kEchoMethods,
  kRequestParsers,
  type RequestOf,
} from '../service/echo-api';

export const kDefaultAddress = '127.0.0.1:7000';
/** The variable that gives the server's address when `--address` does not. */
export const kAddressEnv = 'ECHO_ADDRESS';

export interface CallCommand {
  readonly command: 'call';
  readonly address: string;
  readonly method: EchoMethod;
  readonly request: RequestOf<EchoMethod>;
  /** ms; 0: none. */
  readonly timeout: number;
}

export interface LoadCommand {
  readonly command: 'load';
  readonly address: string;
  readonly method: EchoMethod;
  readonly request: RequestOf<EchoMethod>;
  readonly timeout: number;
  readonly concurrency: number;
  readonly connections: number;
  /** 0: no limit. At least one of `calls` and `duration` is set. */
  readonly calls: number;
  readonly duration: number;
  /** Print the summary as one JSON line. */
  readonly json: boolean;
}

export type ClientCommand = CallCommand | LoadCommand;

export const kClientUsage = `usage: client-cli.js call METHOD [REQUEST] [--address HOST:PORT] [--timeout MS]
       client-cli.js load [--method METHOD] [--request REQUEST] [--calls N] [--duration MS]
                          [--concurrency N] [--connections N] [--timeout MS] [--json]
                          [--address HOST:PORT]

Calls the Echo service. METHOD: ${kEchoMethods.join(', ')}.
REQUEST: a JSON object ('{"message":"hi"}') or KEY=VALUE words (message=hi ms=100;
a value that parses as JSON is taken as JSON, else as a string; in --request, the
words are split at spaces). Default: {}.

call    one call: prints the response as JSON and exits 0, or prints the coded
        error and exits 1
load    calls in a loop, with a progress bar on a terminal, then prints the
        latency (p50, p90, p99, max), calls/s and the errors by code; exits 0
        when every call succeeded, else 1 (default: echo, 2000 ms, 16 callers)

  --address HOST:PORT   the server (default $${kAddressEnv}, else ${kDefaultAddress})
  --timeout MS          per-call deadline, 0 to 600000 (default 5000; 0: none)
  --calls N             load: stop after N calls, 0 to 100000000 (0: no limit)
  --duration MS         load: stop after MS, 0 to 600000 (default 2000 unless --calls)
  --concurrency N       load: calls in flight, 1 to 10000 (default 16)
  --connections N       load: connections to the server, 1 to 256 (default 4)
  --json                load: print the summary as one JSON line
  --help, -h            print this and exit 0`;

function integer(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  if (!isIntegerText(text, min, max)) {
    throw new ConfigError(
      `--${flag} must be an integer from ${min} to ${max} (received ${JSON.stringify(text)})`,
    );
  }
  return Number(text);
}

/** `'{"a":1}'` or `a=1 b=x` → the request object (not yet checked). */
export function parseRequestWords(words: readonly string[]): unknown {
  if (words.length === 0) return {};
  if (words.length === 1 && words[0]!.trimStart().startsWith('{')) {
    try {
      return JSON.parse(words[0]!);
    } catch (error) {
      throw new ConfigError(`REQUEST is not valid JSON: ${(error as Error).message}`);
    }
  }
  const request: Record<string, unknown> = {};
  for (const word of words) {
    const at = word.indexOf('=');
    if (at <= 0)
      throw new ConfigError(`REQUEST words must be KEY=VALUE (received ${JSON.stringify(word)})`);
    const text = word.slice(at + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // Not JSON: the text itself (message=hello).
    }
    request[word.slice(0, at)] = value;
  }
  return request;
}

function checkedRequest(method: string, request: unknown): [EchoMethod, RequestOf<EchoMethod>] {
  if (!isEchoMethod(method)) {
    throw new ConfigError(
      `METHOD must be one of ${kEchoMethods.join(', ')} (received ${JSON.stringify(method)})`,
    );
  }
  try {
    return [method, kRequestParsers[method](request)];
  } catch (error) {
    throw new ConfigError(`bad request: ${(error as Error).message}`);
  }
}

/** Parses the command line (without the node and script paths). */
export function parseClientCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ClientCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const address = values.address ?? (env[kAddressEnv] || kDefaultAddress);
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d+$/.test(address)) {
    throw new ConfigError(
      `--address (${kAddressEnv}) must be HOST:PORT (received ${JSON.stringify(address)})`,
    );
  }
  const timeout = integer(values.timeout, 'timeout', 0, 600_000, 5000);
  if (command === 'call') {
    const [method, ...words] = rest;
    if (method === undefined) throw new ConfigError('call needs a METHOD');
    for (const flag of [
      'method',
      'request',
      'calls',
      'duration',
      'concurrency',
      'connections',
      'json',
    ] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag} applies to load, not call`);
    }
    const [name, request] = checkedRequest(method, parseRequestWords(words));
    return { command: 'call', address, method: name, request, timeout };
  }
  if (command === 'load') {
    if (rest.length > 0)
      throw new ConfigError(`load takes no arguments (received ${rest.join(' ')}); use --request`);
    const [method, request] = checkedRequest(
      values.method ?? 'echo',
      values.request === undefined
        ? values.method === undefined
          ? { message: 'hello' }
          : {}
        : parseRequestWords(
            values.request.trimStart().startsWith('{')
              ? [values.request]
              : values.request.split(/\s+/).filter((word) => word !== ''),
          ),
    );
    const calls = integer(values.calls, 'calls', 0, 100_000_000, 0);
    const duration = integer(values.duration, 'duration', 0, 600_000, calls > 0 ? 0 : 2000);
    if (calls === 0 && duration === 0)
      throw new ConfigError('load needs --calls or --duration above 0');
    return {
      command: 'load',
      address,
      method,
      request,
      timeout,
      concurrency: integer(values.concurrency, 'concurrency', 1, 10_000, 16),
      connections: integer(values.connections, 'connections', 1, 256, 4),
      calls,
      duration,
      json: values.json === true,
    };
  }
  throw new ConfigError(`expected the command call or load (received ${command ?? 'none'})`);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: joinNegativeValues(argv),
    strict: true,
    allowPositionals: true,
    options: {
      address: { type: 'string' },
      timeout: { type: 'string' },
      method: { type: 'string' },
      request: { type: 'string' },
      calls: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string' },
      connections: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}
