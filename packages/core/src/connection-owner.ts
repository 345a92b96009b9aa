/**
 * The contract between a connection and whoever owns it: the EventLoop for accepted connections,
 * nobody for dialed ones (netpoll §3.3, §3.5). Also the close-callback type.
 */
import type { Connection } from './connection';

/** How a connection reports to its owner (the EventLoop, or nothing for dialed connections). */
export interface ConnectionOwner {
  /** A callback failed or the connection failed with nobody to receive the error. */
  reportError(error: Error, connection: Connection): void;
  /** The peer closed or failed (before close callbacks). */
  peerClosed(connection: Connection): void;
  /** The handler loop went idle (used by graceful shutdown). */
  idle(connection: Connection): void;
  /** Close callbacks ran; the fd is gone. */
  finalized(connection: Connection): void;
}

/** A close callback: runs once, newest first, with `isActive()` false. */
export type CloseCallback = (connection: Connection) => unknown;
