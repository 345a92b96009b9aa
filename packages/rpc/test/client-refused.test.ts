/**
 * Whether a remote error was `processed` comes from the server, not from its code: the server
 * sets REFUSED on the ERROR of every request it refused before any handler ran (no such method,
 * the deadline passed before its turn, a request it could not decode), and never on an error a
 * handler or interceptor answered — whatever its code. A handler that throws
 * `RpcStatus('UNAVAILABLE')` after a partial write, or `RpcStatus('DEADLINE_EXCEEDED')` when its
 * signal aborts, ran: the client says `processed: true` and does not send the call elsewhere.
 * Only an UNAVAILABLE the server flagged REFUSED is retried on another endpoint.
 */
import { createServer, Kind, type Message, RpcStatus, type Serializer } from '../src';
import {
  afterTest,
  bytes,
  rejection,
  startClient,
  startRawServer,
  startServer,
  until,
} from './helpers/client-harness';
import { deferred } from './helpers/server';
import { WireClient } from './helpers/wire-client';

describe('a code a handler answered: processed, whatever the code', () => {
  it.each(['DEADLINE_EXCEEDED', 'UNAVAILABLE', 'INVALID_ARGUMENT', 'UNIMPLEMENTED'])(
    'a handler throwing RpcStatus(%s) after its work: remoteCode kept, processed true',
    async (code) => {
      let ran = 0;
      const server = await startServer({
        write: async () => {
          ran++; // the work: a partial write to a database, say
          await Promise.resolve();
          throw new RpcStatus(code, 'gave up halfway');
        },
      });
      const client = startClient(server.address);
      const error = await rejection(client.call('write', bytes('x')));
      expect(ran).toBe(1);
      expect(error).toMatchObject({
        code: 'ERR_NETPOLL_RPC_REMOTE',
        remoteCode: code,
        remoteMessage: 'gave up halfway',
        processed: true,
      });
    },
  );

  it('an UNAVAILABLE a handler threw is not sent to another endpoint: the handler ran once', async () => {
    const ran = [0, 0];
    const service = (index: number) => ({
      warm: () => bytes(''),
      write: () => {
        ran[index]!++;
        throw new RpcStatus('UNAVAILABLE', 'the database went away after the first row');
      },
    });
    const first = await startServer(service(0));
    const second = await startServer(service(1));
    const client = startClient([first.address, second.address], { connections: 1 });
    // Both endpoints connected and ready: a retry would find the other one.
    await Promise.all([client.call('warm', bytes('')), client.call('warm', bytes(''))]);
    await until(
      () => client.stats().endpoints.every((endpoint) => endpoint.connections === 1),
      'both endpoints connected',
    );
    const calls = 6;
    const errors = [];
    for (let i = 0; i < calls; i++)
      errors.push(await rejection(client.call('write', bytes(`${i}`))));
    // Each call ran its handler exactly once, on one endpoint or the other.
    expect(ran[0]! + ran[1]!).toBe(calls);
    for (const error of errors) {
      expect(error).toMatchObject({
        code: 'ERR_NETPOLL_RPC_REMOTE',
        remoteCode: 'UNAVAILABLE',
        processed: true,
      });
    }
    expect(client.stats().calls).toMatchObject({ failed: calls });
  });

  it('an UNAVAILABLE an interceptor threw is processed too, and not retried', async () => {
    let intercepted = 0;
    const refusing = async () => {
      const server = createServer({ m: () => bytes('never') });
      server.use(() => {
        intercepted++;
        throw new RpcStatus('UNAVAILABLE', 'overloaded');
      });
      afterTest(() => server.close({ timeout: 1000 }));
      await server.listen('127.0.0.1:0');
      return server;
    };
    const a = await refusing();
    const b = await refusing();
    const client = startClient([a.address, b.address], { connections: 1 });
    const error = await rejection(client.call('m', bytes('')));
    expect(intercepted).toBe(1);
    expect(error).toMatchObject({ remoteCode: 'UNAVAILABLE', processed: true });
  });
});

