// Benchmark (not a test): the hostile-input corpus (test/fixtures/hostile/) through the parsers, several rounds, in
// this process. Reports the median cost of each kind and the slowest inputs: where a parser spends its time on
// input built to hurt it. test/unit/hostile-inputs.test.ts checks the outcomes; this measures them.
import { performance } from 'node:perf_hooks';
import { feedHostileInput, HOSTILE_KINDS, loadHostileCorpus, type HostileOutcome } from '../test/helpers/hostile-corpus.js';

const ROUNDS = 5;

const corpus = loadHostileCorpus();
// One round to warm up (module loading, the schema compiled, JIT), then ROUNDS measured ones.
for (const input of corpus) await feedHostileInput(input);
const times = corpus.map(() => [] as number[]);
let last: HostileOutcome[] = [];
const start = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  last = [];
  for (const [index, input] of corpus.entries()) {
    const outcome = await feedHostileInput(input);
    times[index]?.push(outcome.ms);
    last.push(outcome);
  }
}
const wall = performance.now() - start;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const rows = last.map((outcome, index) => ({ outcome, ms: median(times[index] ?? []) }));
const format = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} us` : `${ms.toFixed(2)} ms`);

process.stdout.write(`hostile inputs: ${corpus.length} inputs through the parsers, median of ${ROUNDS} rounds\n`);
for (const kind of HOSTILE_KINDS) {
  const own = rows.filter((row) => row.outcome.kind === kind);
  const total = own.reduce((sum, row) => sum + row.ms, 0);
  const accepted = own.filter((row) => row.outcome.accepted).length;
  const escaped = own.filter((row) => row.outcome.escaped !== undefined).length;
  process.stdout.write(`  ${kind.padEnd(17)} ${String(own.length).padStart(4)} inputs (${accepted} accepted, ${own.length - accepted} refused, ${escaped} escaped)`
    + `  total ${format(total).padStart(9)}  median ${format(median(own.map((row) => row.ms))).padStart(9)}\n`);
}
const total = rows.reduce((sum, row) => sum + row.ms, 0);
process.stdout.write(`  ${'all'.padEnd(17)} ${String(rows.length).padStart(4)} inputs  total ${format(total)} per round (${(wall / ROUNDS).toFixed(0)} ms wall)\n`);
process.stdout.write('slowest inputs:\n');
for (const { outcome, ms } of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 5)) {
  const verdict = outcome.accepted ? 'accepted' : outcome.code ?? 'escaped';
  process.stdout.write(`  ${format(ms).padStart(9)}  ${outcome.kind.padEnd(16)} ${verdict.padEnd(17)} ${outcome.shown}\n`);
}
