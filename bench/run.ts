// The benchmark suite of issue 6 (not a test: it measures, never asserts). It starts a real local registry (Debian's
// docker-registry) with a proxy adding 25 ms each way in front of it, seeds images, and measures side by side in
// one run: manifest pushml against docker manifest (and buildah where installed) on loopback and through the
// proxy, with the round-trip lower bound; 2/8/32 entries; a batch of specs; cold start; a cross-registry copy
// against skopeo with peak RSS, also for one big blob. It prints the issue's targets as ratios with verdicts and
// every series (median, min–max) and writes bench/results.json.
//
//   node dist/bench/run.js [--runs N] [--warm-ups N] [--only coldstart,push8,inspect,scaling,batch,copy,bigblob,archives,bigarchive]
//                          [--batch-size N] [--big-blob-mib N] [--out FILE]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { trackDir, untrackDir } from '../test/helpers/exit-cleanup.js';
import { registryAvailable, startRegistry } from '../test/helpers/registry.js';
import type { TestRegistry } from '../test/helpers/registry.js';
import { archivesScenario, bigArchiveScenario } from './archives.js';
import { bigBlobScenario, copyScenario } from './copy.js';
import { coldStartScenario } from './cold-start.js';
import { inspectScenario } from './inspect.js';
import { startDelayProxy } from './delay-proxy.js';
import type { DelayProxy } from './delay-proxy.js';
import { detectTools } from './process.js';
import { batchScenario, push8Scenario, scalingScenario } from './push.js';
import { formatSeries, formatTargets, formatTrace, verdictOf } from './report.js';
import { isMet } from './scenario.js';
import type { BenchContext, RoundTrace, Scenario, Target } from './scenario.js';
import { PUSH_REPOSITORY, THIRTY_TWO_PLATFORMS, platformTag } from './specs.js';
import type { Series } from './stats.js';

const ONE_WAY_DELAY_MS = 25;
/** In the order they run: cold start first, while the machine is quiet. */
const SCENARIOS: readonly Scenario[] = [coldStartScenario, push8Scenario, inspectScenario, scalingScenario, batchScenario, copyScenario, bigBlobScenario, archivesScenario, bigArchiveScenario];
const MIB = 1024 * 1024;
/** The issue's bound on the time from a command's last byte of output to its exit. */
const EXIT_LIMIT_MS = 10;

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Options {
  runs: number;
  warmUps: number;
  only: Scenario[];
  batchSize: number;
  bigBlobBytes: number;
  out: string;
}

const USAGE = `usage: node dist/bench/run.js [options]
  --runs N           measured runs per series (default 5; cold start takes at least 11)
  --warm-ups N       discarded runs before them (default 1)
  --only LIST        comma-separated scenarios (default all):
${SCENARIOS.map((s) => `                       ${s.name.padEnd(10)} ${s.description}`).join('\n')}
  --batch-size N     specs in the batch invocation (default 100)
  --big-blob-mib N   size of the bigblob and bigarchive layer (default 200)
  --out FILE         where to write the results (default bench/results.json)
`;

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new Error(`--${name} takes a whole number from ${min} to ${max}, not "${text}"`);
  return n;
}

function parseOptions(): Options | 'help' {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      'warm-ups': { type: 'string', default: '1' },
      only: { type: 'string' },
      'batch-size': { type: 'string', default: '100' },
      'big-blob-mib': { type: 'string', default: '200' },
      out: { type: 'string', default: join(root, 'bench', 'results.json') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) return 'help';
  const names = values.only === undefined ? SCENARIOS.map((s) => s.name) : values.only.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--only: unknown scenario ${unknown.join(', ') || '(none given)'}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return {
    runs: wholeNumber('runs', values.runs, 1, 100),
    warmUps: wholeNumber('warm-ups', values['warm-ups'], 0, 10),
    only: SCENARIOS.filter((s) => names.includes(s.name)),
    batchSize: wholeNumber('batch-size', values['batch-size'], 2, 1000),
    bigBlobBytes: wholeNumber('big-blob-mib', values['big-blob-mib'], 1, 4096) * MIB,
    out: values.out,
  };
}

/**
 * One target per series of ours that printed something: the median time from its last byte of output to its
 * exit (a process that has said everything should not keep its caller waiting). Node's own floor, and the floor
 * of a Node process holding as much memory as ours did at exit (series `*.exit-floor`), are reported beside them,
 * without a goal.
 */
function exitTargets(series: readonly Series[]): Target[] {
  return series.filter((s) => s.tailMs !== undefined && s.id !== 'coldstart.node').map((s) => ({
    scenario: 'exit',
    title: `last output to exit: ${s.label}`,
    measured: `median of ${s.samples.filter((x) => x.tailMs !== undefined).length}`,
    value: s.tailMs ?? NaN,
    unit: 'ms' as const,
    ...(s.id === 'coldstart.node-print' ? { note: 'the floor: node itself' }
      : s.id.endsWith('.exit-floor') ? { note: s.note ?? 'the floor at the memory ours held' }
        : { goal: { comparison: '≤' as const, limit: EXIT_LIMIT_MS } }),
  }));
}

