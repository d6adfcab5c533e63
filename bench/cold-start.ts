// Cold start: `manifest --help` and `manifest --version` against `node -e 0`, the floor any Node CLI stands on,
// interleaved so that the machine's state drifts alike for all three.
import { freshEnvironment, runChecked } from './process.js';
import type { BenchContext, Scenario, ScenarioResult, Target } from './scenario.js';
import { formatMs, summarise } from './stats.js';
import type { Sample } from './stats.js';
import { manifestCommand } from './tools.js';

/** Cold starts are short and noisy: at least this many measured runs of each. */
const MIN_RUNS = 11;

async function runColdStart(context: BenchContext): Promise<ScenarioResult> {
  const runs = Math.max(MIN_RUNS, 2 * context.runs + 1);
  const commands: { id: string; label: string; run: () => Promise<number> }[] = [
    { id: 'coldstart.node', label: 'node -e 0', run: async () => (await runChecked(process.execPath, ['-e', '0'], { env: await freshEnvironment(context.scratch), timeoutMs: 60_000 })).ms },
    { id: 'coldstart.version', label: 'manifest --version', run: async () => (await manifestCommand(context.scratch, ['--version'])).ms },
    { id: 'coldstart.help', label: 'manifest --help', run: async () => (await manifestCommand(context.scratch, ['--help'])).ms },
  ];
  const samples = new Map<string, Sample[]>(commands.map((c) => [c.id, []]));
  for (let i = 0; i < context.warmUps + runs; i++) {
    context.progress(i < context.warmUps ? 'coldstart: warm-up' : `coldstart: run ${i - context.warmUps + 1}/${runs}`);
    // Rotate which goes first.
    const k = i % commands.length;
    for (const command of [...commands.slice(k), ...commands.slice(0, k)]) {
      const ms = await command.run();
      if (i >= context.warmUps) samples.get(command.id)?.push({ ms });
    }
  }
  const series = commands.map((c) => summarise(c.id, c.label, samples.get(c.id) ?? []));
  const [node, version, help] = series;
  const targets: Target[] = [];
  if (node !== undefined && help !== undefined && version !== undefined) {
    targets.push({
      scenario: 'coldstart',
      title: '--help cold start minus node -e 0',
      measured: `${formatMs(help.medianMs)} ms − ${formatMs(node.medianMs)} ms`,
      value: help.medianMs - node.medianMs,
      unit: 'ms',
      goal: { comparison: '≤', limit: 40 },
    });
    targets.push({
      scenario: 'coldstart',
      title: '--version cold start minus node -e 0',
      measured: `${formatMs(version.medianMs)} ms − ${formatMs(node.medianMs)} ms`,
      value: version.medianMs - node.medianMs,
      unit: 'ms',
    });
  }
  return { series, targets, traces: [], notes: [] };
}

export const coldStartScenario: Scenario = {
  name: 'coldstart',
  description: 'manifest --help and --version vs node -e 0',
  run: runColdStart,
};
