/**
 * What the server logs about calls: every call at `debug` through the interceptor, and at `error`
 * the real cause of a call answered INTERNAL (from rpc's server call channel), with no interceptor.
 */
import { Writable } from 'node:stream';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { createClient, createServer, type Interceptor, RpcStatus } from '@netpoll/rpc';
import { pino } from 'pino';
import { logCallFailures, loggingInterceptor } from '../src/server/logger';

function capture(level: 'debug' | 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

const service = {
  ok: () => ({ fine: true }),
  refused: () => {
    throw new RpcStatus('NOT_FOUND', 'no such thing');
  },
  buggy: () => {
    throw new Error('the real cause');
  },
};

async function callAll(interceptors: Interceptor[]) {
  const server = createServer(service, { serializer: 'json' });
  for (const interceptor of interceptors) server.use(interceptor);
  afterTest(() => server.close({ timeout: 500 }));
  await server.listen('127.0.0.1:0');
  const client = createClient(server.address, { serializer: 'json', timeout: 2000 });
  afterTest(() => client.destroy());
  const codes = [];
  for (const method of ['ok', 'refused', 'buggy']) {
    codes.push(
      await client.call(method, {}).then(
        () => 'OK',
        (error) => error.remoteCode,
      ),
    );
  }
  return codes;
}

describe('call logs', () => {
  it('logs the cause of an INTERNAL answer at error, and nothing for the others, without an interceptor', async () => {
    const { lines, logger } = capture('info');
    afterTest(logCallFailures(logger));
    expect(await callAll([])).toEqual(['OK', 'NOT_FOUND', 'INTERNAL']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      msg: 'call failed',
      method: 'buggy',
      code: 'INTERNAL',
      err: { message: 'the real cause' },
    });
  });

  it('logs every call at debug with its answered code through the interceptor', async () => {
    const { lines, logger } = capture('debug');
    expect(await callAll([loggingInterceptor(logger)])).toEqual(['OK', 'NOT_FOUND', 'INTERNAL']);
    expect(lines.map((line) => [line.level, line.msg, line.method, line.code])).toEqual([
      [20, 'call', 'ok', 'OK'],
      [20, 'call', 'refused', 'NOT_FOUND'],
      [20, 'call', 'buggy', 'INTERNAL'],
    ]);
    expect(lines.every((line) => typeof line.ms === 'number')).toBe(true);
  });
});
