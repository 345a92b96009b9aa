/**
 * The timeout setters of a connection validate their argument as the options do (integers from 0
 * to 2147483647 ms; for the read and write timeouts a negative integer leaves the value unchanged,
 * as in netpoll), synchronously, so no bad value reaches the reactor's timer wheel.
 */
import { type Connection, dialConnection, InvalidArgumentError, OutOfRangeError } from '../../src';
import { describeNative, echoHandler, startServer, type TestServer } from '../helpers/native';

const kSetters = ['setReadTimeout', 'setWriteTimeout', 'setIdleTimeout'] as const;

function thrown(call: () => unknown): Error & { code?: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describeNative('connection timeout setters', () => {
  let server: TestServer;
  let client: Connection;

  beforeEach(async () => {
    server = startServer(echoHandler);
    client = await dialConnection('tcp', server.listener.address);
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  it('setReadTimeout(Infinity) throws at once, and the next waitFor still works', async () => {
    const error = thrown(() => client.setReadTimeout(Infinity));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(error.message).toBe('timeout must be an integer (received Infinity)');
    client.writer.writeString('ok');
    client.writer.flush();
    await client.reader.waitFor(2);
    expect(client.reader.readString(2)).toBe('ok');
    client.writer.writeString('again');
    client.writer.flush();
    await client.reader.waitFor(5);
    expect(client.reader.readString(5)).toBe('again');
  });

  describe.each(kSetters)('%s', (setter) => {
    const set = (value: unknown): void => (client[setter] as (value: unknown) => void)(value);

    it.each([
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
      [1.5, '1.5'],
      ['100', '"100"'],
      [{}, 'an object'],
      [10n, '10n'],
      [undefined, 'undefined'],
      [null, 'null'],
    ])('refuses %p with ERR_NETPOLL_INVALID_ARG', (value, received) => {
      const error = thrown(() => set(value));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
      expect(error.message).toBe(`timeout must be an integer (received ${received})`);
    });

    it.each([2 ** 31, 2 ** 53])('refuses %p with ERR_NETPOLL_OUT_OF_RANGE', (value) => {
      const error = thrown(() => set(value));
      expect(error).toBeInstanceOf(OutOfRangeError);
      expect(error.code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
      expect(error.message).toBe(
        `timeout must be an integer from 0 to 2147483647 (received ${value})`,
      );
    });

    it('accepts 0 and 2147483647', () => {
      expect(() => set(0)).not.toThrow();
      expect(() => set(2147483647)).not.toThrow();
    });
  });

  it('setIdleTimeout refuses a negative integer, as the idleTimeout option does', () => {
    const error = thrown(() => client.setIdleTimeout(-1));
    expect(error).toBeInstanceOf(OutOfRangeError);
    expect(error.message).toBe('timeout must be an integer from 0 to 2147483647 (received -1)');
    client.setIdleTimeout(5000);
    expect(client.idleTimeout).toBe(5000);
  });

  it('a negative integer leaves the read timeout unchanged (netpoll)', async () => {
    client.setReadTimeout(1);
    client.setReadTimeout(-5);
    const error = await client.reader.waitFor(1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_NETPOLL_READ_TIMEOUT', timeout: true });
  });

  it('setWriteTimeout accepts any negative integer (netpoll: unchanged)', () => {
    client.setWriteTimeout(250);
    expect(() => client.setWriteTimeout(-1)).not.toThrow();
    expect(() => client.setWriteTimeout(-(2 ** 60))).not.toThrow();
  });
});
