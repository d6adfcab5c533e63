// What a command's last-output-to-exit would be for a Node program on the same dependencies holding as much: our
// command is run with a preload (written into the scratch directory) that reads its resident memory and JS heap and
// counts its open sockets as it exits, then bench/floor-exit holds as much, with as many connections, and exits,
// timed like ours. Interleave floor runs with the runs of
// ours they are the floor of: both move with the machine's load.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchDir, freshEnvironment, runChecked } from './process.js';
import type { BenchContext } from './scenario.js';
import { formatMb, median, summarise } from './stats.js';
import type { Sample, Series } from './stats.js';

/**
 * The probe: on 'exit' (process.exit runs it), appends to the file that the environment names the resident memory
 * in KiB, the sockets open (the kernel closes each one after the last write too) and V8's heap in KiB (a JS heap
 * takes longer to end than as much memory in Buffers).
 */
const PROBE = `'use strict';
const fs = require('node:fs');
process.on('exit', () => {
  const rss = /VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  let sockets = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try { if (fs.readlinkSync('/proc/self/fd/' + fd).startsWith('socket:')) sockets++; } catch {}
  }
  const heap = Math.round(process.memoryUsage().heapTotal / 1024);
  if (rss !== null) fs.appendFileSync(process.env.MANIFEST_BENCH_EXIT_RSS_FILE, rss[1] + ' ' + sockets + ' ' + heap + '\\n');
});
`;

/** What a run of ours held as it exited. */
interface HeldAtExit {
  rssKiB: number;
  sockets: number;
  heapKiB: number;
}

/** The environment additions that make a run of ours report what it held at exit, and what they reported. */
interface ExitRssProbe {
  env: NodeJS.ProcessEnv;
  /** The medians of what the probed runs reported; undefined on a system without /proc. */
  read(): Promise<HeldAtExit | undefined>;
}

async function exitRssProbe(context: BenchContext, name: string): Promise<ExitRssProbe> {
  const probe = join(context.scratch, 'exit-rss-probe.cjs');
  await writeFile(probe, PROBE);
  const report = join(context.scratch, `exit-rss-${name}.txt`);
  await writeFile(report, '');
  return {
    // Quoted: NODE_OPTIONS splits on spaces, and the scratch directory may have one.
    env: { NODE_OPTIONS: `--require ${JSON.stringify(probe)}`, MANIFEST_BENCH_EXIT_RSS_FILE: report },
    read: async () => {
      const values = (await readFile(report, 'utf8')).split('\n').filter((line) => /^\d+ \d+ \d+$/.test(line)).map((line) => line.split(' ').map(Number));
      if (values.length === 0) return undefined;
      const middle = (k: number): number => median(values.map((v) => v[k] ?? 0));
      return { rssKiB: middle(0), sockets: Math.round(middle(1)), heapKiB: middle(2) };
    },
  };
}

/** Runs of bench/floor-exit holding what ours held, and how much each held. */
export class ExitFloor {
  private readonly samples: Sample[] = [];
  private readonly heldKiB: number[] = [];

  constructor(private readonly context: BenchContext, private readonly held: HeldAtExit, private readonly measureRss: boolean, private readonly url: string) {}

  /** One run: `measureRss` runs it under /usr/bin/time as the runs of ours it is the floor of. */
  async run(): Promise<void> {
    const args = [join(benchDir, 'floor-exit.js'), this.url, String(Math.round(this.held.rssKiB)), String(Math.max(1, this.held.sockets)), String(Math.round(this.held.heapKiB))];
    const timed = await runChecked(process.execPath, args, {
      env: await freshEnvironment(this.context.scratch),
      timeoutMs: 60_000,
      ...(this.measureRss && { measureRss: true, scratch: this.context.scratch }),
    });
    const held = /resident (\d+) KiB/.exec(timed.stdout)?.[1];
    if (held !== undefined) this.heldKiB.push(Number(held));
    this.samples.push({ ms: timed.ms, ...(timed.tailMs !== undefined && { tailMs: timed.tailMs }) });
  }

  /** The series; when the floor process held more than ours (by over 1 MiB), its note says it is no floor. */
  series(id: string, whose: string): Series {
    const held = median(this.heldKiB);
    const label = `floor of last output to exit: node holding ${formatMb(held)} and ${Math.max(1, this.held.sockets)} connections; ${whose} held ${formatMb(this.held.rssKiB)} (a JS heap of ${formatMb(this.held.heapKiB)}) and ${this.held.sockets} sockets at exit (bench/floor-exit)`;
    return held > this.held.rssKiB + 1024 ? summarise(id, label, this.samples, 'no floor: Node and undici alone held more than ours') : summarise(id, label, this.samples);
  }
}

/** How the floor runs: under /usr/bin/time or not, as ours; its connections to `url` (default registry A). */
export interface ExitFloorOptions {
  measureRss?: boolean;
  url?: string;
}

/**
 * Runs ours twice (untimed) through `runOurs` with the probe's environment, and returns the floor at the median
 * of what those runs held at exit; undefined where /proc cannot tell.
 */
export async function probeExitFloor(context: BenchContext, name: string, runOurs: (env: NodeJS.ProcessEnv) => Promise<unknown>, options: ExitFloorOptions = {}): Promise<ExitFloor | undefined> {
  const runs = 2;
  const probe = await exitRssProbe(context, name);
  for (let i = 0; i < runs; i++) {
    context.progress(`${name}: ours with the exit-RSS probe (${i + 1}/${runs})`);
    await runOurs(probe.env);
  }
  const held = await probe.read();
  return held === undefined ? undefined : new ExitFloor(context, held, options.measureRss === true, options.url ?? context.registry.url);
}

/** The floor's series, or an empty one saying why there is none. */
export function exitFloorSeries(floor: ExitFloor | undefined, id: string, whose: string): Series {
  return floor?.series(id, whose) ?? summarise(id, 'floor of last output to exit at our memory (bench/floor-exit)', [], 'not measured (no /proc)');
}
