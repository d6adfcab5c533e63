// Benchmark (not a test): cost of parseReference on ordinary and hostile references, against a peer measured in
// the same run: a one-expression reference pattern shaped like distribution's old one, whose `[-]*` separator
// lets the component repeat ambiguously and so backtracks exponentially on a near-miss. The peer runs only on
// short hostile inputs (it would take minutes at 31 characters); ours runs on every size, up to 10 KB.
import { performance } from 'node:perf_hooks';
import { parseReference } from '../src/ref.js';

// Shaped like the old pattern (optional empty separator between alphanumeric runs), written for this benchmark.
const OLD_STYLE = /^(?:[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)(?:\/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$/;

function time(fn: () => void, iterations: number): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return (performance.now() - start) / iterations;
}

function tryParse(input: string): void {
  try {
    parseReference(input);
  } catch {
    // hostile inputs are refused; only the cost matters here
  }
}

const ordinary = ['alpine', 'r.example:5000/team/app:1.2.3', `ghcr.io/org/app@sha256:${'a'.repeat(64)}`, '[::1]:5000/app:1'];
const rows: { input: string; ours: number; peer?: number }[] = [];
for (const input of ordinary) rows.push({ input, ours: time(() => tryParse(input), 20_000) });

for (const length of [16, 20, 22, 24]) {
  const hostile = `${'a'.repeat(length)}!`;
  const ours = time(() => tryParse(hostile), 20_000);
  const peer = time(() => OLD_STYLE.test(hostile), 1);
  rows.push({ input: `"a"×${length} + "!"`, ours, peer });
}
for (const length of [1_000, 10_000]) {
  const hostile = `r.example/${'a-'.repeat(length / 2)}!`;
  rows.push({ input: `r.example/("a-")×${length / 2} + "!"`, ours: time(() => tryParse(hostile), 2_000) });
}

const slowest = rows.reduce((a, b) => (b.ours > a.ours ? b : a));
process.stdout.write('reference parsing: microseconds per input (ours vs an old-style single pattern)\n');
for (const row of rows) {
  const ratio = row.peer === undefined ? '' : `  peer ${(row.peer * 1000).toFixed(1)} us  ratio ours/peer ${(row.ours / row.peer).toExponential(1)}`;
  process.stdout.write(`  ${row.input.padEnd(44)} ours ${(row.ours * 1000).toFixed(2)} us${ratio}\n`);
}
process.stdout.write(`slowest input for ours: ${slowest.input} at ${(slowest.ours * 1000).toFixed(2)} us\n`);
