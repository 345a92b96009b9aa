#!/usr/bin/env node
/**
 * `pnpm release:pack [--out DIR] [--keep-staging]`: builds every package, applies the pending
 * changesets and packs every public package, without changing the working tree.
 *
 *  1. `pnpm build` (turbo: every package's dist/, core's development addon).
 *  2. A staging copy of the repository in a temporary folder: the files git knows of (tracked, and
 *     untracked ones that are not ignored) plus each public package's dist/.
 *  3. The prebuilt addon of every `@netpoll/core-<target>` package, built by
 *     packages/core/scripts/prebuild.sh into the staging copy only (so a contributor's loader never
 *     picks up a stale release binary) and checked there (architecture, exports, stripped, glibc
 *     and libstdc++ floor). linux-arm64-gnu is cross-compiled on x64: `apt-get install
 *     g++-aarch64-linux-gnu`.
 *  4. `changeset version` in the staging copy: versions, CHANGELOG.md files, internal ranges. The
 *     repository's .changeset/*.md stay for the real release.
 *  5. `pnpm pack` of every public package, which rewrites `workspace:` ranges to versions.
 *  6. Checks of each tarball: no `workspace:` range and no install script in the manifest;
 *     README.md, LICENSE and CHANGELOG.md present; dist/index.js and dist/index.d.ts present, and
 *     every source and declaration map's sources shipped; the binary in each binary package.
 *
 * Writes the tarballs and release.json (names, versions, files, sizes, publish order) to DIR
 * (default build/release, ignored by git) and prints a table and `release-pack: N passed, N failed`.
 * Publishing is not part of it: `npm publish DIR/<tarball>` in release.json's order (binary
 * packages before @netpoll/core, dependencies before dependents), after `pnpm changeset version`
 * has been committed.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name) => {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const value = args[index + 1];
  // The folder is emptied of tarballs before packing: never guess it (a missing value must not
  // become the current directory).
  if (value === undefined || value === '' || value.startsWith('--')) {
    console.error(`release-pack: ${name} needs a directory`);
    process.exit(2);
  }
  return value;
};
const outDir = path.resolve(option('--out') ?? path.join(root, 'build', 'release'));
const keepStaging = args.includes('--keep-staging');

function step(title) {
  console.log(`\nrelease-pack: ${title}`);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${commandArgs.join(' ')} failed (${result.status ?? result.signal})`,
    );
  }
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The workspace packages under packages/, with their folder and manifest. */
function workspacePackages(base) {
  return fs
    .readdirSync(path.join(base, 'packages'))
    .map((dir) => path.join(base, 'packages', dir))
    .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: readJson(path.join(dir, 'package.json')) }));
}

/** Public packages in publish order: dependencies (optional ones included) before dependents. */
function publishOrder(packages) {
  const byName = new Map(packages.map((pkg) => [pkg.manifest.name, pkg]));
  const ordered = [];
  const visit = (pkg, seen = new Set()) => {
    if (ordered.includes(pkg) || seen.has(pkg)) return;
    seen.add(pkg);
    const { dependencies = {}, optionalDependencies = {}, peerDependencies = {} } = pkg.manifest;
    for (const name of Object.keys({
      ...optionalDependencies,
      ...dependencies,
      ...peerDependencies,
    })) {
      const dependency = byName.get(name);
      if (dependency) visit(dependency, seen);
    }
    ordered.push(pkg);
  };
  for (const pkg of [...packages].sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))) {
    visit(pkg);
  }
  return ordered;
}

function stage() {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'netpoll-release-'));
  const listed = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  let count = 0;
  for (const file of listed.split('\0').filter(Boolean)) {
    const from = path.join(root, file);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue; // deleted, submodule
    fs.mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
    fs.copyFileSync(from, path.join(staging, file));
    count++;
  }
  for (const { dir, manifest } of workspacePackages(root)) {
    if (manifest.private || !fs.existsSync(path.join(dir, 'dist'))) continue;
    fs.cpSync(path.join(dir, 'dist'), path.join(staging, path.relative(root, dir), 'dist'), {
      recursive: true,
    });
  }
  // The changelog functions (tooling/scripts/changelog.js) and the changesets CLI resolve their
  // modules from here.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(staging, 'node_modules'), 'dir');
  console.log(`release-pack: ${count} files and the public packages' dist/ copied to ${staging}`);
  return staging;
}

