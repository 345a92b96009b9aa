/**
 * Every public entry point of the listener, the dialer and the option resolvers refuses bad
 * arguments synchronously with a coded error (`ERR_NETPOLL_INVALID_ARG` / `_OUT_OF_RANGE`, or the
 * system error of the one call that can only fail in the kernel), before any socket exists.
 */
import { existsSync, readdirSync } from 'node:fs';
import {
  configureReactor,
  createListener,
  dialConnection,
  EventLoop,
  InvalidArgumentError,
  NetpollSystemError,
  type Network,
  OutOfRangeError,
} from '../../src';
import { describeNative, echoHandler, startServer, tempDirAfterTest } from '../helpers/native';

type Coded = Error & { code?: string };

function thrown(call: () => unknown): Coded {
  try {
    call();
  } catch (error) {
    return error as Coded;
  }
  throw new Error('expected a synchronous throw');
}

function expectInvalid(call: () => unknown, message?: string): void {
  const error = thrown(call);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
  if (message !== undefined) expect(error.message).toBe(message);
}

function expectOutOfRange(call: () => unknown, message?: string): void {
  const error = thrown(call);
  expect(error).toBeInstanceOf(OutOfRangeError);
  expect(error.code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  if (message !== undefined) expect(error.message).toBe(message);
}

/** A fresh, empty private folder for Unix socket paths. */
function folder(): string {
  return tempDirAfterTest('netpoll-args-');
}

/** `sun_path` holds 108 bytes on Linux and 104 on macOS/BSD, the last one for the NUL. */
const kMaxUnixPathBytes = process.platform === 'linux' ? 107 : 103;

/** A path in `dir` of exactly `bytes` bytes. */
function pathOfLength(dir: string, bytes: number): string {
  const prefix = `${dir}/`;
  return prefix + 'p'.repeat(bytes - prefix.length);
}

describeNative('argument checks of createListener and dialConnection', () => {
  it('createListener refuses a Unix path with a NUL byte and creates no socket file', () => {
    const dir = folder();
    const path = `${dir}/a\0b`;
    // Received values are shown cut at 32 characters.
    const shown = JSON.stringify(path.length > 32 ? `${path.slice(0, 32)}…` : path);
    expectInvalid(
      () => createListener('unix', path),
      `address must be a string without NUL bytes (received ${shown})`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('dialConnection refuses a Unix path with a NUL byte instead of dialing the path before it', () => {
    const server = startServer(echoHandler, {}, 'unix');
    const truncated = server.listener.address;
    expectInvalid(() => dialConnection('unix', `${truncated}\0ignored`));
    return server.stop();
  });

  it('refuses a NUL byte in a TCP address too', () => {
    expectInvalid(() => createListener('tcp', '127.0.0.1\0:0'));
    expectInvalid(() => dialConnection('tcp', 'localhost\0.example:80'));
  });

  it(`accepts a Unix path of ${kMaxUnixPathBytes} bytes and refuses a longer one with ENAMETOOLONG`, async () => {
    const dir = folder();
    const longest = pathOfLength(dir, kMaxUnixPathBytes);
    const listener = createListener('unix', longest);
    expect(existsSync(longest)).toBe(true);
    listener.close();

    const tooLong = pathOfLength(dir, kMaxUnixPathBytes + 1);
    const error = thrown(() => createListener('unix', tooLong));
    expect(error).toBeInstanceOf(NetpollSystemError);
    expect(error).toMatchObject({ code: 'ENAMETOOLONG', syscall: 'listen' });
    await expect(dialConnection('unix', tooLong)).rejects.toMatchObject({
      code: 'ENAMETOOLONG',
      syscall: 'connect',
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([[5], [null], [undefined], [{}], [''], [Buffer.from('127.0.0.1:0')]])(
    'refuses the address %p',
    (address) => {
      expectInvalid(() => createListener('tcp', address as string));
      expectInvalid(() => createListener('unix', address as string));
      expectInvalid(() => dialConnection('tcp', address as string));
      expectInvalid(() => dialConnection('unix', address as string));
    },
  );

  it.each([['udp'], ['TCP'], ['unixgram'], [''], [4], [null], [undefined]])(
    'refuses the network %p',
    (network) => {
      const message = `network must be 'tcp', 'tcp4', 'tcp6' or 'unix' (received ${
        typeof network === 'string' ? JSON.stringify(network) : String(network)
      })`;
      expectInvalid(() => createListener(network as Network, '127.0.0.1:0'), message);
      expectInvalid(() => dialConnection(network as Network, '127.0.0.1:1'), message);
    },
  );

  it.each(['0x50', ' 80', '80 ', '1e2', '+80', '8.0', ''])(
    'refuses the port %p (decimal digits only)',
    (port) => {
      const address = `127.0.0.1:${port}`;
      const message = `address must be "host:port" with a decimal port (received ${JSON.stringify(address)})`;
      expectInvalid(() => createListener('tcp', address), message);
      expectInvalid(() => dialConnection('tcp', address), message);
    },
  );

  it('refuses ports outside 0 .. 65535', () => {
    expectOutOfRange(
      () => createListener('tcp', '127.0.0.1:65536'),
      'address port must be from 0 to 65535 (received 65536)',
    );
    expectOutOfRange(() => dialConnection('tcp', '127.0.0.1:-1'));
  });

  it('refuses an IPv6 host without brackets', () => {
    const message = 'address must be "host:port" with an IPv6 host in brackets (received "::1:0")';
    expectInvalid(() => createListener('tcp', '::1:0'), message);
    expectInvalid(() => dialConnection('tcp6', '::1:0'), message);
  });

  it('refuses an IP literal of the other family for tcp4 and tcp6', () => {
    expectInvalid(
      () => createListener('tcp4', '[::1]:0'),
      `address must be an IPv4 address or a host name for network 'tcp4' (received "[::1]:0")`,
    );
    expectInvalid(() => dialConnection('tcp4', '[::1]:80'));
    expectInvalid(
      () => createListener('tcp6', '127.0.0.1:0'),
      `address must be an IPv6 address or a host name for network 'tcp6' (received "127.0.0.1:0")`,
    );
    expectInvalid(() => dialConnection('tcp6', '127.0.0.1:80'));
  });

  it('refuses createListener options of the wrong type or range', () => {
    expectInvalid(() => createListener('tcp', '127.0.0.1:0', 5 as never));
    expectInvalid(() => createListener('tcp', '127.0.0.1:0', [] as never));
    expectInvalid(
      () => createListener('tcp', '127.0.0.1:0', { backlog: '5' as never }),
      'options.backlog must be an integer (received "5")',
    );
    expectInvalid(() => createListener('tcp', '127.0.0.1:0', { backlog: 1.5 }));
    expectOutOfRange(() => createListener('tcp', '127.0.0.1:0', { backlog: 65536 }));
    expectInvalid(
      () => createListener('tcp', '127.0.0.1:0', { reusePort: 'yes' as never }),
      'options.reusePort must be a boolean (received "yes")',
    );
    expectInvalid(
      () => createListener('tcp', '127.0.0.1:0', { reuse_port: true } as never),
      'options.reuse_port is not a known option (did you mean reusePort?)',
    );
  });

  it('refuses dialConnection options synchronously, before dialing', () => {
    const address = '127.0.0.1:1';
    expectInvalid(() => dialConnection('tcp', address, null as never));
    expectInvalid(() => dialConnection('tcp', address, { timeout: '1s' as never }));
    expectInvalid(
      () => dialConnection('tcp', address, { timeout: Infinity }),
      'options.timeout must be an integer (received Infinity)',
    );
    expectOutOfRange(() => dialConnection('tcp', address, { timeout: -1 }));
    expectInvalid(() => dialConnection('tcp', address, { readTimeout: NaN }));
    expectInvalid(() => dialConnection('tcp', address, { framing: 4 as never }));
    expectInvalid(
      () => dialConnection('unix', '/tmp/x.sock', { timeot: 5 } as never),
      'options.timeot is not a known option (did you mean timeout?)',
    );
  });
});

describeNative('argument checks of EventLoop, shutdown and configureReactor', () => {
  it('new EventLoop refuses bad options and a bad onRequest', () => {
    expectInvalid(() => new EventLoop(echoHandler, 5 as never));
    expectInvalid(() => new EventLoop('x' as never));
    expectOutOfRange(() => new EventLoop(echoHandler, { highWaterMark: 0 }));
    expectInvalid(
      () => new EventLoop(echoHandler, { handler: '/srv/a\0b.js' }),
      'options.handler must be an absolute path or a file: URL of the handler module, without ' +
        'NUL bytes (received "/srv/a\\u0000b.js")',
    );
  });

  it('shutdown refuses bad options synchronously and the loop can still be shut down', async () => {
    const server = startServer(echoHandler);
    expectInvalid(() => server.loop.shutdown({ timeout: 'soon' as never }));
    expectInvalid(() => server.loop.shutdown(7 as never));
    expectInvalid(
      () => server.loop.shutdown({ timout: 5 } as never),
      'options.timout is not a known option (did you mean timeout?)',
    );
    expectOutOfRange(() => server.loop.shutdown({ timeout: 2 ** 31 }));
    await server.stop();
  });

  it('configureReactor refuses bad options without changing the reactor', () => {
    expectInvalid(() => configureReactor(5 as never));
    expectInvalid(() => configureReactor({ inboundSlabSize: '1' as never }));
    expectOutOfRange(() => configureReactor({ inboundSlabSize: 1024 }));
    expectInvalid(
      () => configureReactor({ maxInboundMemry: 1 } as never),
      'options.maxInboundMemry is not a known option (did you mean maxInboundMemory?)',
    );
  });

  it('serve refuses what is not a Listener, and a listener another loop already serves', async () => {
    const loop = new EventLoop(echoHandler);
    for (const bad of [null, {}, { fd: 3, closed: false }, 'tcp://127.0.0.1:1']) {
      const error = await loop.serve(bad as never).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code: 'ERR_NETPOLL_INVALID_ARG' });
    }
    const server = startServer(echoHandler);
    const second = new EventLoop(echoHandler);
    await expect(second.serve(server.listener)).rejects.toMatchObject({
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: expect.stringContaining('a listener no other loop serves'),
    });
    // The first loop still serves it, and shuts down normally.
    await server.stop();
    await loop.shutdown();
    await second.shutdown();
  });
});
