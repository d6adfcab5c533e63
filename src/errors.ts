/**
 * The error model of ../shared/design.md §3: one class, a closed set of codes, and the exit code each maps to.
 * Callers switch on `err.code`, never on message text.
 */

/** Every reason an operation of this package can fail. */
export type ErrorCode =
  | 'INTERNAL'
  | 'USAGE'
  | 'INVALID_REFERENCE'
  | 'INVALID_PLATFORM'
  | 'INVALID_INPUT'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'NOT_FOUND'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'TOO_LARGE'
  | 'UNSUPPORTED'
  | 'INVALID_RESPONSE'
  | 'REJECTED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'TLS'
  | 'PARTIAL'
  | 'OUTPUT_FAILED'
  | 'CONFLICT'
  | 'ABORTED';

const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  INTERNAL: 1,
  USAGE: 2,
  INVALID_REFERENCE: 2,
  INVALID_PLATFORM: 2,
  INVALID_INPUT: 2,
  UNAUTHORIZED: 3,
  DENIED: 3,
  NOT_FOUND: 4,
  DIGEST_MISMATCH: 5,
  SIZE_MISMATCH: 5,
  TOO_LARGE: 5,
  UNSUPPORTED: 5,
  INVALID_RESPONSE: 5,
  REJECTED: 5,
  UNAVAILABLE: 6,
  TIMEOUT: 6,
  TLS: 6,
  PARTIAL: 7,
  // The command did its work (a push is complete) but its report could not be written: stdout or --digest-file.
  OUTPUT_FAILED: 8,
  // Another writer moved a tag this command had just set (concurrent pushes to one tag): the last one wins.
  CONFLICT: 9,
  // 10 is manifest check's "an image lacks a platform its nodes need" (a finding, not an error: src/cli/commands/check.ts).
  ABORTED: 130,
};

/** Facts about a failure that renderers use for hints; never secrets. */
export interface ErrorDetails {
  /** Registry host the failure concerns, as "host[:port]". */
  host?: string;
  /**
   * Why a TLS connection failed: the server spoke plain HTTP, expected TLS, its certificate was not trusted, or it
   * closed the connection (as registries requiring a client certificate do under TLS 1.3).
   */
  tls?: 'plain-http-server' | 'https-server' | 'untrusted-certificate' | 'closed' | 'other';
  /** The static store (dir:, s3://) the failure concerns, when it is one: its hints differ from a registry's. */
  store?: string;
  /** Whether the request carried credentials (an auth failure with none suggests logging in). */
  hadCredentials?: boolean;
  /** A TIMEOUT from the command's own deadline (--timeout), not from a registry that stopped answering. */
  deadline?: boolean;
  /** When `host` is a token realm: the registry whose challenge named it. */
  realmOf?: string;
  /** The environment variable naming the proxy the failed connection went to ("HTTPS_PROXY"), when one did. */
  proxy?: string;
  /** An OUTPUT_FAILED after a push that is in the registry (a re-run then moves nothing). */
  pushDone?: boolean;
  /** An entry of a list is missing from the target although its tags named the list: a forced push repairs it. */
  repairableByForce?: boolean;
}

/** Base error of this package: a stable `code`, a message that reads as a chain of causes, and optional details. */
export class ManifestError extends Error {
  override readonly name: string = 'ManifestError';
  readonly details: ErrorDetails;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions & { details?: ErrorDetails },
  ) {
    super(message, options);
    this.details = options?.details ?? {};
  }
}

/** Tells whether `value` is a ManifestError. */
export function isManifestError(value: unknown): value is ManifestError {
  return value instanceof ManifestError;
}

/** Returns the process exit code for an error code (design.md §3). */
export function exitCodeOf(code: ErrorCode): number {
  return EXIT_CODES[code];
}

// Control characters, line breaks, and the invisible characters that make text read as other text: zero-width
// characters, bidirectional overrides ("Trojan Source"), the byte order mark.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Returns input the way a message quotes it: cut to `max` characters (marked "…") and with control and invisible
 * characters escaped as in JSON ("\n", "\u001b", "\u202e"), so the message stays one line and shows what was given.
 */
export function clipInput(text: string, max: number): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return clipped.replace(UNPRINTABLE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The reason a command's signal carries when its deadline passes (the CLI's --timeout). Named TimeoutError, as the
 * reason of AbortSignal.timeout() is, so both read as a deadline; its message says which deadline ran out.
 */
export class DeadlineError extends Error {
  override readonly name: string = 'TimeoutError';

  /** `what` names the deadline, such as "the --timeout of 5s". */
  constructor(what: string) {
    super(`${what} ran out`);
  }
}

/** Returns what a deadline's abort says: the DeadlineError's own words, else the generic line. */
export function deadlineText(reason: unknown): string {
  return reason instanceof DeadlineError ? reason.message : 'the time allowed for the command ran out';
}

/** Tells whether an abort reason (or an error a signal ended a stream with) is a deadline rather than an interrupt. */
export function isDeadline(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

/** Prefixes an error's message with context, keeping its code and details: "resolving x: <message>". */
export function withContext(context: string, err: unknown): ManifestError {
  if (isManifestError(err)) {
    return new ManifestError(err.code, `${context}: ${err.message}`, { cause: err, details: err.details });
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new ManifestError('ABORTED', `${context}: interrupted`, { cause: err });
  }
  if (isDeadline(err)) {
    return new ManifestError('TIMEOUT', `${context}: ${deadlineText(err)}`, { cause: err, details: { deadline: true } });
  }
  return new ManifestError('INTERNAL', `${context}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
