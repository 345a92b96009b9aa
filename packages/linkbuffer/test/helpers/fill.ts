import { LinkBuffer } from '../../src/link-buffer';
import type { LinkBufferOptions } from '../../src/options';
import { CountingAllocator } from './counting-allocator';

/** Writes `text` (latin1 bytes) through malloc and flushes it. */
export function put(buffer: LinkBuffer, text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  buffer.malloc(bytes.length).set(bytes);
  buffer.flush();
}

/**
 * A buffer whose readable bytes are `parts`, each in a node of its own: the allocator hands out
 * exactly the requested size and `nodeSize` is 1, so every node is full after its part.
 */
export function chained(
  parts: readonly string[],
  options: LinkBufferOptions = {},
): { buffer: LinkBuffer; allocator: CountingAllocator } {
  const allocator = new CountingAllocator();
  const buffer = new LinkBuffer({ nodeSize: 1, allocator, ...options });
  for (const part of parts) put(buffer, part);
  return { buffer, allocator };
}

/** The latin1 text of a Buffer or Uint8Array. */
export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