describe("a handler's or interceptor's own refusal: RpcStatus(code, message, { refused: true })", () => {
  it('goes out REFUSED: processed false, and a refused UNAVAILABLE is sent once to another server', async () => {
    const ran = [0, 0];
    const service = (index: number) => ({
      check: (request: Buffer) => {
        if (request.length === 0) {
          throw new RpcStatus('INVALID_ARGUMENT', 'a name, please', { refused: true });
        }
        return request;
      },
      busy: () => {
        ran[index]!++;
        if (index === 0) throw new RpcStatus('UNAVAILABLE', 'draining', { refused: true });
        return bytes('served by the second');
      },
    });
    const first = await startServer(service(0));
    const second = await startServer(service(1));
    const client = startClient(first.address);
    expect(await rejection(client.call('check', bytes('')))).toMatchObject({
      code: 'ERR_NETPOLL_RPC_REMOTE',
      remoteCode: 'INVALID_ARGUMENT',
      remoteMessage: 'a name, please',
      processed: false,
    });
    // On the wire: the ERROR carries REFUSED.
    const wire = await WireClient.connect(first.address);
    const check = wire.requestFrame('check', '');
    wire.write(check.frame);
    expect(await wire.reply(check.seq)).toMatchObject({
      code: 'INVALID_ARGUMENT',
      refused: true,
    });
    // A refused UNAVAILABLE is tried once more, on the other endpoint, where it succeeds: every
    // call succeeds, the second server ran each once, the first refused those sent to it first.
    const both = startClient([first.address, second.address], { connections: 1 });
    for (let i = 0; i < 4; i++)
      expect(String(await both.call('busy', bytes('')))).toBe('served by the second');
    expect(ran[1]).toBe(4);
    expect(ran[0]).toBeGreaterThanOrEqual(1);
    expect(ran[0]).toBeLessThanOrEqual(4);
  });

  it('never goes out REFUSED once the handler ran: a refused RpcStatus from the response encoder is processed', async () => {
    let ran = 0;
    const encoder: Serializer<unknown> = {
      encode: () => {
        throw new RpcStatus('UNAVAILABLE', 'the encoder says no', { refused: true });
      },
      decode: (view) => Buffer.from(view),
    };
    const servers = [];
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startServer(
          {
            charge: () => {
              ran++;
              return 'charged';
            },
          },
          { serializer: encoder },
        ),
      );
    }
    const client = startClient(
      servers.map((server) => server.address),
      { connections: 1 },
    );
    const error = await rejection(client.call('charge', bytes('x')));
    expect(error).toMatchObject({ remoteCode: 'UNAVAILABLE', processed: true });
    expect(ran).toBe(1);
  });

  it('refuses a non-boolean refused option', () => {
    expect(() => new RpcStatus('X', 'm', { refused: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(new RpcStatus('X').refused).toBe(false);
  });
});

describe("the server's own refusals: REFUSED on the wire, processed false", () => {
  it('an unknown method: UNIMPLEMENTED, processed false, not retried', async () => {
    const server = await startServer({ known: () => bytes('') });
    const client = startClient(server.address);
    const error = await rejection(client.call('unknown', bytes('')));
    expect(error).toMatchObject({ remoteCode: 'UNIMPLEMENTED', processed: false });
    const wire = await WireClient.connect(server.address);
    expect(await wire.call('unknown', '')).toMatchObject({
      kind: Kind.ERROR,
      code: 'UNIMPLEMENTED',
      refused: true,
    });
  });

  it('an undecodable request: INVALID_ARGUMENT, processed false', async () => {
    let ran = 0;
    const server = await startServer(
      {
        add: (request: { a: number }) => {
          ran++;
          return request.a + 1;
        },
      },
      { serializer: 'json' },
    );
    const client = startClient(server.address);
    const error = await rejection(client.call('add', bytes('{not json')));
    expect(error).toMatchObject({ remoteCode: 'INVALID_ARGUMENT', processed: false });
    const wire = await WireClient.connect(server.address);
    expect(await wire.call('add', '{not json')).toMatchObject({
      code: 'INVALID_ARGUMENT',
      refused: true,
    });
    expect(ran).toBe(0);
  });

  it('a deadline passed before the call started: DEADLINE_EXCEEDED carries REFUSED', async () => {
    const first = deferred();
    const ran: string[] = [];
    const server = await startServer(
      {
        async slow() {
          ran.push('slow');
          await first.promise;
          return bytes('slow done');
        },
        quick() {
          ran.push('quick');
          return bytes('quick done');
        },
      },
      { maxConcurrentCalls: 1 },
    );
    const wire = await WireClient.connect(server.address);
    const slow = wire.requestFrame('slow', '');
    const quick = wire.requestFrame('quick', '', { timeout: 1 });
    wire.write(Buffer.concat([slow.frame, quick.frame]));
    await until(() => ran.length === 1, 'the slow handler started');
    const started = performance.now();
    await until(() => performance.now() - started > 3, 'the quick deadline passed');
    first.resolve();
    expect(await wire.reply(quick.seq)).toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      refused: true,
    });
    expect(ran).toEqual(['slow']);
  });

  it('an error a handler answered, or INTERNAL, does not carry REFUSED', async () => {
    const server = await startServer({
      status: () => {
        throw new RpcStatus('DEADLINE_EXCEEDED', 'the sleep was cut short');
      },
      crash: () => {
        throw new Error('boom');
      },
    });
    const wire = await WireClient.connect(server.address);
    const status = await wire.call('status', '');
    expect(status).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(status.refused).toBeUndefined();
    const crash = await wire.call('crash', '');
    expect(crash).toMatchObject({ code: 'INTERNAL' });
    expect(crash.refused).toBeUndefined();
  });
});

