// Series of timed samples and their summary (median, min–max spread), shared by every scenario of the suite.

/** One timed invocation (or one pair of invocations, for docker's create + push). */
export interface Sample {
  ms: number;
  /** Through the proxy: sequential rounds, requests and TCP connections the proxy saw. */
  rounds?: number;
  requests?: number;
  connections?: number;
  /** Peak resident set of the measured process, in KiB (from /usr/bin/time's %M). */
  maxRssKiB?: number;
  /** Bytes the invocation moved (copies), for throughput. */
  bytes?: number;
  /** Parts of ms, by name (docker's create and push). */
  parts?: Record<string, number>;
  /** From the last byte of output to the process's exit, in ms (our own invocations). */
  tailMs?: number;
}

/** A named series of samples with its summary. */
export interface Series {
  /** Stable key, such as "push8.proxy.manifest"; results.json and the targets refer to it. */
  id: string;
  /** What was run, for the printed table. */
  label: string;
  samples: Sample[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Median of the counted figures, when the samples carry them. */
  rounds?: number;
  requests?: number;
  connections?: number;
  /** Largest peak RSS over the samples, in KiB. */
  maxRssKiB?: number;
  /** Median throughput in MB/s (10^6 bytes), when the samples carry bytes. */
  mbPerSecond?: number;
  /** Median time from the last byte of output to exit, when the samples carry it. */
  tailMs?: number;
  /** Why the series is empty (a tool not installed), or what it means. */
  note?: string;
}

/** Returns the median (mean of the two middle values for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? NaN;
  return sorted.length % 2 === 1 ? upper : (upper + (sorted[middle - 1] ?? NaN)) / 2;
}

function medianOf(samples: readonly Sample[], key: 'rounds' | 'requests' | 'connections' | 'tailMs'): number | undefined {
  const values = samples.map((s) => s[key]).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : median(values);
}

/** Summarises samples into a Series. */
export function summarise(id: string, label: string, samples: Sample[], note?: string): Series {
  const times = samples.map((s) => s.ms);
  const rounds = medianOf(samples, 'rounds');
  const requests = medianOf(samples, 'requests');
  const connections = medianOf(samples, 'connections');
  const tailMs = medianOf(samples, 'tailMs');
  const rss = samples.map((s) => s.maxRssKiB).filter((v): v is number => v !== undefined);
  const rates = samples.filter((s) => s.bytes !== undefined && s.ms > 0).map((s) => (s.bytes ?? 0) / 1e6 / (s.ms / 1000));
  return {
    id,
    label,
    samples,
    medianMs: median(times),
    minMs: times.length === 0 ? NaN : Math.min(...times),
    maxMs: times.length === 0 ? NaN : Math.max(...times),
    ...(rounds !== undefined && { rounds }),
    ...(requests !== undefined && { requests }),
    ...(connections !== undefined && { connections }),
    ...(rss.length > 0 && { maxRssKiB: Math.max(...rss) }),
    ...(rates.length > 0 && { mbPerSecond: median(rates) }),
    ...(tailMs !== undefined && { tailMs }),
    ...(note !== undefined && { note }),
  };
}

/** An empty series standing for something not measured, with the reason. */
export function unmeasured(id: string, label: string, note: string): Series {
  return summarise(id, label, [], note);
}

/** Formats milliseconds: whole above 100, one decimal below. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/** Formats KiB as MB (10^6 bytes), the unit of the RSS target. */
export function formatMb(kib: number | undefined): string {
  return kib === undefined ? '-' : `${((kib * 1024) / 1e6).toFixed(1)} MB`;
}
