/**
 * The owner of memory lent to a LinkBuffer with `appendRegion()`.
 *
 * `@netpoll/core` reads socket data into large preallocated slabs and appends regions of them to
 * a connection's input buffer without copying. The LinkBuffer tells the owner when a region is no
 * longer referenced, so the slab space can be reused.
 */
export interface RegionOwner {
  /**
   * Called exactly once per `appendRegion()` call, with the token passed there, when the node and
   * every slice of it have been released (reference count 0), or immediately for an empty region.
   * It runs synchronously inside `release()`, `read()`, `close()` or `appendRegion()` of the
   * buffer that dropped the last reference; it must not throw and must not re-enter that buffer.
   */
  releaseRegion(token: number): void;
}
