describe('loadBinding', () => {
  afterEach(() => {
    jest.resetModules();
    jest.dontMock('node:fs');
  });

  it('throws ERR_NETPOLL_BINDING_LOAD naming every path it tried and how to build', () => {
    jest.doMock('node:fs', () => ({ ...jest.requireActual('node:fs'), existsSync: () => false }));
    jest.isolateModules(() => {
      const { loadBinding, bindingCandidates } =
        require('../src/binding') as typeof import('../src/binding');
      let error: (Error & { code?: string }) | undefined;
      try {
        loadBinding();
      } catch (caught) {
        error = caught as Error & { code?: string };
      }
      expect(error?.code).toBe('ERR_NETPOLL_BINDING_LOAD');
      for (const candidate of bindingCandidates()) expect(error?.message).toContain(candidate);
      expect(error?.message).toContain('pnpm --filter @netpoll/core build');
    });
  });

  it('looks in prebuilds/<platform>-<arch> before build/Release, after NETPOLL_ADDON_PATH', () => {
    const saved = process.env.NETPOLL_ADDON_PATH;
    process.env.NETPOLL_ADDON_PATH = '/custom/netpoll_core.node';
    try {
      const { bindingCandidates } = require('../src/binding') as typeof import('../src/binding');
      const candidates = bindingCandidates();
      expect(candidates[0]).toBe('/custom/netpoll_core.node');
      expect(candidates[1]).toContain(
        `prebuilds/${process.platform}-${process.arch}/netpoll_core.node`,
      );
      expect(candidates[2]).toContain('build/Release/netpoll_core.node');
    } finally {
      if (saved === undefined) delete process.env.NETPOLL_ADDON_PATH;
      else process.env.NETPOLL_ADDON_PATH = saved;
    }
  });
});
