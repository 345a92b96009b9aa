#!/usr/bin/env node
/**
 * The README's main job (`pnpm demo`, after the build):
 *
 *   1. RPC: apps/echo's RPC starter server (the Echo service on @netpoll/rpc, pinned to CPU 0),
 *      called under load by its @netpoll/rpc client (pinned to CPU 1); then the same 1 KiB echo
 *      on @netpoll/rpc with raw bytes, on an idiomatic node:net RPC and on @grpc/grpc-js, each
 *      server and client pinned the same way. Printed side by side: calls/s, server and client CPU
 *      per call, p99, each with its ratio to node:net.
 *   2. Raw echo: the @netpoll/core echo server against the node:net one and a plain C epoll
 *      server (the floor), same table.
 *
 * It is `node apps/bench/dist/main.js all` on a small matrix (2 repeats of 2 s windows,
 * under a minute: 42 s on a 2-core VM), writing into apps/bench/results/demo/ (not committed): results.json,
 * report.html and the SVG charts. Extra arguments go to `main.js all` (e.g. --repeats 3).
 * The full benchmark is `node apps/bench/dist/main.js all` (see apps/bench/README.md).
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const bench = path.join(root, 'apps', 'bench', 'dist', 'main.js');
const out = path.join('apps', 'bench', 'results', 'demo');
const args = [
  bench,
  'all',
  ...['--stacks', 'starter,netpoll-mux,net,grpc', '--callers', '100'],
  ...['--impls', 'core,net,c', '--scenarios', '0'],
  ...['--repeats', '2', '--warmup', '500', '--duration', '2000'],
  ...['--out', out],
  ...process.argv.slice(2),
];
console.log(
  [
    'netpoll demo: 1 KiB unary echo calls, 100 callers, server on CPU 0 and client on CPU 1',
    "  part 1, RPC: starter     = apps/echo's RPC starter server (Echo service, JSON { message },",
    '                             logging and metrics on) called by its @netpoll/rpc client',
    '               netpoll-mux = @netpoll/rpc server and mux client, raw 1 KiB bytes',
    '               net         = an idiomatic node:net RPC, raw 1 KiB bytes',
    '               grpc        = @grpc/grpc-js, raw 1 KiB bytes',
    '  part 2, raw echo: @netpoll/core vs node:net vs a plain C epoll server (the floor),',
    '               1 KiB ping-pong frames on 100 connections',
    '  (2 repeats of 2 s each, under a minute; one line per run below)',
    '',
  ].join('\n'),
);
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status === 0) {
  console.log(`\nthe demo's report, with its charts: ${path.join(root, out, 'report.html')}`);
}
process.exit(result.status ?? 1);
