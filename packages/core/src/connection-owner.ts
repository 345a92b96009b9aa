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
  /** Close callbacks ran; the reactor closes the fd (maybe lingering first). */
  finalized(connection: Connection): void;
  /**
   * The reactor closed the fd: nothing of the connection is left. `cut`: the close dropped work
   * or output (a hard close, output the kernel never took, a lingering close cut with output
   * undelivered).
   */
  released(connection: Connection, cut: boolean): void;
}

/** A close callback: runs once, newest first, with `isActive()` false. */
export type CloseCallback = (connection: Connection) => unknown;
