/**
 * The C floor of the echo benchmark: `@netpoll/core`'s plain C epoll length-header echo server
 * (`packages/core/bench/c-echo/echo_server.cc`, the floor `pnpm --filter @netpoll/core bench`
 * compares against), compiled here with the system's C++ compiler into `build/c-echo/` when
 * missing or older than its source. It prints its port on stdout and exits on SIGTERM or when its
 * stdin closes. Linux only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const kPackageRoot = join(__dirname, '..');

/** The server's source, in @netpoll/core's bench. */
export const kCEchoSource = join(
  kPackageRoot,
  '..',
  '..',
  'packages',
  'core',
  'bench',
  'c-echo',
  'echo_server.cc',
);

/** Where it is built. */
export const kCEchoPath = join(kPackageRoot, 'build', 'c-echo', 'netpoll_c_echo');

/** Builds the C echo server when needed and returns its path; throws when it cannot. */
export function ensureCEcho(): string {
  if (process.platform !== 'linux') throw new Error('the C echo server (impl c) is Linux only');
  const source = statSync(kCEchoSource);
  if (existsSync(kCEchoPath) && statSync(kCEchoPath).mtimeMs >= source.mtimeMs) return kCEchoPath;
  mkdirSync(dirname(kCEchoPath), { recursive: true });
  // Built beside its final name and renamed: a process in parallel never runs a half-written file.
  const partial = `${kCEchoPath}.${process.pid}`;
  const compiler = process.env.CXX ?? 'c++';
  try {
    execFileSync(compiler, ['-O2', '-std=c++17', '-Wall', '-o', partial, kCEchoSource], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failure = error as { stderr?: Buffer; message: string };
    throw new Error(
      `building the C echo server with ${compiler} failed: ${failure.message}\n${failure.stderr?.toString() ?? ''}`,
    );
  }
  renameSync(partial, kCEchoPath);
  return kCEchoPath;
}
