/** Runs a minor (scavenge) or major (full) garbage collection now. */
export function collectGarbage(type: 'minor' | 'major'): void;

/** Bytes used in new space and old space. */
export function youngAndOldBytes(): number;

/**
 * How many bytes of what `run()` allocates and drops are still used after two scavenges, once a
 * full GC has promoted what `warm()` built (it runs before and after that GC).
 */
export function retainedThroughScavenges(warm: () => void, run: () => void): number;
