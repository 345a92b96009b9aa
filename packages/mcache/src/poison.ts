/**
 * The byte debug mode writes over freed memory. A view still held after `free()` then reads
 * 0xDD bytes (until the memory is handed out again), which makes use-after-free visible in tests.
 * `@netpoll/linkbuffer` checks for the same marker in its own debug mode.
 */
export const POISON_BYTE = 0xdd;
