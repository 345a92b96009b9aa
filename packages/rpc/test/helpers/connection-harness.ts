/**
 * For tests of one client connection on its own (no client around it: no balancer, no deadline
 * timer): a host that records what the connection reports, and calls made by hand.
 */
import { Call, type CallHost } from '../../src/client/call';
import type { ConnectionHost } from '../../src/client/client-connection';
import type { RpcError } from '../../src/errors';
import { encodeMethod } from '../../src/protocol/encode';
import { rawSerializer } from '../../src/serializers';
import { deferred } from './client-harness';

/** A connection's host that records what the connection reports. */
export function recordingHost() {
  const events: string[] = [];
  const closed = deferred<RpcError | null>();
  const host: ConnectionHost = {
    connectionClosed: (_connection, error) => {
      events.push('closed');
      closed.resolve(error);
    },
    callDone: () => events.push('callDone'),
    connectionDraining: () => events.push('draining'),
    connectionAlive: () => events.push('alive'),
    connectionHung: () => events.push('hung'),
  };
  return { host, events, closed: closed.promise };
}

const callHost: CallHost = { ended: () => {}, dispatch: () => {} };

/**
 * A call of `method` with `payload` and its promise. `timeout` (ms, 0: none) sets its deadline;
 * nothing here fires it, so what settles the call is the reply alone.
 */
export function makeCall(method: string, payload: Buffer, oneWay = false, timeout = 0) {
  const settled = deferred<unknown>();
  const call = new Call(
    callHost,
    method,
    encodeMethod(method, 'method'),
    payload,
    payload.length,
    null,
    timeout,
    oneWay,
    false,
    rawSerializer,
    null,
    null,
    settled.resolve,
    settled.reject,
  );
  return { call, reply: settled.promise };
}
