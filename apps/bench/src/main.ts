#!/usr/bin/env node
/**
 * The benchmark's entry:
 *   main.js [flags]          the raw echo benchmark (echo-main.ts)
 *   main.js rpc [flags]      the RPC benchmark (rpc-main.ts)
 *   main.js all [flags]      both, one progress bar, results.json + report.html + SVG charts
 *   main.js report [flags]   redraws report.html and the charts from a results file
 *   main.js readme [flags]   rewrites the READMEs' "where it stands" sections from one
 */
import { allMain } from './all-main';
import { echoMain } from './echo-main';
import { readmeMain, reportMain } from './report-main';
import { rpcMain } from './rpc-main';

async function main(argv: readonly string[]): Promise<void> {
  switch (argv[0]) {
    case 'rpc':
      return rpcMain(argv.slice(1));
    case 'all':
      return allMain(argv.slice(1));
    case 'report':
      return reportMain(argv.slice(1));
    case 'readme':
      return readmeMain(argv.slice(1));
    default:
      return echoMain(argv);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
