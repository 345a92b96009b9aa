#!/usr/bin/env node
/*
 * The `install` lifecycle script of @netpoll/core (house style Part C.5).
 *
 * The addon is looked for where src/binding.ts looks: prebuilds/<platform>-<arch>/ first, then
 * build/Release/. When one of them loads, this script does nothing, so a published tarball that
 * ships a binary installs without cmake on PATH. Only when neither loads does it compile the addon
 * from the shipped native/ sources with cmake-js. Plain CommonJS, no dependencies beyond Node and
 * cmake-js, because it runs before anything else of the package can.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const packageDir = join(__dirname, '..');

/**
 * A development checkout of this repository: the workspace file two levels up and the TypeScript
 * sources next to this script (a published tarball ships neither). There `pnpm install` must not
 * compile anything: turbo's `build` task runs cmake-js and tsc in dependency order.
 */
function isWorkspaceCheckout() {
  return (
    existsSync(join(packageDir, '..', '..', 'pnpm-workspace.yaml')) &&
    existsSync(join(packageDir, 'src'))
  );
}

/** The first candidate binary that exists and loads, or undefined. Load errors are only logged. */
function loadableBinary() {
  const candidates = [
    join(packageDir, 'prebuilds', `${process.platform}-${process.arch}`, 'netpoll_core.node'),
    join(packageDir, 'build', 'Release', 'netpoll_core.node'),
  ];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    try {
      // Loading only registers the exports; the reactor starts on the first init() call.
      require(candidate);
      return candidate;
    } catch (error) {
      console.warn(`@netpoll/core: ${candidate} does not load here (${error.message})`);
    }
  }
  return undefined;
}

function buildFromSource() {
  let cli;
  try {
    cli = require.resolve('cmake-js/bin/cmake-js', { paths: [packageDir] });
  } catch {
    return { ok: false, reason: 'cmake-js is not installed next to @netpoll/core' };
  }
  console.log('@netpoll/core: no prebuilt binary for this platform; building from source');
  const result = spawnSync(process.execPath, [cli, 'compile', '--out', 'build'], {
    cwd: packageDir,
    stdio: 'inherit',
  });
  if (result.error) return { ok: false, reason: result.error.message };
  if (result.status !== 0) {
    return { ok: false, reason: `cmake-js exited with ${result.status ?? result.signal}` };
  }
  if (loadableBinary() === undefined) {
    return {
      ok: false,
      reason: 'the build finished but build/Release/netpoll_core.node does not load',
    };
  }
  return { ok: true };
}

function main() {
  if (process.platform === 'win32') {
    // Nothing to build: loadBinding() throws ERR_NETPOLL_UNSUPPORTED_PLATFORM with the reason.
    return 0;
  }
  if (isWorkspaceCheckout()) return 0;
  if (loadableBinary() !== undefined) return 0;
  const built = buildFromSource();
  if (built.ok) return 0;
  console.error(
    [
      '',
      `@netpoll/core: building the native addon failed: ${built.reason}.`,
      `There is no prebuilt binary for ${process.platform}-${process.arch}, so it must be compiled.`,
      'This needs:',
      '  - cmake >= 3.15 on PATH (ninja is used when present, else make),',
      '  - a C++17 compiler (g++ >= 8 or clang >= 7),',
      "  - Node's headers with uv.h (<node prefix>/include/node, or the libuv1-dev package).",
      'Install what is missing, then retry with `npm rebuild @netpoll/core`',
      `(or run \`node scripts/install.js\` in ${packageDir}).`,
    ].join('\n'),
  );
  return 1;
}

process.exitCode = main();
