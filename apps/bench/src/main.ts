#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type EchoBenchOptions, kScenarios, type RunResult, runOnce } from './echo-bench';
import { renderReport, summarize } from './report';

const kUsage = `usage: main.js [--impls core,net,net-batched] [--scenarios 0,1,2] [--repeats 5]
               [--duration MS] [--warmup MS] [--payload BYTES] [--client core|net] [--json FILE]

Runs the length-header echo benchmark: each server implementation from
apps/echo pinned to CPU 0, this package's load generator pinned to CPU 1,
implementations interleaved within every repeat, medians reported with
ratios against node:net ("net") from the same run.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      impls: { type: 'string', default: 'core,net,net-batched' },
      scenarios: { type: 'string', default: '0,1,2' },
      repeats: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5000' },
      warmup: { type: 'string', default: '1000' },
      payload: { type: 'string', default: '1024' },
      client: { type: 'string', default: 'core' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${kUsage}\n`);
    return;
  }
  const implementations = values.impls.split(',');
  const scenarios = values.scenarios.split(',').map((index) => {
    const scenario = kScenarios[Number(index)];
    if (scenario === undefined) throw new RangeError(`--scenarios has no scenario ${index}`);
    return scenario;
  });
  const options: EchoBenchOptions = {
    echoCli: require.resolve('@netpoll/app-echo/cli'),
    loadgen: require.resolve('./loadgen'),
    client: values.client,
    payloadSize: Number(values.payload),
    warmupMs: Number(values.warmup),
    durationMs: Number(values.duration),
  };
  const results: RunResult[] = [];
  const repeats = Number(values.repeats);
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const scenario of scenarios) {
      for (const implementation of implementations) {
        const result = await runOnce(implementation, scenario, options);
        results.push(result);
        process.stderr.write(
          `[${repeat}/${repeats}] ${scenario.name} ${implementation}: ` +
            `${result.cpuMicrosPerRequest.toFixed(2)} µs/req, ${Math.round(result.requestsPerSecond)} req/s, ` +
            `p99 ${result.p99Micros.toFixed(0)} µs\n`,
        );
      }
    }
  }
  process.stdout.write(`${renderReport(summarize(results), 'net')}\n`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(results, null, 2));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
