/**
 * The error a spec that does not load or validate throws: every problem found in every file, each with its place,
 * so a user fixes them in one round rather than one per run.
 */
import { clipInput, ManifestError } from '../errors.js';

/** One problem of a spec, placed in its file. */
export interface SpecIssue {
  /** File as the user named it ("prometheus.yaml"), or a label such as "<stdin>". */
  file: string;
  /** 1-based line the problem is on, when known. */
  line?: number;
  /** 1-based column, given for YAML syntax errors only. */
  column?: number;
  /** JSON pointer of the value concerned ("/manifests/1/platform"); "" for the document or the file itself. */
  path: string;
  /** What is wrong, in one line: "must have required property 'os'". */
  message: string;
}

/** Formats an issue as one line: "prometheus.yaml:7: /manifests/1/platform: must have required property 'os'". */
export function formatSpecIssue(issue: SpecIssue): string {
  const line = issue.line === undefined ? '' : `:${issue.line}`;
  const column = issue.line === undefined || issue.column === undefined ? '' : `:${issue.column}`;
  // A path holds the document's keys, which YAML lets be of any length.
  const path = issue.path === '' ? '' : `${clipInput(issue.path, 120)}: `;
  return `${issue.file}${line}${column}: ${path}${issue.message}`;
}

/** A spec that failed to load or validate (code INVALID_INPUT, exit 2), with every problem found. */
export class SpecError extends ManifestError {
  override readonly name: string = 'SpecError';
  /** Every problem, in file order and, within a file, by line. Never empty. */
  readonly issues: readonly SpecIssue[];
  /** Every issue formatted by formatSpecIssue, for a renderer that prints one problem per line. */
  readonly lines: readonly string[];

  /** Builds the error; its message is the first issue, and how many more there are. */
  constructor(issues: readonly SpecIssue[], options?: ErrorOptions) {
    const lines = issues.map(formatSpecIssue);
    const more = lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? 's' : ''})` : '';
    super('INVALID_INPUT', `${lines[0] ?? 'invalid spec'}${more}`, options);
    this.issues = issues;
    this.lines = lines;
  }
}

/** Tells whether `value` is a SpecError. */
export function isSpecError(value: unknown): value is SpecError {
  return value instanceof SpecError;
}