/** Checks one tarball; returns the failures (empty when it is good). */
function checkTarball(file, manifest) {
  const failures = [];
  const listing = execFileSync('tar', ['tzf', file], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''));
  const files = new Set(listing);
  const raw = JSON.stringify(manifest);
  if (raw.includes('workspace:')) failures.push('a workspace: range is left in package.json');
  const scripts = manifest.scripts ?? {};
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
    if (scripts[hook]) failures.push(`package.json has an ${hook} script`);
  }
  for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!files.has(required)) failures.push(`${required} is missing`);
  }
  const isBinaryPackage = /^@netpoll\/core-/.test(manifest.name);
  if (isBinaryPackage) {
    if (!files.has('netpoll_core.node')) failures.push('netpoll_core.node is missing');
  } else {
    for (const required of ['dist/index.js', 'dist/index.d.ts']) {
      if (!files.has(required)) failures.push(`${required} is missing`);
    }
    if (listing.some((entry) => entry.endsWith('.node'))) {
      failures.push('a .node binary is in a package that is not a binary package');
    }
    const maps = listing.filter((entry) => entry.endsWith('.map'));
    const extracted = fs.mkdtempSync(path.join(os.tmpdir(), 'netpoll-tarball-'));
    try {
      execFileSync('tar', ['xzf', file, '-C', extracted]);
      for (const map of maps) {
        const { sources = [] } = readJson(path.join(extracted, 'package', map));
        for (const source of sources) {
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
          if (!files.has(target)) failures.push(`${map} points to ${target}, which is not shipped`);
        }
      }
    } finally {
      fs.rmSync(extracted, { recursive: true, force: true });
    }
  }
  return { failures, fileCount: listing.length };
}

function main() {
  step('building every package (pnpm build)');
  run('pnpm', ['build'], { cwd: root });

  step('staging a copy of the repository');
  const staging = stage();
  try {
    const binaryPackages = workspacePackages(staging).filter(({ manifest }) =>
      /^@netpoll\/core-/.test(manifest.name),
    );
    for (const { dir, manifest } of binaryPackages) {
      const target = manifest.name.slice('@netpoll/core-'.length);
      step(`building the ${target} binary (packages/core/scripts/prebuild.sh)`);
      run('bash', [
        path.join(root, 'packages', 'core', 'scripts', 'prebuild.sh'),
        target,
        path.join(dir, 'netpoll_core.node'),
      ]);
    }

    step('applying the pending changesets to the staging copy (changeset version)');
    const changesetBin = path.join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
    const before = new Map(workspacePackages(staging).map((p) => [p.manifest.name, p.manifest]));
    run(process.execPath, [changesetBin, 'version'], { cwd: staging });

    step('packing every public package (pnpm pack)');
    fs.mkdirSync(outDir, { recursive: true });
    for (const entry of fs.readdirSync(outDir)) {
      if (entry.endsWith('.tgz') || entry === 'release.json') fs.rmSync(path.join(outDir, entry));
    }
    const packages = workspacePackages(staging).filter(({ manifest }) => !manifest.private);
    const rows = [];
    let passed = 0;
    let failed = 0;
    for (const { dir } of publishOrder(packages)) {
      const output = execFileSync('pnpm', ['pack', '--pack-destination', outDir], {
        cwd: dir,
        encoding: 'utf8',
      });
      const tarball = output.trim().split('\n').pop().trim();
      const packed = readJson(path.join(dir, 'package.json'));
      const inTarball = JSON.parse(
        execFileSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' }),
      );
      const { failures, fileCount } = checkTarball(tarball, inTarball);
      for (const failure of failures) console.log(`FAIL ${packed.name}: ${failure}`);
      if (failures.length === 0) passed++;
      else failed++;
      const unpacked = execFileSync('tar', ['tzvf', tarball], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[2] ?? 0), 0);
      rows.push({
        name: packed.name,
        version: packed.version,
        previousVersion: before.get(packed.name)?.version,
        file: path.basename(tarball),
        packedBytes: fs.statSync(tarball).size,
        unpackedBytes: unpacked,
        files: fileCount,
      });
    }
    // Private packages (apps, tooling) must not be versioned.
    for (const { manifest } of workspacePackages(staging)) {
      if (manifest.private && before.get(manifest.name)?.version !== manifest.version) {
        console.log(`FAIL ${manifest.name}: a private package was versioned (${manifest.version})`);
        failed++;
      }
    }
    for (const dir of ['apps', 'tooling']) {
      for (const sub of fs.readdirSync(path.join(staging, dir))) {
        const manifestFile = path.join(staging, dir, sub, 'package.json');
        if (!fs.existsSync(manifestFile)) continue;
        const manifest = readJson(manifestFile);
        if (before.has(manifest.name)) continue;
        if (fs.existsSync(path.join(staging, dir, sub, 'CHANGELOG.md'))) {
          console.log(`FAIL ${manifest.name}: a private package got a CHANGELOG.md`);
          failed++;
        }
      }
    }
    fs.writeFileSync(
      path.join(outDir, 'release.json'),
      `${JSON.stringify({ publishOrder: rows.map((row) => row.file), packages: rows }, null, 2)}\n`,
    );

    console.log(`\nrelease-pack: tarballs in ${outDir} (publish in this order)`);
    const width = Math.max(...rows.map((row) => row.file.length));
    console.log(`  ${'tarball'.padEnd(width)}  version           packed  unpacked  files`);
    for (const row of rows) {
      const version = `${row.previousVersion} -> ${row.version}`;
      console.log(
        `  ${row.file.padEnd(width)}  ${version.padEnd(14)} ${String(row.packedBytes).padStart(9)} ${String(row.unpackedBytes).padStart(9)} ${String(row.files).padStart(6)}`,
      );
    }
    console.log(`release-pack: ${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    if (keepStaging) console.log(`release-pack: staging copy kept in ${staging}`);
    else fs.rmSync(staging, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`release-pack: ${error.message}`);
  process.exitCode = 1;
}
