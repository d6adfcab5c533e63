// What a scenario of the suite gets (the running registry, the proxy, the options) and gives back (series,
// targets checked, round traces), and the traffic figures every proxied run records.
import type { TestRegistry } from '../test/helpers/registry.js';
import { roundsOf } from './delay-proxy.js';
import type { DelayProxy, ProxyEvent } from './delay-proxy.js';
import type { Tools } from './process.js';
import type { Sample, Series } from './stats.js';

export interface BenchContext {
  /** Measured repetitions per series (after warmUps discarded ones). */
  runs: number;
  warmUps: number;
  /** Temp dir for specs and private HOMEs; removed at the end. */
  scratch: string;
  tools: Tools;
  /** Registry A (plain HTTP), seeded with the 32 platform images of specs.ts. */
  registry: TestRegistry;
  /** The delay proxy in front of registry A. */
  proxy: DelayProxy;
  /** The proxy's one-way delay; RTT is twice this. */
  oneWayMs: number;
  /** Size of the single layer of the big-blob copy, in bytes. */
  bigBlobBytes: number;
  /** Specs in the batch invocation. */
  batchSize: number;
  /** A line of progress on stderr. */
  progress(text: string): void;
}

/** One target of the issue, checked against this run's figures. */
export interface Target {
  /** Which scenario produced it. */
  scenario: string;
  title: string;
  /** The figures it compares, for humans ("679 ms / 3444 ms"). */
  measured: string;
  /** The compared value (a ratio, ms, or MB); undefined when it could not be measured. */
  value?: number;
  unit: '×' | 'ms' | 'MB';
  /** ≤ or ≥ limit; undefined for a figure reported without a target. */
  goal?: { comparison: '≤' | '≥'; limit: number };
  /** Why value is missing, or how it was obtained. */
  note?: string;
}

/** Whether a target is met: true, false, or undefined when there is nothing to compare. */
export function isMet(target: Target): boolean | undefined {
  if (target.value === undefined || target.goal === undefined || !Number.isFinite(target.value)) return undefined;
  return target.goal.comparison === '≤' ? target.value <= target.goal.limit : target.value >= target.goal.limit;
}

/** One round of a traced run: when it ran (ms after the first request) and what was in flight. */
export interface TracedRound {
  startMs: number;
  endMs: number;
  /** "GET manifests/<tag> 200 ×8", … */
  exchanges: string[];
}

/** The rounds of one run through the proxy, with the time before the first request and after the last answer. */
export interface RoundTrace {
  title: string;
  /** From spawn to the first connection the proxy saw: start-up, in ms. */
  beforeFirstRequestMs: number;
  /** From the first connection to the last answer. */
  networkMs: number;
  /** From the last answer to the process's exit. */
  afterLastAnswerMs: number;
  totalMs: number;
  rounds: TracedRound[];
  /** Every exchange, "start-end cN KIND STATUS URL" in ms from the first. */
  exchanges: string[];
}

export interface ScenarioResult {
  series: Series[];
  targets: Target[];
  traces: RoundTrace[];
  notes: string[];
}

export interface Scenario {
  name: string;
  /** One line for --help. */
  description: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}

/** Rounds, requests and connections the proxy saw since its last reset. */
export function trafficOf(events: readonly ProxyEvent[]): Pick<Sample, 'rounds' | 'requests' | 'connections'> {
  return {
    rounds: roundsOf(events).length,
    requests: events.filter((e) => e.kind !== 'connect').length,
    connections: events.filter((e) => e.kind === 'connect').length,
  };
}

/** The request path with digests, tags and upload sessions folded, so that alike requests group together. */
function pathPattern(url: string): string {
  const path = url.split('?')[0] ?? url;
  const match = /^\/v2\/(.+?)\/(manifests|blobs)\/(.*)$/.exec(path);
  if (match === null) return path;
  const [, , kind, rest = ''] = match;
  if (kind === 'blobs' && rest.startsWith('uploads')) return 'blobs/uploads/';
  return `${kind}/${/^sha256:[0-9a-f]{64}$/.test(rest) ? '<digest>' : '<tag>'}`;
}

/** Folds a round's exchanges into "KIND path STATUS ×N" lines, in order of first appearance. */
function summariseRound(events: readonly ProxyEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const e of events) {
    const key = `${e.kind} ${pathPattern(e.url)} ${e.status === 0 ? '' : e.status}`.replace(/ +/g, ' ').trim();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n === 1 ? key : `${key} ×${n}`));
}

/** Builds the round trace of one run from the proxy's events and the process's spawn and exit times. */
export function traceRun(title: string, events: readonly ProxyEvent[], startedAt: number, endedAt: number): RoundTrace {
  const sorted = [...events].sort((a, b) => a.start - b.start || a.connection - b.connection);
  const first = sorted[0]?.start ?? startedAt;
  const last = Math.max(first, ...sorted.map((e) => e.end));
  const rounds = roundsOf(sorted).map((round) => ({
    startMs: Math.min(...round.map((e) => e.start)) - first,
    endMs: Math.max(...round.map((e) => e.end)) - first,
    exchanges: summariseRound(round),
  }));
  return {
    title,
    beforeFirstRequestMs: first - startedAt,
    networkMs: last - first,
    afterLastAnswerMs: endedAt - last,
    totalMs: endedAt - startedAt,
    rounds,
    exchanges: sorted.map((e) => `${(e.start - first).toFixed(0)}-${(e.end - first).toFixed(0)} c${e.connection} ${e.kind} ${e.status || ''} ${e.url}`.replace(/ +/g, ' ').trim()),
  };
}
