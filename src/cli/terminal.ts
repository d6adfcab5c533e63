/**
 * What the CLI draws on a terminal and nowhere else: progress on stderr (only when stderr is a terminal, not under
 * CI, not with --no-progress) and colours (--color auto|always|never; auto honours NO_COLOR and TERM=dumb).
 */
import type { ProgressEvent, ProgressSink } from '../progress.js';
import type { CliIo } from './io.js';
import type { GlobalOptions } from './registry-options.js';

/** Least time between two redraws of the progress line. */
const REDRAW_MS = 100;
const BAR_WIDTH = 20;

/** Tells whether the environment is a CI job (CI=true, as GitHub Actions, GitLab CI and most others set it). */
export function isCi(env: CliIo['env']): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** Colours for one stream; each function returns its text unchanged when colours are off. */
export interface Colors {
  enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  dim(text: string): string;
}

/** Returns the colours for stdout or stderr: --color always or never, else on a terminal without NO_COLOR. */
export function colorsFor(options: Pick<GlobalOptions, 'color'>, io: CliIo, stream: 'stdout' | 'stderr'): Colors {
  const when = options.color ?? 'auto';
  const terminal = stream === 'stdout' ? io.stdoutIsTTY === true : io.stderrIsTTY === true;
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const enabled = when === 'always' || (when === 'auto' && terminal && !noColor && io.env.TERM !== 'dumb');
  const paint = (code: number) => (text: string): string => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { enabled, red: paint(31), green: paint(32), dim: paint(2) };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A progress line on stderr: what it counts, and finish() to clear it before results are printed. */
export interface ProgressLine {
  sink: ProgressSink;
  finish(): void;
}

/**
 * Returns a progress line for `total` items ("resolving 3/8 [=====     ] · 4 blobs copied, 12.0 MiB at 3.1 MiB/s"),
 * or undefined when progress is off: stderr not a terminal, CI=true, or --no-progress.
 */
export function progressLine(options: Pick<GlobalOptions, 'progress' | 'color'>, io: CliIo, label: string, total: number): ProgressLine | undefined {
  if (io.stderrIsTTY !== true || options.progress === false || isCi(io.env)) return undefined;
  const colors = colorsFor(options, io, 'stderr');
  const started = Date.now();
  let resolved = 0;
  let copied = 0;
  let bytes = 0;
  let mounted = 0;
  let drawn = 0;
  let shown = false;
  const draw = (): void => {
    const done = Math.min(resolved, total);
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const blobs = copied + mounted === 0 ? '' : ` · ${copied} blob${copied === 1 ? '' : 's'} copied, ${formatBytes(bytes)} at ${formatBytes(Math.round(bytes / seconds))}/s${mounted > 0 ? `, ${mounted} mounted` : ''}`;
    io.stderr(`\r\u001b[2K${label} ${done}/${total} ${colors.dim(`[${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}]`)}${blobs}`);
    drawn = Date.now();
    shown = true;
  };
  return {
    sink(event: ProgressEvent) {
      if (event.kind === 'resolved') resolved += 1;
      else if (event.outcome === 'copied') { copied += 1; bytes += event.bytes; } else if (event.outcome === 'mounted') mounted += 1;
      if (!shown || Date.now() - drawn >= REDRAW_MS || (event.kind === 'resolved' && resolved === total)) draw();
    },
    finish() {
      if (shown) io.stderr('\r\u001b[2K');
      shown = false;
    },
  };
}
