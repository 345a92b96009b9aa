#!/usr/bin/env node
/**
 * The README's main job: starts the @netpoll/core echo server and the
 * idiomatic node:net one in turn (pinned to CPU 0), drives each with the
 * @netpoll/core load generator (pinned to CPU 1), and prints a short
 * side-by-side comparison. The full benchmark is `pnpm --filter @netpoll/app-bench bench`.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const bench = path.join(__dirname, '..', '..', 'apps', 'bench', 'dist', 'main.js');
const args = [
  bench,
  '--impls',
  'core,net',
  '--scenarios',
  '0',
  '--repeats',
  '3',
  '--warmup',
  '500',
  '--duration',
  '2000',
  ...process.argv.slice(2),
];
console.log('echo demo: 1 KiB length-header ping-pong, 100 connections, @netpoll/core vs node:net');
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
