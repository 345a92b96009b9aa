/**
 * Letting go of a LinkBuffer's last node once everything in it was consumed. A LinkBuffer keeps
 * its last node even when it is fully read (new bytes would follow it), so a connection that goes
 * quiet would keep the inbound slab region of its last message referenced — its reader's last
 * read, or its writer's zero-copy `writeFrom` of that read — and every idle connection could pin
 * a slab of its own. Appending one byte of static memory and consuming it hands that role to
 * memory nobody needs back.
 */
import type { LinkBuffer, RegionOwner } from '@netpoll/linkbuffer';

/** One byte of memory nothing ever needs back. */
const kTailSentinel = Buffer.alloc(1);
const kNoOwner: RegionOwner = { releaseRegion: () => {} };

/**
 * Releases `buffer`'s last node when nothing is readable or reserved (otherwise, or when closed,
 * it does nothing). Views the buffer handed out earlier end here, as with `release()`.
 */
export function releaseConsumedTail(buffer: LinkBuffer): void {
  if (buffer.closed || buffer.len() !== 0 || buffer.mallocLen() !== 0) return;
  buffer.appendRegion(kTailSentinel, 0, 1, kNoOwner, 0);
  buffer.skip(1);
  buffer.release();
}
