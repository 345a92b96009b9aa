/**
 * `handlerData`: a multi-core loop hands a value to its handler module's `init()` in every
 * reactor before it serves.
 */
import { join } from 'node:path';
import { createListener, dialConnection, EventLoop } from '../../src';
import { describeNative } from '../helpers/native';

const kInitHandler = join(__dirname, '..', 'fixtures', 'init-handler.js');

describeNative('handlerData and the handler module init()', () => {
  it('each reactor awaits init(handlerData) before serving', async () => {
    const loop = new EventLoop(null, {
      reactors: 2,
      handler: kInitHandler,
      handlerData: { prefix: 'configured:' },
    });
    const listener = createListener('tcp', '127.0.0.1:0', { reusePort: true });
    const served = loop.serve(listener);
    try {
      await loop.whenAccepting(listener);
      for (let i = 0; i < 4; i++) {
        const client = await dialConnection('tcp', listener.address);
        client.writer.writeString('hello');
        client.writer.flush();
        await client.reader.waitFor(16);
        expect(client.reader.readString(16)).toBe('configured:hello');
        client.close();
      }
    } finally {
      await loop.shutdown({ timeout: 1000 });
      await served;
    }
  });

  it('an init() that throws fails serve() with ERR_NETPOLL_HANDLER_LOAD', async () => {
    const loop = new EventLoop(null, { handler: kInitHandler, handlerData: { fail: true } });
    const listener = createListener('tcp', '127.0.0.1:0');
    try {
      await expect(loop.serve(listener)).rejects.toMatchObject({
        code: 'ERR_NETPOLL_HANDLER_LOAD',
        message: expect.stringContaining('init() failed: bad configuration'),
      });
    } finally {
      listener.close();
      await loop.shutdown({ timeout: 100 });
    }
  });

  it('refuses handlerData without a handler, and values structuredClone cannot copy', () => {
    expect(() => new EventLoop(() => {}, { handlerData: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(
      () => new EventLoop(null, { handler: kInitHandler, handlerData: { f: () => {} } }),
    ).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }));
  });
});
