#!/usr/bin/env node
/*
 * Checks a published addon binary before it goes into an @netpoll/core-<target> package:
 *   node scripts/check-binary.js <file.node> <target>
 *
 * - an ELF shared object for the target's machine (x86-64 or AArch64);
 * - stripped (no .symtab) and exporting the Node-API entry point napi_register_module_v1;
 * - linked only against libc, libm, libstdc++ and libgcc_s (nothing a Node install may lack);
 * - the floor: no symbol version newer than kFloor below. These are the versions the README
 *   states (glibc ≥ 2.17, libstdc++ of GCC ≥ 5), well under what Node 20 itself needs
 *   (glibc ≥ 2.28). A newer compiler or C library on the build machine that starts pulling in a
 *   newer symbol (glibc 2.34 moved the pthread functions into libc with new versions, for
 *   example) fails this check instead of shipping a binary that does not load on older systems.
 *
 * Uses binutils' readelf (installed with any gcc), which reads ELF files of every architecture.
 * Prints one line per check and ends with `binary <target>: N passed, N failed`; exits 1 on a
 * failure.
 */
const { execFileSync } = require('node:child_process');

/** The highest symbol version the binaries may need, per version prefix. */
const kFloor = { GLIBC: '2.17', GLIBCXX: '3.4.21', CXXABI: '1.3.9', GCC: '4.2.0' };
const kMachines = {
  'linux-x64-gnu': 'Advanced Micro Devices X86-64',
  'linux-arm64-gnu': 'AArch64',
};
const kAllowedLibraries = ['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1'];

function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function readelf(args, file) {
  return execFileSync('readelf', [...args, '-W', file], { encoding: 'utf8' });
}

function main() {
  const [file, target] = process.argv.slice(2);
  if (!file || !(target in kMachines)) {
    console.error(
      `usage: check-binary.js <file.node> <${Object.keys(kMachines).join('|')}> (got ${target})`,
    );
    return 2;
  }
  let passed = 0;
  let failed = 0;
  const check = (ok, what) => {
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${target}: ${what}`);
  };

  const header = readelf(['-h'], file);
  const machine = /Machine:\s+(.*)/.exec(header)?.[1]?.trim();
  check(machine === kMachines[target], `machine ${machine} (want ${kMachines[target]})`);
  check(/Type:\s+DYN/.test(header), 'a shared object');

  const sections = readelf(['-S'], file);
  check(!/\s\.symtab\s/.test(sections), 'stripped (no .symtab)');

  const symbols = readelf(['--dyn-syms'], file);
  const exported = symbols
    .split('\n')
    .filter((line) => /\sGLOBAL\s/.test(line) && !/\sUND\s/.test(line))
    .map((line) => line.trim().split(/\s+/).pop());
  check(exported.includes('napi_register_module_v1'), 'exports napi_register_module_v1');

  const dynamic = readelf(['-d'], file);
  const needed = [...dynamic.matchAll(/\(NEEDED\).*\[(.*)\]/g)].map((m) => m[1]);
  const foreign = needed.filter((lib) => !kAllowedLibraries.includes(lib));
  check(
    foreign.length === 0,
    `links only ${needed.join(', ')}${foreign.length ? ` (not allowed: ${foreign.join(', ')})` : ''}`,
  );

  const versions = readelf(['-V'], file);
  const highest = {};
  for (const [, prefix, version] of versions.matchAll(/Name: ([A-Z]+)_([0-9.]+)/g)) {
    if (!highest[prefix] || compareVersions(version, highest[prefix]) > 0)
      highest[prefix] = version;
  }
  for (const [prefix, floor] of Object.entries(kFloor)) {
    const have = highest[prefix];
    check(
      have === undefined || compareVersions(have, floor) <= 0,
      `needs ${prefix} ${have ?? '(none)'}, floor ${floor}`,
    );
  }
  const unknown = Object.keys(highest).filter((prefix) => !(prefix in kFloor));
  check(
    unknown.length === 0,
    `no other versioned dependencies${unknown.length ? ` (found ${unknown.join(', ')})` : ''}`,
  );

  console.log(`binary ${target}: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
module.exports = { kFloor };