describe('the client reads REFUSED, not the code', () => {
  /** A raw server that answers every REQUEST but `warm` with `reply`. */
  async function answering(reply: (seq: number) => Message) {
    return startRawServer((connection, message) => {
      if (message.kind !== Kind.REQUEST) return;
      connection.send(
        message.method === 'warm'
          ? { kind: Kind.RESPONSE, seq: message.seq, payload: bytes('') }
          : reply(message.seq),
      );
    });
  }

  it.each([
    ['DEADLINE_EXCEEDED', true, false],
    ['DEADLINE_EXCEEDED', false, true],
    ['INVALID_ARGUMENT', true, false],
    ['INVALID_ARGUMENT', false, true],
    ['UNIMPLEMENTED', true, false],
    ['NOT_FOUND', true, false],
    ['INTERNAL', false, true],
  ])('%s, REFUSED %s: processed %s', async (code, refused, processed) => {
    const raw = await answering((seq) => ({
      kind: Kind.ERROR,
      seq,
      code,
      message: 'm',
      ...(refused ? { refused: true } : {}),
      payload: bytes(''),
    }));
    const error = await rejection(startClient(raw.address).call('m', bytes('')));
    expect(error).toMatchObject({ code: 'ERR_NETPOLL_RPC_REMOTE', remoteCode: code, processed });
    expect(raw.requests()).toHaveLength(1);
  });

  it('an UNAVAILABLE without REFUSED (a handler ran) is not sent again', async () => {
    const raw = await answering((seq) => ({
      kind: Kind.ERROR,
      seq,
      code: 'UNAVAILABLE',
      message: 'half written',
      payload: bytes(''),
    }));
    const error = await rejection(startClient(raw.address).call('m', bytes('')));
    expect(error).toMatchObject({ remoteCode: 'UNAVAILABLE', processed: true });
    expect(raw.requests().map((request) => request.method)).toEqual(['m']);
  });
});
