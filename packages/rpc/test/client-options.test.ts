/**
 * Validation of what a client is given: client options (unknown keys named with the close match,
 * types, ranges), call options and method names, targets and resolvers. Each rule has its own
 * case; each checks the code, the class and the message.
 */
import {
  type ClientOptions,
  createClient,
  dnsResolver,
  InvalidArgumentError,
  isNetpollError,
  OutOfRangeError,
  resolveClientOptions,
  staticResolver,
} from '../src';
import { bytes, rejection, startClient } from './helpers/client-harness';

type Coded = Error & { code?: string };

function thrown(action: () => unknown): Coded {
  try {
    action();
  } catch (error) {
    return error as Coded;
  }
  throw new Error('expected a synchronous throw');
}

const address = '127.0.0.1:1';

/** [what, options, code, message] */
const invalidOptions: Array<[string, unknown, string, string]> = [
  ['a number', 5, 'ERR_NETPOLL_INVALID_ARG', 'options must be a plain object (received 5)'],
  ['null', null, 'ERR_NETPOLL_INVALID_ARG', 'options must be a plain object (received null)'],
  ['an array', [], 'ERR_NETPOLL_INVALID_ARG', 'options must be a plain object (received an array)'],
  [
    'a class instance',
    new Map(),
    'ERR_NETPOLL_INVALID_ARG',
    'options must be a plain object (received an instance of Map)',
  ],
  [
    'a misspelt key',
    { timout: 100 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.timout is not a known option (did you mean timeout?)',
  ],
  [
    'a key in the wrong case',
    { PingInterval: 100 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.PingInterval is not a known option (did you mean pingInterval?)',
  ],
  [
    'another misspelt key',
    { conections: 2 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.conections is not a known option (did you mean connections?)',
  ],
  [
    'a key like no option',
    { retries: 3 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.retries is not a known option',
  ],
  [
    'a misspelt pool key',
    { pool: { maxActiv: 1 } },
    'ERR_NETPOLL_INVALID_ARG',
    'options.pool.maxActiv is not a known option (did you mean maxActive?)',
  ],
  [
    'pool not an object',
    { pool: 5 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.pool must be a plain object (received 5)',
  ],
  [
    'timeout as a string',
    { timeout: '100' },
    'ERR_NETPOLL_INVALID_ARG',
    'options.timeout must be an integer (received "100")',
  ],
  [
    'timeout as a fraction',
    { timeout: 1.5 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.timeout must be an integer (received 1.5)',
  ],
  [
    'timeout NaN',
    { timeout: Number.NaN },
    'ERR_NETPOLL_INVALID_ARG',
    'options.timeout must be an integer (received NaN)',
  ],
  [
    'timeout below 0',
    { timeout: -1 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.timeout must be an integer from 0 to 2147483647 (received -1)',
  ],
  [
    'timeout above 2147483647',
    { timeout: 2 ** 31 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.timeout must be an integer from 0 to 2147483647 (received 2147483648)',
  ],
  [
    'dialTimeout below 0',
    { dialTimeout: -5 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.dialTimeout must be an integer from 0 to 2147483647 (received -5)',
  ],
  [
    'connections 0',
    { connections: 0 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.connections must be an integer from 1 to 256 (received 0)',
  ],
  [
    'connections -0',
    { connections: -0 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.connections must be an integer from 1 to 256 (received -0)',
  ],
  [
    'connections 257',
    { connections: 257 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.connections must be an integer from 1 to 256 (received 257)',
  ],
  [
    'an unknown transport',
    { transport: 'http' },
    'ERR_NETPOLL_INVALID_ARG',
    `options.transport must be 'mux' or 'pool' (received "http")`,
  ],
  [
    'an unknown balancer',
    { balancer: 'random' },
    'ERR_NETPOLL_INVALID_ARG',
    `options.balancer must be 'round-robin' or 'least-pending' (received "random")`,
  ],
  [
    'lengthHeader 3',
    { lengthHeader: 3 },
    'ERR_NETPOLL_INVALID_ARG',
    'options.lengthHeader must be 1, 2 or 4 (received 3)',
  ],
  [
    'maxFrameSize 63',
    { maxFrameSize: 63 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.maxFrameSize must be an integer from 64 to 268435456 (received 63)',
  ],
  [
    'maxFrameSize beyond a 2-byte header',
    { lengthHeader: 2, maxFrameSize: 65536 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.maxFrameSize must be an integer from 64 to 65535 (received 65536)',
  ],
  [
    'an unknown serializer',
    { serializer: 'xml' },
    'ERR_NETPOLL_INVALID_ARG',
    `options.serializer must be 'raw', 'json' or an object with encode and decode (received "xml")`,
  ],
  [
    'a serializer without decode',
    { serializer: { encode: () => Buffer.alloc(0) } },
    'ERR_NETPOLL_INVALID_ARG',
    `options.serializer must be 'raw', 'json' or an object with encode and decode (received an object)`,
  ],
  [
    'pingTimeout 0',
    { pingTimeout: 0 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.pingTimeout must be an integer from 1 to 2147483647 (received 0)',
  ],
  [
    'pingInterval as a boolean',
    { pingInterval: true },
    'ERR_NETPOLL_INVALID_ARG',
    'options.pingInterval must be an integer (received true)',
  ],
  [
    'backoffMax below backoffInitial',
    { backoffInitial: 500, backoffMax: 100 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.backoffMax must be an integer from 500 to 2147483647 (received 100)',
  ],
  [
    'ejectAfter 0',
    { ejectAfter: 0 },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.ejectAfter must be an integer from 1 to 1000 (received 0)',
  ],
  [
    'pool.maxActive 0',
    { pool: { maxActive: 0 } },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.pool.maxActive must be an integer from 1 to 65535 (received 0)',
  ],
  [
    'pool.maxIdle below 0',
    { pool: { maxIdle: -1 } },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.pool.maxIdle must be an integer from 0 to 65535 (received -1)',
  ],
  [
    'pool.maxIdleTime as a string',
    { pool: { maxIdleTime: '1s' } },
    'ERR_NETPOLL_INVALID_ARG',
    'options.pool.maxIdleTime must be an integer (received "1s")',
  ],
  [
    'pool.acquireTimeout below 0',
    { pool: { acquireTimeout: -1 } },
    'ERR_NETPOLL_OUT_OF_RANGE',
    'options.pool.acquireTimeout must be an integer from 0 to 2147483647 (received -1)',
  ],
];

describe('client options', () => {
  it.each(invalidOptions)('refuses %s', (_what, options, code, message) => {
    const error = thrown(() => createClient(address, options as ClientOptions));
    expect(isNetpollError(error)).toBe(true);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    if (code === 'ERR_NETPOLL_INVALID_ARG') {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(TypeError);
    } else {
      expect(error).toBeInstanceOf(OutOfRangeError);
      expect(error).toBeInstanceOf(RangeError);
    }
    // resolveClientOptions is the same check.
    expect(thrown(() => resolveClientOptions(options)).message).toBe(message);
  });

  it('resolves defaults into a frozen object and keeps no reference to the input', () => {
    const input: ClientOptions = { timeout: 250, pool: { maxActive: 7 } };
    const client = startClient(address, input);
    input.timeout = 1;
    input.pool!.maxActive = 1;
    expect(client.options).toMatchObject({
      lengthHeader: 4,
      maxFrameSize: 4 * 1024 * 1024,
      transport: 'mux',
      connections: 4,
      pool: { maxActive: 7, maxIdle: 100, maxIdleTime: 30000, acquireTimeout: 1000 },
      timeout: 250,
      dialTimeout: 5000,
      pingInterval: 5000,
      pingTimeout: 2000,
      balancer: 'round-robin',
      backoffInitial: 100,
      backoffMax: 10000,
      ejectAfter: 3,
    });
    expect(Object.isFrozen(client.options)).toBe(true);
    expect(Object.isFrozen(client.options.pool)).toBe(true);
    expect(resolveClientOptions(undefined)).toEqual(resolveClientOptions({}));
    // A larger backoffInitial lifts the backoffMax default.
    expect(resolveClientOptions({ backoffInitial: 20000 }).backoffMax).toBe(20000);
  });
});

describe('call arguments', () => {
  const client = () => startClient(address);

  it.each<[string, unknown, string, string]>([
    [
      'a misspelt call option',
      { timout: 5 },
      'ERR_NETPOLL_INVALID_ARG',
      'options.timout is not a known option (did you mean timeout?)',
    ],
    [
      'a negative timeout',
      { timeout: -1 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.timeout must be an integer from 0 to 2147483647 (received -1)',
    ],
    [
      'a signal that is not an AbortSignal',
      { signal: { aborted: false } },
      'ERR_NETPOLL_INVALID_ARG',
      'options.signal must be an AbortSignal (received an object)',
    ],
    [
      'idempotent as a string',
      { idempotent: 'yes' },
      'ERR_NETPOLL_INVALID_ARG',
      'options.idempotent must be a boolean (received "yes")',
    ],
    [
      'options as a string',
      'fast',
      'ERR_NETPOLL_INVALID_ARG',
      'options must be a plain object (received "fast")',
    ],
  ])('rejects %s', async (_what, options, code, message) => {
    const error = await rejection(client().call('m', bytes(''), options as never));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error).toBeInstanceOf(code === 'ERR_NETPOLL_INVALID_ARG' ? TypeError : RangeError);
  });

  it.each<[string, unknown, string]>([
    ['an empty method', '', '""'],
    ['a method with a space', 'get user', '"get user"'],
    ['a non-ASCII method', 'grüße', '"grüße"'],
    ['a method of 256 characters', 'm'.repeat(256), `"${'m'.repeat(32)}…"`],
    ['a method that is not a string', 42, '42'],
  ])('rejects %s', async (_what, method, received) => {
    const error = await rejection(client().call(method as string, bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(error.message).toBe(
      `method must be 1 to 255 printable ASCII characters (received ${received})`,
    );
  });

  it('accepts a method of 255 characters', async () => {
    const error = await rejection(client().call('m'.repeat(255), bytes(''), { timeout: 50 }));
    // It got as far as the (unreachable) endpoint.
    expect(['ERR_NETPOLL_RPC_UNAVAILABLE', 'ERR_NETPOLL_RPC_TIMEOUT']).toContain(error.code);
  });
});

describe('targets and resolvers', () => {
  it.each<[string, () => unknown, string]>([
    [
      'a number target',
      () => createClient(42 as never),
      'target must be an address, a list of addresses, "dns:host:port" or a resolver (received 42)',
    ],
    [
      'an object without start and close',
      () => createClient({ start() {} } as never),
      'target must be an address, a list of addresses, "dns:host:port" or a resolver (received an object)',
    ],
    [
      'an empty list',
      () => createClient([]),
      'addresses must be a non-empty array of addresses (received an array)',
    ],
    [
      'an address without a port',
      () => createClient(['localhost']),
      'addresses[0] must be a "host:port" address or an absolute Unix socket path (received "localhost")',
    ],
    [
      'an empty address in a list',
      () => staticResolver(['127.0.0.1:1', '']),
      'addresses[1] must be a "host:port" address or a Unix socket path (received "")',
    ],
    [
      'a dns target without a port',
      () => dnsResolver('localhost'),
      'target must be a "host:port" name (received "localhost")',
    ],
    [
      'a dns address family other than 0, 4 and 6',
      () => dnsResolver('localhost:80', { family: 5 as 4 }),
      'options.family must be 0, 4 or 6 (received 5)',
    ],
    [
      'a dns address family given as a string',
      () => dnsResolver('localhost:80', { family: '4' as unknown as 4 }),
      'options.family must be 0, 4 or 6 (received "4")',
    ],
    [
      'an unknown dns resolver option',
      () => dnsResolver('localhost:80', { intervall: 100 } as object),
      'options.intervall is not a known option (did you mean interval?)',
    ],
    [
      "a 'dns:' target without a port",
      () => createClient('dns:localhost'),
      'target must be a "host:port" name (received "localhost")',
    ],
  ])('refuses %s', (_what, action, message) => {
    const error = thrown(action);
    expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });

  it('refuses a dns refresh interval under 100 ms as out of range', () => {
    const error = thrown(() => dnsResolver('localhost:80', { interval: 50 }));
    expect(error.code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(
      'options.interval must be an integer from 100 to 2147483647 (received 50)',
    );
  });
});
