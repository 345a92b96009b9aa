/**
 * Cancellation with an AbortSignal, before and during a call: the call rejects with
 * ERR_NETPOLL_RPC_CANCELED (name 'AbortError', cause = the signal's reason), the server is told
 * (CANCEL; its handler's signal aborts with CANCELLED), and a signal aborted after the call
 * settled changes nothing.
 */
import { getEventListeners } from 'node:events';
import { collectWarnings } from '@netpoll/jest-config/process-events';
import { type CallContext, Kind, RpcError } from '../src';
import {
  bytes,
  deferred,
  outcome,
  rejection,
  startClient,
  startRawServer,
  startServer,
  within,
} from './helpers/client-harness';

/** A raw server that answers every request with its payload. */
function echoing() {
  return startRawServer((connection, message) => {
    if (message.kind === Kind.REQUEST) {
      connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
    }
  });
}

describe('client cancellation', () => {
  it('rejects a call whose signal is already aborted, and sends nothing', async () => {
    const raw = await echoing();
    const client = startClient(raw.address);
    await client.call('warm', bytes('up'));
    const reason = new Error('user gave up');
    const error = await rejection(
      client.call('m', bytes('never sent'), { signal: AbortSignal.abort(reason) }),
    );
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('ERR_NETPOLL_RPC_CANCELED');
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(error.processed).toBe(false);
    expect(error.message).toBe('call m was canceled');
    await client.call('after', bytes('next'));
    expect(raw.requests().map((request) => request.method)).toEqual(['warm', 'after']);
    expect(raw.connections[0]!.messages.some((message) => message.kind === Kind.CANCEL)).toBe(
      false,
    );
  });

  it("aborting during a call rejects it at once and aborts the handler's signal with CANCELLED", async () => {
    const aborted = deferred<string>();
    const running = deferred();
    const server = await startServer({
      wait: (_request: Buffer, context: CallContext) =>
        new Promise<Buffer>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            aborted.resolve((context.signal.reason as { code: string }).code);
            reject(context.signal.reason);
          });
          running.resolve();
        }),
    });
    // No deadline: the client's CANCEL is the only thing that can abort the handler.
    const client = startClient(server.address, { timeout: 0 });
    const controller = new AbortController();
    const call = rejection(client.call('wait', bytes(''), { signal: controller.signal }));
    await within(running.promise, 5000, 'the handler');
    const reason = { why: 'navigated away' };
    controller.abort(reason);
    const error = await call;
    expect(error.code).toBe('ERR_NETPOLL_RPC_CANCELED');
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(error.processed).toBe(true);
    expect(await within(aborted.promise, 5000, 'the abort at the server')).toBe('CANCELLED');
    expect(client.stats().calls).toMatchObject({
      failed: 1,
      inFlight: 0,
      errors: { ERR_NETPOLL_RPC_CANCELED: 1 },
    });
  });

  it('sends CANCEL with the seq of the aborted call, and ignores its reply', async () => {
    const raw = await startRawServer();
    const client = startClient(raw.address, { connections: 1 });
    const controller = new AbortController();
    const call = rejection(client.call('m', bytes('a'), { signal: controller.signal }));
    const connection = await raw.connection(0);
    const [request] = await connection.received(1);
    controller.abort();
    const error = await call;
    expect(error.code).toBe('ERR_NETPOLL_RPC_CANCELED');
    // abort() without a reason: the signal's default reason, a DOMException named AbortError.
    expect(error.cause).toBe(controller.signal.reason);
    expect((error.cause as Error).name).toBe('AbortError');
    const [, cancel] = await connection.received(2);
    expect(cancel).toEqual({ kind: Kind.CANCEL, seq: request!.seq, payload: Buffer.alloc(0) });
    connection.send({ kind: Kind.RESPONSE, seq: request!.seq, payload: bytes('late') });
    raw.handler = (peer, message) => {
      if (message.kind === Kind.REQUEST) {
        peer.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes('fresh') });
      }
    };
    expect(await client.call('m', bytes('b'))).toEqual(bytes('fresh'));
  });

  it('cancels a call still waiting for an endpoint without sending anything (processed false)', async () => {
    const client = startClient({ start: () => {}, close: () => {} });
    const controller = new AbortController();
    const call = rejection(client.call('m', bytes(''), { signal: controller.signal }));
    controller.abort('stop');
    const error = await call;
    expect(error.code).toBe('ERR_NETPOLL_RPC_CANCELED');
    expect(error.cause).toBe('stop');
    expect(error.processed).toBe(false);
  });

  it('changes nothing when the signal aborts after the call settled', async () => {
    const raw = await echoing();
    const client = startClient(raw.address, { connections: 1 });
    const controller = new AbortController();
    expect(await client.call('m', bytes('done'), { signal: controller.signal })).toEqual(
      bytes('done'),
    );
    controller.abort();
    expect(await client.call('m', bytes('next'))).toEqual(bytes('next'));
    // No CANCEL went out between the two requests.
    expect(raw.connections[0]!.messages.map((message) => message.kind)).toEqual([
      Kind.REQUEST,
      Kind.REQUEST,
    ]);
    expect(client.stats().calls).toMatchObject({ succeeded: 2, failed: 0 });
  });

  it('keeps one listener on a signal shared by many calls, none once they settled, and no warning', async () => {
    const warnings = collectWarnings();
    const raw = await echoing();
    const client = startClient(raw.address, { connections: 1 });
    const controller = new AbortController();
    const calls = Array.from({ length: 20 }, (_, i) =>
      client.call('m', bytes(`${i}`), { signal: controller.signal }),
    );
    // A listener per call would pass Node's limit of 10 and print MaxListenersExceededWarning.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect((await Promise.all(calls)).map(String)).toEqual(calls.map((_, i) => `${i}`));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });

  it('aborts every call sharing a signal, in the order they were made, and sends a CANCEL for each', async () => {
    const raw = await startRawServer();
    const client = startClient(raw.address, { connections: 1 });
    const controller = new AbortController();
    const order: number[] = [];
    const calls = Array.from({ length: 12 }, (_, i) =>
      rejection(client.call('m', bytes(`${i}`), { signal: controller.signal })).then((error) => {
        order.push(i);
        return error;
      }),
    );
    // One more, with a signal of its own, is not touched.
    const other = outcome(client.call('m', bytes('other'), { timeout: 200 }));
    const connection = await raw.connection(0);
    await connection.received(13);
    controller.abort(new Error('fan-out cancelled'));
    for (const error of await Promise.all(calls)) {
      expect(error).toMatchObject({ code: 'ERR_NETPOLL_RPC_CANCELED', processed: true });
      expect((error.cause as Error).message).toBe('fan-out cancelled');
    }
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const cancels = await connection.received(25);
    expect(cancels.slice(13).map((message) => message.kind)).toEqual(Array(12).fill(Kind.CANCEL));
    // Not canceled: it runs to its own timeout, as the server never answers.
    expect(await other).toMatchObject({ ok: false, error: { code: 'ERR_NETPOLL_RPC_TIMEOUT' } });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
