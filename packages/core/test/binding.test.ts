import { join } from 'node:path';

type BindingModule = typeof import('../src/binding');

describe('loadBinding', () => {
  const savedOverride = process.env.NETPOLL_ADDON_PATH;

  afterEach(() => {
    jest.resetModules();
    jest.dontMock('node:fs');
    if (savedOverride === undefined) delete process.env.NETPOLL_ADDON_PATH;
    else process.env.NETPOLL_ADDON_PATH = savedOverride;
  });

  /** Loads src/binding with no local build and no NETPOLL_ADDON_PATH. */
  function loadWithoutLocalBuild(): BindingModule {
    delete process.env.NETPOLL_ADDON_PATH;
    jest.doMock('node:fs', () => ({ ...jest.requireActual('node:fs'), existsSync: () => false }));
    return require('../src/binding') as BindingModule;
  }

  function loadError(binding: BindingModule): Error & { code?: string } {
    try {
      binding.loadBinding();
    } catch (caught) {
      return caught as Error & { code?: string };
    }
    throw new Error('loadBinding did not throw');
  }

  it('names a target by platform and arch, with the C library on Linux', () => {
    const { bindingTarget } = require('../src/binding') as BindingModule;
    expect(bindingTarget('linux', 'x64', 'gnu')).toBe('linux-x64-gnu');
    expect(bindingTarget('linux', 'arm64', 'musl')).toBe('linux-arm64-musl');
    expect(bindingTarget('darwin', 'arm64')).toBe('darwin-arm64');
    expect(bindingTarget('freebsd', 'x64')).toBe('freebsd-x64');
  });

  it('looks in NETPOLL_ADDON_PATH, then the @netpoll/core-<target> package, then build/Release', () => {
    process.env.NETPOLL_ADDON_PATH = '/custom/netpoll_core.node';
    const { bindingCandidates } = require('../src/binding') as BindingModule;
    expect(bindingCandidates('linux-x64-gnu')).toEqual([
      { kind: 'override', request: '/custom/netpoll_core.node' },
      { kind: 'package', request: '@netpoll/core-linux-x64-gnu' },
      { kind: 'build', request: join(__dirname, '..', 'build', 'Release', 'netpoll_core.node') },
    ]);
  });

  it('loads the prebuilt package of this target before a local build', () => {
    const fake = { maxFds: () => 7 };
    jest.isolateModules(() => {
      const binding = loadWithoutLocalBuild();
      jest.doMock(`@netpoll/core-${binding.bindingTarget()}`, () => fake, { virtual: true });
      expect(binding.loadBinding()).toBe(fake);
    });
  });

  it('throws ERR_NETPOLL_BINDING_LOAD naming the platform, the package and the build command', () => {
    jest.isolateModules(() => {
      const binding = loadWithoutLocalBuild();
      const target = binding.bindingTarget();
      jest.doMock(
        `@netpoll/core-${target}`,
        () => {
          throw Object.assign(new Error(`Cannot find module '@netpoll/core-${target}'`), {
            code: 'MODULE_NOT_FOUND',
          });
        },
        { virtual: true },
      );
      const error = loadError(binding);
      expect(error.code).toBe('ERR_NETPOLL_BINDING_LOAD');
      expect(error.message).toContain(`on ${process.platform}-${process.arch}`);
      expect(error.message).toContain(`@netpoll/core-${target}`);
      for (const candidate of binding.bindingCandidates(target)) {
        expect(error.message).toContain(candidate.request);
      }
      const script = join(__dirname, '..', 'scripts', 'build-from-source.js');
      expect(error.message).toContain(`node "${script}"`);
    });
  });

  it("gives the repository's build command, not the installed copy's, in a checkout", () => {
    jest.isolateModules(() => {
      delete process.env.NETPOLL_ADDON_PATH;
      jest.doMock('node:fs', () => ({
        ...jest.requireActual('node:fs'),
        existsSync: (file: string) =>
          file.endsWith('/test') || file.endsWith('pnpm-workspace.yaml'),
      }));
      const binding = require('../src/binding') as BindingModule;
      jest.doMock(
        `@netpoll/core-${binding.bindingTarget()}`,
        () => {
          throw Object.assign(new Error('not found'), { code: 'MODULE_NOT_FOUND' });
        },
        { virtual: true },
      );
      const error = loadError(binding);
      expect(error.message).toContain('pnpm --filter @netpoll/core build');
      expect(error.message).not.toContain('build-from-source.js');
    });
  });

  it('says when the target has no prebuilt package, and which targets have one', () => {
    jest.isolateModules(() => {
      const binding = loadWithoutLocalBuild();
      jest.doMock(
        '../package.json',
        () => ({ optionalDependencies: { '@netpoll/core-other-target': '1.0.0' } }),
        { virtual: true },
      );
      const error = loadError(binding);
      expect(error.message).toContain(
        `There is no prebuilt binary for ${binding.bindingTarget()} (prebuilt: other-target)`,
      );
    });
  });

  it('throws ERR_NETPOLL_UNSUPPORTED_PLATFORM on Windows', () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
    try {
      const { loadBinding } = require('../src/binding') as BindingModule;
      expect(() => loadBinding()).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_UNSUPPORTED_PLATFORM' }),
      );
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });
});
