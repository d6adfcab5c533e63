/** How a failure reaches the user: one `manifest: …` line, hint lines, and the exit code of design.md §3. */
import { exitCodeOf, isManifestError } from '../errors.js';
import { redact } from '../log.js';
import { isSpecError } from '../spec/spec-error.js';
import { hintsFor } from './hints.js';
import type { CliIo } from './io.js';
import { printableLine } from './render.js';

/** Thrown by a command that has already reported its failures (a batch): main exits with `exitCode`, printing nothing. */
export class ReportedFailure extends Error {
  constructor(readonly exitCode: number) {
    super(`failed with exit code ${exitCode}`);
  }
}

/** What renderFailure needs of the run. */
export interface FailureOutputOptions {
  /** Print stack traces; when omitted, none. */
  debug?: boolean;
  /** Literal secrets to mask; when omitted, only the patterns of redact(). */
  secrets?: readonly string[];
  /** Text put before the message ("r.example/app:1: " in a batch); when omitted, none. */
  prefix?: string;
}

/** Writes a failure to stderr and returns its exit code (1, with a bug hint, for anything not a ManifestError). */
export function renderFailure(err: unknown, io: CliIo, options: FailureOutputOptions = {}): number {
  const secrets = options.secrets ?? [];
  const clean = (text: string): string => printableLine(redact(text, secrets));
  const prefix = options.prefix ?? '';
  if (isManifestError(err)) {
    // A spec's problems are printed one per line, so all of them can be fixed in one round.
    const lines = isSpecError(err) ? err.lines : [err.message];
    for (const line of lines) io.stderr(`manifest: ${prefix}${clean(line)}\n`);
    for (const hint of hintsFor(err)) io.stderr(`  hint: ${clean(hint)}\n`);
    if (options.debug === true && err.stack !== undefined) io.stderr(`${redact(err.stack, secrets)}\n`);
    return exitCodeOf(err.code);
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`manifest: ${prefix}internal error: ${clean(message)}\n`);
  if (options.debug === true && err instanceof Error && err.stack !== undefined) io.stderr(`${redact(err.stack, secrets)}\n`);
  else io.stderr('  hint: this is a bug; run again with --debug and report what it prints\n');
  return 1;
}
