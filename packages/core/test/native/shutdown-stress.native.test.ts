/**
 * Graceful shutdown under pipelined load with 64 KiB replies, one and two reactors, clients that
 * keep sending after SIGTERM (test/stress/shutdown-stress.js; `node test/stress/shutdown-stress.js
 * --repeats 20` is the long form). Every request that had reached the server when the signal was
 * sent gets its whole reply; no frame is truncated, no connection reset, the server exits 0.
 */
import { describeNative } from '../helpers/native';

// Plain JS (it also runs standalone); it loads the built dist/.
const { run, failed } = require('../stress/shutdown-stress.js') as {
  run: (options: {
    repeats: number;
    reactors: number[];
    connections: number;
    loadMs: number;
  }) => Promise<Array<Record<string, number>>>;
  failed: (result: Record<string, number>) => boolean;
};

describeNative('shutdown under load', () => {
  it('loses no request, truncates no reply and resets no connection (1 and 2 reactors)', async () => {
    const results = await run({ repeats: 2, reactors: [1, 2], connections: 100, loadMs: 200 });
    for (const result of results) {
      expect(result).toMatchObject({ lost: 0, bad: 0, truncated: 0, resets: 0, serverExit: 0 });
      expect(result.required).toBeGreaterThan(0);
      expect(failed(result)).toBe(false);
    }
  }, 120_000);
});
