// What a command's last-output-to-exit would be for a Node program on the same dependencies holding as much memory: our command is run
// once more with a preload (bench/exit-rss-probe.cjs, written into the scratch directory) that reads its resident
// memory as it exits, then bench/floor-exit holds that much and exits, timed like ours. Interleave floor runs with
// the runs of ours they are the floor of: both move with the machine's load.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchDir, freshEnvironment, runChecked } from './process.js';
import type { BenchContext } from './scenario.js';
import type { Sample } from './stats.js';

/** The probe: on 'exit' (process.exit runs it), appends VmRSS in KiB to the file that the environment names. */
const PROBE = `'use strict';
const fs = require('node:fs');
process.on('exit', () => {
  const rss = /VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (rss !== null) fs.appendFileSync(process.env.MANIFEST_BENCH_EXIT_RSS_FILE, rss[1] + '\\n');
});
`;

/** The environment additions that make a run of ours report its resident memory at exit, and where it goes. */
export interface ExitRssProbe {
  env: NodeJS.ProcessEnv;
  /** Reads what the probed runs reported (KiB), the largest first; empty on a system without /proc. */
  read(): Promise<number[]>;
}

export async function exitRssProbe(context: BenchContext, name: string): Promise<ExitRssProbe> {
  const probe = join(context.scratch, 'exit-rss-probe.cjs');
  await writeFile(probe, PROBE);
  const report = join(context.scratch, `exit-rss-${name}.txt`);
  await writeFile(report, '');
  return {
    env: { NODE_OPTIONS: `--require ${probe}`, MANIFEST_BENCH_EXIT_RSS_FILE: report },
    read: async () => (await readFile(report, 'utf8')).split('\n').filter((line) => /^\d+$/.test(line)).map(Number).sort((a, b) => b - a),
  };
}

/**
 * One run of bench/floor-exit holding `rssKiB`: its sample carries the tail (last output to exit). `measureRss`
 * runs it under /usr/bin/time as the runs of ours it is the floor of (the wrapper's own exit is in the tail).
 */
export async function exitFloorSample(context: BenchContext, rssKiB: number, measureRss = false): Promise<Sample> {
  const timed = await runChecked(process.execPath, [join(benchDir, 'floor-exit.js'), String(rssKiB)], {
    env: await freshEnvironment(context.scratch),
    timeoutMs: 60_000,
    ...(measureRss && { measureRss, scratch: context.scratch }),
  });
  return { ms: timed.ms, ...(timed.tailMs !== undefined && { tailMs: timed.tailMs }) };
}
