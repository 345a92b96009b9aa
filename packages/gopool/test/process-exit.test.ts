import { execFile } from 'node:child_process';
import { join } from 'node:path';

// These run a real child process against the built package (dist/), because "no thread is
// left alive" is best proven by the process exiting on its own.
const dist = join(__dirname, '..', 'dist', 'index.js');
const tasks = join(__dirname, 'fixtures', 'tasks.js');

function runChild(
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The timeout is a safety net against a hang (a hang is the failure being tested for).
    execFile(process.execPath, ['-e', script], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

jest.setTimeout(90_000);

describe('WorkerPool threads and process exit', () => {
  it('close() ends every thread, so the process exits by itself', async () => {
    const script = `
      const { WorkerPool } = require(${JSON.stringify(dist)});
      const pool = new WorkerPool({ filename: ${JSON.stringify(tasks)}, minThreads: 2, maxThreads: 2 });
      const exited = [];
      Promise.all(Array.from({ length: 100 }, (_, i) => pool.run({ a: i, b: 1 }))).then(async (results) => {
        const sum = results.reduce((a, b) => a + b, 0);
        await pool.close();
        console.log(JSON.stringify({ sum, threads: pool.threads }));
      });
    `;
    const { code, stdout, stderr } = await runChild(script);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ sum: 5050, threads: 0 });
  });

  it('an idle pool that was never closed does not keep the process alive', async () => {
    const script = `
      const { WorkerPool } = require(${JSON.stringify(dist)});
      const pool = new WorkerPool({ filename: ${JSON.stringify(tasks)}, minThreads: 2, maxThreads: 2 });
      pool.run({ a: 20, b: 22 }).then((result) => console.log(result));
    `;
    const { code, stdout } = await runChild(script);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('42');
  });

  it('destroy() with tasks still running ends every thread too', async () => {
    const script = `
      const { WorkerPool } = require(${JSON.stringify(dist)});
      const pool = new WorkerPool({ filename: ${JSON.stringify(tasks)}, minThreads: 2, maxThreads: 2 });
      const stuck = pool.run(null, { name: 'forever' }).catch((error) => error.code);
      setTimeout(async () => {
        await pool.destroy();
        console.log(await stuck, pool.threads);
      }, 50);
    `;
    const { code, stdout } = await runChild(script);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('ERR_NETPOLL_CLOSED 0');
  });
});
