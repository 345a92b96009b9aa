/** The warnings the process emits until the end of the current test (filled as they come). */
export function collectWarnings(): Error[];

/** Runs `run` with `process.nextTick` calling back at once; returns what the callbacks threw. */
export function nextTickThrows(run: () => void): unknown[];
