import * as L from '../src/layout';
import {
  kDefaultReactorConfig,
  Reactor,
  type ReactorListener,
  type ReactorStream,
} from '../src/reactor';
import { createFakeBinding } from './helpers/fake-binding';

function recordingStream(): ReactorStream & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    onData: (slab, start, end, token) =>
      events.push(`data:${token}:${start}-${end}:${slab.length}`),
    onHangup: (errno) => events.push(`hangup:${errno}`),
    onDrain: () => events.push('drain'),
    onConnectResult: (errno) => events.push(`connect:${errno}`),
    onFrameTooLarge: (length) => events.push(`too-large:${length}`),
    onInputEnd: () => events.push('input-end'),
    evacuateInput: () => 0,
  };
}

describe('Reactor dispatcher (fake binding)', () => {
  it('starts with two inbound slabs and one init call', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    expect(binding.calls).toEqual(['init', 'addSlab:in', 'addSlab:in']);
    expect(reactor.stats().inboundSlabs).toBe(2);
    expect(reactor.stats().jsToNativeCalls).toBe(3);
  });

  it('routes one batch of records to streams and listeners in order', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    const stream = recordingStream();
    const accepted: number[] = [];
    const listener: ReactorListener = {
      onAccept: (fd) => accepted.push(fd),
      onAcceptError: (errno, paused) => accepted.push(paused ? errno * 1000 : errno),
    };
    reactor.attachStream(7, stream);
    reactor.attachListener(3, listener);
    binding.emitBatch([
      [L.kRecordAccept, 0, 8, 3, 0],
      [L.kRecordData, 1, 7, 100, 20],
      [L.kRecordDrain, 0, 7, 0, 0],
      [L.kRecordFrameTooLarge, 0, 7, -1, 0],
      [L.kRecordHangup, 0, 7, -104, 0],
      [L.kRecordAcceptPaused, 0, 3, -24, 0],
      [L.kRecordData, 0, 99, 0, 5], // unknown fd: ignored, no reference taken
    ]);
    expect(accepted).toEqual([8, -24000]);
    expect(stream.events).toEqual([
      `data:1:100-120:${256 * 1024}`,
      'drain',
      `too-large:${2 ** 32 - 1}`,
      'hangup:-104',
    ]);
    // One reference on slab 1 for the delivered region; none for the ignored one.
    expect(binding.control()[L.kSlabRefBase + 1]).toBe(1);
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
    reactor.inbound.releaseRegion(1);
    expect(binding.control()[L.kSlabRefBase + 1]).toBe(0);
    expect(reactor.stats().records).toBe(7);
  });

  it('closes accepted connections of a listener nobody serves', () => {
    const binding = createFakeBinding();
    new Reactor(binding);
    binding.emitBatch([[L.kRecordAccept, 0, 12, 5, 0]]);
    expect(binding.processSubmissions()).toEqual([[L.kSubmitClose, 0, 12, 5000, 0]]);
  });

  it('adds an inbound slab when native reports that every slab is pinned', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(reactor.stats().inboundSlabs).toBe(3);
  });

  it('grows the inbound pool only up to maxInboundMemory', () => {
    const binding = createFakeBinding();
    const config = { ...kDefaultReactorConfig, inboundSlabSize: 16384, maxInboundMemory: 65536 };
    const reactor = new Reactor(binding, config);
    const stream = recordingStream();
    reactor.attachStream(7, stream);
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(reactor.stats().inboundSlabs).toBe(4);
    expect(reactor.inbound.memory).toBe(65536);
    expect(stream.events).toEqual([]);
    // At the cap: no new slab.
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(reactor.stats().inboundSlabs).toBe(4);
    expect(binding.calls.filter((call) => call === 'addSlab:in')).toHaveLength(4);
    expect(stream.events).toEqual([]);
    // A larger cap set later lets it grow again; slabs keep the configured size.
    reactor.configure({ inboundSlabSize: 32768, maxInboundMemory: 65536 + 32768 });
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(reactor.stats().inboundSlabs).toBe(5);
    expect(binding.slabs.at(-1)?.byteLength).toBe(32768);
  });

  it('keeps one slab per frame capacity and grows with ordinary slabs while a large one is free', () => {
    const binding = createFakeBinding();
    const config = { ...kDefaultReactorConfig, inboundSlabSize: 16384, maxInboundMemory: 2 ** 40 };
    const reactor = new Reactor(binding, config);
    reactor.inbound.ensureFrameCapacity(1024 * 1024 + 4);
    expect(binding.slabs.at(-1)?.byteLength).toBe(1024 * 1024 + 4);
    // Asking again (a second listener with the same or a smaller frame size) adds nothing.
    reactor.inbound.ensureFrameCapacity(1024 * 1024 + 4);
    reactor.inbound.ensureFrameCapacity(65536);
    expect(reactor.stats().inboundSlabs).toBe(3);
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(binding.slabs.at(-1)?.byteLength).toBe(16384);
    // With the frame-sized slab referenced, growth must produce one that can take a whole frame.
    const large = binding.slabs.findIndex((slab) => slab.byteLength === 1024 * 1024 + 4);
    reactor.inbound.retain(large);
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(binding.slabs.at(-1)?.byteLength).toBe(1024 * 1024 + 4);
    reactor.inbound.releaseRegion(large);
    // A later configure() changes ordinary slabs only.
    reactor.configure({ inboundSlabSize: 32768, maxInboundMemory: 2 ** 40 });
    binding.emitBatch([], L.kBatchFlagNeedSlab);
    expect(binding.slabs.at(-1)?.byteLength).toBe(32768);
  });

  it('queues writes and closes as 4-int submissions without a native call', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    const callsBefore = reactor.stats().jsToNativeCalls;
    reactor.submitWrite(9, 4, 128, 1024);
    let released = false;
    reactor.submitClose(9, 250, () => {
      released = true;
    });
    expect(reactor.stats().jsToNativeCalls).toBe(callsBefore);
    expect(binding.processSubmissions()).toEqual([
      [L.kSubmitWrite, 4, 9, 128, 1024],
      [L.kSubmitClose, 0, 9, 250, 0],
    ]);
    // The writer memory of a closed connection is released only after native processed the close.
    expect(released).toBe(false);
    binding.emitBatch([]);
    expect(released).toBe(true);
  });

  it('asks native to drain a full submission queue (rare, counted)', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    for (let i = 0; i < L.kMaxSubmits + 1; i++) reactor.submitWrite(9, 0, 0, 1);
    expect(binding.calls.filter((call) => call === 'flush')).toHaveLength(1);
    expect(binding.control()[L.kHeaderSubmitCount]).toBe(1);
  });

  it('reads written counters modulo 2^32 and the backpressure flag from fd state', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    binding.fdState()[9 * L.kFdStateInts + L.kFdWritten] = -1;
    binding.fdState()[9 * L.kFdStateInts + L.kFdFlags] = L.kFdFlagBackpressure;
    expect(reactor.written(9)).toBe(2 ** 32 - 1);
    expect(reactor.blocked(9)).toBe(true);
    expect(reactor.blocked(10)).toBe(false);
  });
});
