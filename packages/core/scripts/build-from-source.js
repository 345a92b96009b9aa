#!/usr/bin/env node
/*
 * Builds the @netpoll/core addon from source inside an installed copy of the package:
 *
 *   node <folder of @netpoll/core>/scripts/build-from-source.js
 *
 * This is the command ERR_NETPOLL_BINDING_LOAD prints (with the absolute path), for systems with
 * no prebuilt @netpoll/core-<target> package (musl, macOS, FreeBSD, other architectures) or whose
 * prebuilt binary does not load. It:
 *
 *   1. checks the tools: cmake >= 3.15 and a C++ compiler on PATH, and Node's uv.h;
 *   2. installs cmake-js and node-addon-api, at the versions @netpoll/core is built with, into a
 *      temporary folder with npm: they are build tools, not dependencies of @netpoll/core;
 *   3. runs `cmake-js compile --out build` in the package folder, which writes
 *      build/Release/netpoll_core.node (the second place the loader looks, after the prebuilt
 *      package);
 *   4. loads the result once, and removes the temporary folder.
 *
 * Every command is printed before it runs. Plain CommonJS with no dependencies. Run it again after
 * reinstalling or upgrading @netpoll/core: the build lives in the installed copy.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync, accessSync, constants } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const packageDir = join(__dirname, '..');
const manifest = require(join(packageDir, 'package.json'));
// The versions the package is built with in its repository (kept in the published manifest).
const tools = {
  'cmake-js': manifest.devDependencies?.['cmake-js'] ?? '8.0.0',
  'node-addon-api': manifest.devDependencies?.['node-addon-api'] ?? '8.9.2',
};
const output = join(packageDir, 'build', 'Release', 'netpoll_core.node');

function log(line) {
  console.log(`@netpoll/core: ${line}`);
}

function fail(lines) {
  console.error(['', ...lines.map((line) => `@netpoll/core: ${line}`), ''].join('\n'));
  return 1;
}

function run(command, args, options = {}) {
  log(`$ ${[command, ...args].map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  return spawnSync(command, args, { stdio: 'inherit', ...options });
}

function version(command) {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

/** What is missing to build, as lines for the user; empty when everything is there. */
function missingTools() {
  const missing = [];
  const cmake = version('cmake');
  const [major, minor] = (/(\d+)\.(\d+)/.exec(cmake ?? '') ?? []).slice(1).map(Number);
  if (cmake === undefined) missing.push('cmake >= 3.15 is not on PATH');
  else if (major < 3 || (major === 3 && minor < 15))
    missing.push(`cmake >= 3.15 needed (${cmake})`);
  const compilers = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
  if (!compilers.some((compiler) => version(compiler) !== undefined)) {
    missing.push(
      `no C++17 compiler on PATH (tried ${compilers.join(', ')}; g++ >= 8 or clang >= 7)`,
    );
  }
  const uvCandidates = [
    join(process.execPath, '..', '..', 'include', 'node', 'uv.h'),
    '/usr/include/node/uv.h',
    '/usr/local/include/node/uv.h',
    '/usr/include/uv.h',
  ];
  if (!uvCandidates.some((file) => existsSync(file))) {
    missing.push(
      `Node's uv.h was not found (looked in ${uvCandidates.join(', ')}); ` +
        "install Node's headers (Node's release archives include them) or libuv1-dev",
    );
  }
  if (version('npm') === undefined) missing.push('npm is not on PATH (it fetches cmake-js)');
  try {
    accessSync(packageDir, constants.W_OK);
  } catch {
    missing.push(`${packageDir} is not writable by this user`);
  }
  return missing;
}

function main() {
  if (process.platform === 'win32') {
    return fail(['Windows is not supported (ERR_NETPOLL_UNSUPPORTED_PLATFORM).']);
  }
  log(`building the addon from source in ${packageDir}`);
  const missing = missingTools();
  if (missing.length > 0) {
    return fail(['cannot build yet:', ...missing.map((line) => `  - ${line}`)]);
  }
  const toolDir = mkdtempSync(join(tmpdir(), 'netpoll-core-build-'));
  try {
    const install = run('npm', [
      'install',
      '--prefix',
      toolDir,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      `cmake-js@${tools['cmake-js']}`,
      `node-addon-api@${tools['node-addon-api']}`,
    ]);
    if (install.status !== 0) {
      return fail([`npm could not install cmake-js and node-addon-api (exit ${install.status}).`]);
    }
    const modules = join(toolDir, 'node_modules');
    // cmake-js looks node-addon-api up from the package folder; NODE_PATH points it here.
    const compile = run(
      process.execPath,
      [join(modules, 'cmake-js', 'bin', 'cmake-js'), 'compile', '--out', 'build'],
      { cwd: packageDir, env: { ...process.env, NODE_PATH: modules } },
    );
    if (compile.status !== 0) {
      return fail([`cmake-js compile failed (exit ${compile.status ?? compile.signal}).`]);
    }
  } finally {
    rmSync(toolDir, { recursive: true, force: true });
  }
  const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(output)})`], {
    encoding: 'utf8',
  });
  if (load.status !== 0) {
    return fail([`the build finished, but ${output} does not load:`, load.stderr.trim()]);
  }
  log(`built ${output}; @netpoll/core loads it from now on.`);
  return 0;
}

process.exitCode = main();
