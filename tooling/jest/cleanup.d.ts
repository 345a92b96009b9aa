/** Runs `close` after the current test, passed or failed (newest first). */
export function afterTest(close: () => unknown): void;

/** Closes `resource` after the current test (its `close()` must be idempotent); returns it. */
export function closeAfterTest<T extends { close(): unknown }>(resource: T): T;

/** Destroys `socket` after the current test; returns it. */
export function destroyAfterTest<T extends { destroy(): unknown }>(socket: T): T;

/** A fresh private temp folder, removed with its contents after the current test; its path. */
export function tempDirAfterTest(prefix: string): string;
