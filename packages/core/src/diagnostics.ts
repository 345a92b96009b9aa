/**
 * `node:diagnostics_channel` channels of `@netpoll/core`, for metrics and tracing without patching
 * the package. A message is built only while someone subscribes (`hasSubscribers`), so an
 * unobserved channel costs one property read. Names and message shapes are part of the API
 * (README "Diagnostics channels").
 */
import { channel } from 'node:diagnostics_channel';
import type { Connection } from './connection';
import type { Listener } from './listener';

/** `{ connection, side }`: a connection was accepted (`'server'`) or a dial completed (`'client'`). */
export const connectionOpenChannel = channel('netpoll:connection:open');
/** `{ connection, error }`: a connection was finalized; `error` is its `closeError` or null. */
export const connectionCloseChannel = channel('netpoll:connection:close');
/** `{ error, listener }`: accepting failed; EMFILE/ENFILE pauses the listener with back-off. */
export const acceptErrorChannel = channel('netpoll:accept:error');
/**
 * `{ connection, reason, paused }`: the connection stopped (`paused: true`) or resumed reading
 * because `reason` — `'input'` (unconsumed input at `readHighWaterMark`) or `'output'` (unsent
 * output at `highWaterMark`).
 */
export const backpressureChannel = channel('netpoll:connection:backpressure');
/**
 * `{ inboundMemory, maxInboundMemory, evacuatedBytes }`: every inbound slab was in use at the
 * memory cap; buffered input that no view refers to was copied out of the slabs
 * (`evacuatedBytes`) so that reading can go on.
 */
export const reactorStallChannel = channel('netpoll:reactor:stall');

/** The sides of {@link connectionOpenChannel} messages. */
export type ConnectionSide = 'server' | 'client';

/** Publishes a connection open when observed. */
export function publishOpen(connection: Connection, side: ConnectionSide): void {
  if (connectionOpenChannel.hasSubscribers) connectionOpenChannel.publish({ connection, side });
}

/** Publishes an accept failure when observed. */
export function publishAcceptError(error: Error, listener: Listener): void {
  if (acceptErrorChannel.hasSubscribers) acceptErrorChannel.publish({ error, listener });
}
