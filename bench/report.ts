// The printed report: the targets of the issue with ratio, goal and verdict; every series with median and
// min–max spread; the rounds of the traced runs through the proxy; notes.
import { isMet } from './scenario.js';
import type { RoundTrace, Target } from './scenario.js';
import { formatMb, formatMs } from './stats.js';
import type { Series } from './stats.js';

/** Traces with more rounds than this are summarised in one line (results.json has them all). */
const MAX_PRINTED_ROUNDS = 24;

/** Lays rows out in columns; `right` names the columns aligned right. */
function table(header: string[], rows: string[][], right: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()}`;
  return [line(header), ...rows.map(line)];
}

function formatValue(target: Target): string {
  const v = target.value;
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (target.unit === '×') return `${v.toFixed(2)}×`;
  if (target.unit === 'ms') return `${formatMs(v)} ms`;
  return `${v.toFixed(1)} MB`;
}

function formatGoal(target: Target): string {
  if (target.goal === undefined) return '-';
  const unit = target.unit === '×' ? '×' : ` ${target.unit}`;
  return `${target.goal.comparison} ${target.goal.limit}${unit}`;
}

/** The verdict column: met, MISSED, n/a (nothing measured) or - (reported without a target). */
export function verdictOf(target: Target): string {
  const met = isMet(target);
  if (met === undefined) return target.goal === undefined ? '-' : 'n/a';
  return met ? 'met' : 'MISSED';
}

export function formatTargets(targets: readonly Target[]): string[] {
  return table(
    ['target', 'measured', 'value', 'goal', 'verdict'],
    targets.map((t) => [t.title, t.measured, formatValue(t), formatGoal(t), verdictOf(t)]),
    new Set([2, 3]),
  );
}

export function formatSeries(series: readonly Series[]): string[] {
  const rows = series.map((s) => {
    if (s.samples.length === 0) return [s.id, s.label, '0', s.note ?? 'not measured', '', '', '', '', '', '', ''];
    return [
      s.id,
      s.label,
      String(s.samples.length),
      formatMs(s.medianMs),
      `${formatMs(s.minMs)}–${formatMs(s.maxMs)}`,
      s.rounds === undefined ? '' : String(s.rounds),
      s.requests === undefined ? '' : String(s.requests),
      s.connections === undefined ? '' : String(s.connections),
      s.maxRssKiB === undefined ? '' : formatMb(s.maxRssKiB),
      s.mbPerSecond === undefined ? '' : s.mbPerSecond.toFixed(1),
      s.tailMs === undefined ? '' : formatMs(s.tailMs),
    ];
  });
  return table(['series', 'what', 'n', 'median ms', 'min–max ms', 'rounds', 'reqs', 'conns', 'peak RSS', 'MB/s', 'exit ms'], rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]));
}

export function formatTrace(trace: RoundTrace): string[] {
  const head = `${trace.title}: ${formatMs(trace.totalMs)} ms = ${formatMs(trace.beforeFirstRequestMs)} ms before the first connection + ${formatMs(trace.networkMs)} ms of network in ${trace.rounds.length} rounds + ${formatMs(trace.afterLastAnswerMs)} ms after the last answer`;
  if (trace.rounds.length > MAX_PRINTED_ROUNDS) return [head, `  (${trace.rounds.length} rounds: listed in results.json)`];
  const rows = trace.rounds.map((r, i) => [String(i + 1), `${r.startMs.toFixed(0)}–${r.endMs.toFixed(0)}`, r.exchanges.join(', ')]);
  return [head, ...table(['round', 'ms after first connection', 'exchanges in flight'], rows, new Set([0, 1]))];
}
