// inspect: `manifest inspect` of an 8-platform list on loopback (which prints every platform with its image: the
// list and each child manifest read) and `manifest inspect --raw` (the list's bytes alone) against
// `skopeo inspect --raw`, each a fresh process with a private HOME, interleaved. Every output is checked: the raw
// bytes must hash to the list's digest, the text must name all eight platforms.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { prepareSkopeoEnvironment } from '../test/helpers/skopeo.js';
import { exitFloorSeries, probeExitFloor } from './exit-floor.js';
import { benchDir, freshEnvironment, manifestBin, runChecked } from './process.js';
import type { BenchContext, Scenario, ScenarioResult, Target } from './scenario.js';
import { THIRTY_TWO_PLATFORMS } from './specs.js';
import { formatMs, summarise } from './stats.js';
import type { Sample, Series } from './stats.js';
import { manifestSample } from './tools.js';

const REPOSITORY = 'bench/inspect';
const TAG = 'list';
const TIMEOUT_MS = 60_000;

/**
 * Two floors, interleaved with the others: `node`, `node -e 0`, a Node process that does nothing; `floor`,
 * bench/floor-inspect, the dependencies alone reading the list's bytes as `inspect --raw` does.
 */
type Inspector = 'text' | 'raw' | 'skopeo' | 'node' | 'floor';
const LABELS: Record<Inspector, string> = {
  text: 'manifest inspect, 8-platform list',
  raw: 'manifest inspect --raw, 8-platform list',
  skopeo: 'skopeo inspect --raw, 8-platform list',
  node: 'floor: node -e 0 (interleaved with the inspects)',
  floor: 'floor: commander and undici alone reading the list\'s bytes (bench/floor-inspect)',
};

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

async function inspectOnce(context: BenchContext, inspector: Inspector, reference: string, digest: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Sample> {
  if (inspector === 'node') return { ms: (await runChecked(process.execPath, ['-e', '0'], { env: await freshEnvironment(context.scratch), timeoutMs: TIMEOUT_MS })).ms };
  if (inspector === 'floor') {
    const timed = await runChecked(process.execPath, [join(benchDir, 'floor-inspect.js'), reference], { env: await freshEnvironment(context.scratch), timeoutMs: TIMEOUT_MS });
    if (digestOf(timed.stdout) !== digest) throw new Error(`bench/floor-inspect printed other bytes than ${digest}`);
    return { ms: timed.ms };
  }
  if (inspector === 'skopeo') {
    const env = await freshEnvironment(context.scratch);
    const skopeo = await prepareSkopeoEnvironment(env['HOME'] ?? context.scratch);
    const timed = await runChecked('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`], { env: skopeo.env, timeoutMs: TIMEOUT_MS });
    if (digestOf(timed.stdout) !== digest) throw new Error(`skopeo inspect --raw printed other bytes than ${digest}`);
    return { ms: timed.ms };
  }
  const args = [manifestBin, 'inspect', '--plain-http', ...(inspector === 'raw' ? ['--raw'] : []), reference];
  const timed = await runChecked(process.execPath, args, { env: { ...await freshEnvironment(context.scratch), ...extraEnv }, timeoutMs: TIMEOUT_MS });
  if (inspector === 'raw' && digestOf(timed.stdout) !== digest) throw new Error(`manifest inspect --raw printed other bytes than ${digest}`);
  if (inspector === 'text' && !timed.stdout.includes(digest)) throw new Error(`manifest inspect did not print the list's digest ${digest}:\n${timed.stdout}`);
  return manifestSample(timed);
}

async function runInspect(context: BenchContext): Promise<ScenarioResult> {
  const registry = context.registry;
  context.progress('inspect: seeding an 8-platform list');
  const children = [];
  for (const platform of THIRTY_TWO_PLATFORMS.slice(0, 8)) children.push(await registry.seedImage({ repository: REPOSITORY, platform }));
  const list = await registry.seedIndex({ repository: REPOSITORY, tag: TAG, children });
  const reference = `${registry.host}/${REPOSITORY}:${TAG}`;
  const inspectors: Inspector[] = context.tools.skopeo === undefined ? ['text', 'raw', 'node', 'floor'] : ['text', 'raw', 'skopeo', 'node', 'floor'];
  const samples = new Map<Inspector, Sample[]>(inspectors.map((i) => [i, []]));
  // Untimed: inspect with the exit-RSS probe, for the floor of its last output to exit.
  const exitFloor = await probeExitFloor(context, 'inspect', (env) => inspectOnce(context, 'text', reference, list.digest, env));
  for (let i = 0; i < context.warmUps + context.runs; i++) {
    context.progress(i < context.warmUps ? 'inspect: warm-up' : `inspect: run ${i - context.warmUps + 1}/${context.runs}`);
    const k = i % inspectors.length;
    for (const inspector of [...inspectors.slice(k), ...inspectors.slice(0, k)]) {
      const sample = await inspectOnce(context, inspector, reference, list.digest);
      if (i >= context.warmUps) samples.get(inspector)?.push(sample);
    }
    if (i >= context.warmUps) await exitFloor?.run();
  }
  const series: Series[] = (['text', 'raw', 'skopeo', 'node', 'floor'] as const).map((inspector) => summarise(
    `inspect.${inspector}`,
    LABELS[inspector],
    samples.get(inspector) ?? [],
    ...(samples.has(inspector) ? [] : ['not installed']),
  ));
  series.push(exitFloorSeries(exitFloor, 'inspect.exit-floor', 'inspect'));
  const [text, raw, skopeo, node, floor] = series;
  const targets: Target[] = [];
  for (const [ours, title, limit] of [
    [text, 'inspect of an 8-platform list on loopback vs skopeo inspect --raw', 1.0],
    [raw, 'inspect --raw of an 8-platform list on loopback vs skopeo inspect --raw', undefined],
    [node, 'floor: node -e 0 vs skopeo inspect --raw', undefined],
    [floor, 'floor: commander and undici alone reading the list (bench/floor-inspect) vs skopeo inspect --raw', undefined],
  ] as const) {
    if (ours === undefined) continue;
    const goal = limit === undefined ? {} : { goal: { comparison: '≤' as const, limit } };
    if (skopeo === undefined || skopeo.samples.length === 0) {
      targets.push({ scenario: 'inspect', title, measured: 'skopeo not installed', unit: '×', ...goal });
      continue;
    }
    targets.push({ scenario: 'inspect', title, measured: `${formatMs(ours.medianMs)} ms / ${formatMs(skopeo.medianMs)} ms`, value: ours.medianMs / skopeo.medianMs, unit: '×', ...goal });
  }
  return { series, targets, traces: [], notes: ['inspect: manifest inspect reads the list and its 8 images (9 requests); --raw and skopeo read the list alone'] };
}

export const inspectScenario: Scenario = {
  name: 'inspect',
  description: 'manifest inspect (and --raw) of an 8-platform list on loopback vs skopeo inspect --raw',
  run: runInspect,
};
