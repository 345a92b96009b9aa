/**
 * The task module of the `hash` method's WorkerPool: every export is a task that
 * `@netpoll/gopool` runs on a pool thread, off the reactor. Keep it free of imports that start
 * anything (servers, channels): each pool thread loads it.
 */
import { createHash } from 'node:crypto';
import type { HashRequest, HashResponse } from './echo-api';

/** SHA-256 of `data`, then of the digest, `rounds` times in all (the request is already checked). */
export function hash(request: HashRequest): HashResponse {
  const rounds = request.rounds ?? 1;
  let digest = createHash('sha256').update(request.data).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return { digest: digest.toString('hex'), rounds };
}
