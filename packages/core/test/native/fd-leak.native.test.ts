/**
 * Thousands of connect/close cycles leave the descriptor count where it started: every accepted
 * and dialed fd is closed exactly once, whichever side closes first.
 */
import { dialConnection } from '../../src';
import { openFdCount } from '../helpers/fds';
import { describeNative, echoHandler, readExactly, startServer, until } from '../helpers/native';

describeNative('descriptor hygiene', () => {
  it('returns to the baseline fd count after 2000 connect/close cycles', async () => {
    const server = startServer(echoHandler);
    // Warm-up creates the reactor's slabs and the listener; the baseline is taken after it.
    const warm = await dialConnection('tcp', server.listener.address);
    warm.close();
    await until(() => server.loop.connectionCount === 0, 'warm-up closed');
    await new Promise((resolve) => setImmediate(resolve));
    const baseline = openFdCount();
    const cycles = 2000;
    const parallel = 50;
    for (let done = 0; done < cycles; done += parallel) {
      await Promise.all(
        Array.from({ length: parallel }, async (_, index) => {
          const client = await dialConnection('tcp', server.listener.address);
          if ((done + index) % 2 === 0) {
            client.writer.writeString('x');
            client.writer.flush();
            await readExactly(client, 1);
          }
          client.close();
        }),
      );
    }
    await until(() => server.loop.connectionCount === 0, 'server side closed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(openFdCount()).toBe(baseline);
    await server.stop();
  });
});
