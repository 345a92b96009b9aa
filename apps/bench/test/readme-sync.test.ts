import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentSection } from '../src/report/readme';
import { kLatestDir, kReadmes, kResultsName, sectionFor } from '../src/report-main';
import { readResults } from '../src/results';

// The READMEs' "where it stands" sections are generated from the committed results file; they
// must be exactly what it generates (rerun `node apps/bench/dist/main.js readme` after editing
// either), so the figures the READMEs show cannot drift from the run they name.
const kResults = join(kLatestDir, kResultsName);

describe('the committed latest picture', () => {
  it.each(kReadmes)('%s holds what results/latest/results.json generates', (readme) => {
    const section = currentSection(readFileSync(readme, 'utf8'));
    expect(section).not.toBeNull();
    expect(section).toBe(sectionFor(readme, kResults));
  });

  it('has both matrices, with node:net and the C floor in them', () => {
    const results = readResults(kResults);
    expect(results.rpc!.summaries.map((row) => row.stack)).toEqual(
      expect.arrayContaining(['starter', 'netpoll-mux', 'net', 'grpc']),
    );
    expect(results.echo!.summaries.map((row) => row.implementation)).toEqual(
      expect.arrayContaining(['c', 'core', 'net']),
    );
  });

  it.each([
    'rpc-cpu.svg',
    'rpc-throughput.svg',
    'rpc-latency.svg',
    'rpc-rss.svg',
    'echo-cpu.svg',
    'echo-throughput.svg',
    'echo-latency.svg',
    'echo-rss.svg',
  ])('has %s, which the READMEs embed', (file) => {
    expect(readFileSync(join(kLatestDir, file), 'utf8').startsWith('<svg')).toBe(true);
  });
});
