// Cold start: `manifest --help`, `--version` and a usage error against `node -e 0`, the floor any Node CLI stands
// on, interleaved so that the machine's state drifts alike for all. `node -e` printing one line is the floor of
// the time from the last byte of output to exit.
import { join } from 'node:path';
import { benchDir, freshEnvironment, runChecked, unbundledBin } from './process.js';
import type { BenchContext, Scenario, ScenarioResult, Target } from './scenario.js';
import { formatMs, summarise } from './stats.js';
import type { Sample, Series } from './stats.js';
import { manifestCommand, manifestSample } from './tools.js';

/** Cold starts are short and noisy: at least this many measured runs of each. */
const MIN_RUNS = 11;

async function nodeSample(context: BenchContext, script: string): Promise<Sample> {
  return manifestSample(await runChecked(process.execPath, ['-e', script], { env: await freshEnvironment(context.scratch), timeoutMs: 60_000 }));
}

/** Runs one of the bench's floor modules (bench/floor-*.ts): what Node and our dependencies cost without our code. */
async function floorSample(context: BenchContext, name: string): Promise<Sample> {
  return manifestSample(await runChecked(process.execPath, [join(benchDir, `${name}.js`)], { env: await freshEnvironment(context.scratch), timeoutMs: 60_000 }));
}

function ratioTo(node: Series, ours: Series, title: string, limit?: number): Target {
  return {
    scenario: 'coldstart',
    title,
    measured: `${formatMs(ours.medianMs)} ms / ${formatMs(node.medianMs)} ms`,
    value: ours.medianMs / node.medianMs,
    unit: '×',
    ...(limit !== undefined && { goal: { comparison: '≤' as const, limit } }),
  };
}

async function runColdStart(context: BenchContext): Promise<ScenarioResult> {
  const runs = Math.max(MIN_RUNS, 2 * context.runs + 1);
  const commands: { id: string; label: string; run: () => Promise<Sample> }[] = [
    { id: 'coldstart.node', label: 'node -e 0', run: () => nodeSample(context, '0') },
    { id: 'coldstart.node-print', label: 'node -e "console.log(1)" (floor of output-to-exit)', run: () => nodeSample(context, 'console.log(1)') },
    { id: 'coldstart.version', label: 'manifest --version', run: async () => manifestSample(await manifestCommand(context.scratch, ['--version'])) },
    { id: 'coldstart.help', label: 'manifest --help', run: async () => manifestSample(await manifestCommand(context.scratch, ['--help'])) },
    { id: 'coldstart.usage', label: 'manifest inspect (usage error: no reference)', run: async () => manifestSample(await manifestCommand(context.scratch, ['inspect'], 2)) },
    { id: 'coldstart.help-unbundled', label: 'manifest --help, tsc output without the bundle', run: async () => manifestSample(await manifestCommand(context.scratch, ['--help'], 0, unbundledBin)) },
    { id: 'coldstart.floor-esm', label: 'floor: an empty ES module (bench/floor-esm)', run: () => floorSample(context, 'floor-esm') },
    { id: 'coldstart.floor-commander', label: 'floor: an ES module loading commander alone (bench/floor-commander)', run: () => floorSample(context, 'floor-commander') },
  ];
  const samples = new Map<string, Sample[]>(commands.map((c) => [c.id, []]));
  for (let i = 0; i < context.warmUps + runs; i++) {
    context.progress(i < context.warmUps ? 'coldstart: warm-up' : `coldstart: run ${i - context.warmUps + 1}/${runs}`);
    // Rotate which goes first.
    const k = i % commands.length;
    for (const command of [...commands.slice(k), ...commands.slice(0, k)]) {
      const sample = await command.run();
      if (i >= context.warmUps) samples.get(command.id)?.push(sample);
    }
  }
  const series = commands.map((c) => summarise(c.id, c.label, samples.get(c.id) ?? []));
  const [node, , version, help, usage] = series;
  const targets: Target[] = [];
  if (node !== undefined && help !== undefined && version !== undefined && usage !== undefined) {
    targets.push(ratioTo(node, help, '--help cold start vs node -e 0', 1.25));
    targets.push(ratioTo(node, version, '--version cold start vs node -e 0'));
    targets.push(ratioTo(node, usage, 'usage error cold start vs node -e 0'));
    const unbundled = series.find((s) => s.id === 'coldstart.help-unbundled');
    if (unbundled !== undefined) targets.push(ratioTo(node, unbundled, '--help without the bundle vs node -e 0 (the bundle\'s lever)'));
    for (const [id, title] of [['coldstart.floor-esm', 'floor: an empty ES module vs node -e 0'], ['coldstart.floor-commander', 'floor: commander alone, from an ES module, vs node -e 0']] as const) {
      const floor = series.find((s) => s.id === id);
      if (floor !== undefined) targets.push(ratioTo(node, floor, title));
    }
  }
  return { series, targets, traces: [], notes: [] };
}

export const coldStartScenario: Scenario = {
  name: 'coldstart',
  description: 'manifest --help, --version and a usage error vs node -e 0',
  run: runColdStart,
};
