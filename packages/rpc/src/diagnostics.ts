/**
 * `node:diagnostics_channel` tracing channels of `@netpoll/rpc`, for OpenTelemetry, prom-client
 * and logging adapters without patching the package. Each call publishes `start` and then either
 * `asyncEnd` (with `result`) or `error` (with `error`) on its channel, with one message object
 * per call that subscribers may annotate (a span, a start time). Nothing is built or published
 * while a channel has no subscribers.
 *
 * Client message: `{ method, request, metadata, endpoint, attempt }` (+ `result` / `error`);
 * `endpoint` is the address the call was sent to (set before it is written).
 * Server message: `{ method, request, context }` (+ `result` / `error`); `context` is the
 * handler's `CallContext` (metadata, deadline, remote address).
 */
import { tracingChannel } from 'node:diagnostics_channel';

/** Calls made by clients. */
export const clientCallChannel = tracingChannel('netpoll:rpc:client:call');
/** Calls served by servers. */
export const serverCallChannel = tracingChannel('netpoll:rpc:server:call');