async function main(): Promise<void> {
  let options: Options | 'help';
  try {
    options = parseOptions();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (!registryAvailable()) {
    process.stderr.write('bench: needs docker-registry and skopeo on PATH (scripts/setup.mjs --system installs them as root); nothing measured\n');
    process.exitCode = 1;
    return;
  }
  // A Ctrl-C still runs the 'exit' hooks, which kill the registries and tools we started and remove temp dirs.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));

  const began = performance.now();
  const progress = (text: string): void => {
    process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);
  };
  // Other work on the machine skews every figure; the 1-minute load average before and after says how much there was.
  const loadBefore = loadavg()[0] ?? 0;
  const scratch = await mkdtemp(join(tmpdir(), 'manifest-bench-'));
  trackDir(scratch);
  let registry: TestRegistry | undefined;
  let proxy: DelayProxy | undefined;
  try {
    const tools = await detectTools(scratch);
    progress(`peers: docker ${tools.docker ?? 'not installed'}, buildah ${tools.buildah ?? 'not installed'}, skopeo ${tools.skopeo ?? 'not installed'}; peak RSS ${tools.gnuTime ? 'by /usr/bin/time' : 'not measured (no /usr/bin/time)'}`);
    registry = await startRegistry('plain');
    progress(`registry A on ${registry.host}; seeding ${THIRTY_TWO_PLATFORMS.length} platform images`);
    for (const [i, platform] of THIRTY_TWO_PLATFORMS.entries()) await registry.seedImage({ repository: PUSH_REPOSITORY, tag: platformTag(i), platform });
    proxy = await startDelayProxy(registry.url, ONE_WAY_DELAY_MS);
    progress(`proxy on ${proxy.host}, ${ONE_WAY_DELAY_MS} ms each way`);
    const context: BenchContext = {
      runs: options.runs,
      warmUps: options.warmUps,
      scratch,
      tools,
      registry,
      proxy,
      oneWayMs: ONE_WAY_DELAY_MS,
      bigBlobBytes: options.bigBlobBytes,
      batchSize: options.batchSize,
      progress,
    };

    const series: Series[] = [];
    const targets: Target[] = [];
    const traces: RoundTrace[] = [];
    const notes: string[] = [];
    const failures: { scenario: string; error: string }[] = [];
    for (const scenario of options.only) {
      progress(`${scenario.name}: ${scenario.description}`);
      try {
        const result = await scenario.run(context);
        series.push(...result.series);
        targets.push(...result.targets);
        traces.push(...result.traces);
        notes.push(...result.notes);
      } catch (err) {
        // One broken scenario must not throw away the others' figures; the run still fails at the end.
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        progress(`${scenario.name} FAILED: ${error}`);
        failures.push({ scenario: scenario.name, error });
      }
    }

    targets.push(...exitTargets(series));
    const cpuList = cpus();
    const loadAfter = loadavg()[0] ?? 0;
    const out: string[] = [
      '',
      `manifest benchmark suite, ${new Date().toISOString()}`,
      `node ${process.version} on ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; docker CLI ${tools.docker ?? 'not installed'}, buildah ${tools.buildah ?? 'not installed'}, skopeo ${tools.skopeo ?? 'not installed'}`,
      `${options.runs} measured runs per series after ${options.warmUps} warm-up(s); the proxy adds ${ONE_WAY_DELAY_MS} ms each way (RTT ${2 * ONE_WAY_DELAY_MS} ms, a TCP handshake costs one RTT)`,
      `load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after; run took ${((performance.now() - began) / 1000).toFixed(0)} s`,
      '',
      'Targets',
      ...formatTargets(targets),
      '',
      'Series (wall time from spawn to exit)',
      ...formatSeries(series),
    ];
    for (const trace of traces) out.push('', ...formatTrace(trace));
    if (notes.length > 0) out.push('', 'Notes', ...notes.map((n) => `  ${n}`));
    if (failures.length > 0) out.push('', 'FAILED scenarios', ...failures.map((f) => `  ${f.scenario}: ${f.error.split('\n')[0] ?? ''}`));
    const met = targets.filter((t) => isMet(t) === true).length;
    const missed = targets.filter((t) => isMet(t) === false).length;
    out.push('', `${met} target(s) met, ${missed} missed, ${targets.filter((t) => verdictOf(t) === 'n/a').length} not measurable here`);
    process.stdout.write(`${out.join('\n')}\n`);

    const results = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpuList.length, cpuModel: cpuList[0]?.model.trim() ?? null, platform: process.platform, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      tools: { docker: tools.docker ?? null, buildah: tools.buildah ?? null, skopeo: tools.skopeo ?? null, gnuTime: tools.gnuTime },
      options: { runs: options.runs, warmUps: options.warmUps, scenarios: options.only.map((s) => s.name), oneWayDelayMs: ONE_WAY_DELAY_MS, batchSize: options.batchSize, bigBlobBytes: options.bigBlobBytes },
      targets: targets.map((t) => ({ ...t, met: isMet(t) ?? null })),
      series,
      traces,
      notes,
      failures,
    };
    await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`results written to ${options.out}\n`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await proxy?.stop();
    await registry?.stop();
    await rm(scratch, { recursive: true, force: true, maxRetries: 2 });
    untrackDir(scratch);
  }
}

await main();
