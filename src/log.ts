/**
 * The logger the library writes diagnostics to. Redaction lives here, inside the logger, so no call site can
 * forget it (design.md §5): whatever a message holds, credentials and signed query strings never get out.
 */

/** Where the library sends diagnostics; the CLI writes them to stderr. */
export interface Logger {
  /** Records a detail shown only with --debug. */
  debug(message: string): void;
  /** Records something the user should know that does not stop the operation. */
  warn(message: string): void;
}

/** A logger that drops everything: the library's default. */
export const silentLogger: Logger = { debug() { /* dropped */ }, warn() { /* dropped */ } };

const SECRET_QUERY_KEYS = /((?:^|[?&\s])(?:access_token|refresh_token|token|password|passwd|secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|_state|se|sp|sv|skoid|sktid|code)=)[^&#\s"']*/gi;
const AUTH_SCHEMES = /\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{4,}/g;
const AUTH_HEADER = /(authorization\s*[:=]\s*)("?)[^"\n]*\2/gi;
// The scheme is bounded: unbounded, every "a." of a long "a.a.a…" would start a scan to the end (quadratic time).
const USERINFO = /(\b[a-z][a-z0-9+.-]{0,31}:\/\/)[^/@\s:]+:[^/@\s]*@/gi;
const JSON_SECRETS = /("(?:token|access_token|refresh_token|password|identitytoken|registrytoken|auth|secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/** Replaces credentials, tokens, signed query values and the given literal secrets in text with "[redacted]". */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 3) out = out.split(secret).join('[redacted]');
  return out
    .replace(AUTH_HEADER, '$1$2[redacted]$2')
    .replace(AUTH_SCHEMES, '$1 [redacted]')
    .replace(USERINFO, '$1[redacted]@')
    .replace(SECRET_QUERY_KEYS, '$1[redacted]')
    .replace(JSON_SECRETS, '$1"[redacted]"');
}

/** Options of createLogger. */
export interface CreateLoggerOptions {
  /** Whether debug messages are written; when omitted, they are dropped. */
  debug?: boolean;
  /** Extra literal strings to mask wherever they appear (a password given on the command line); when omitted, none. */
  secrets?: readonly string[];
}

/** Creates a logger that redacts every line and hands it to `write`. */
export function createLogger(write: (line: string) => void, options: CreateLoggerOptions = {}): Logger {
  const secrets = options.secrets ?? [];
  const clean = (message: string): string => redact(message, secrets);
  return {
    debug(message) { if (options.debug === true) write(`debug: ${clean(message)}`); },
    warn(message) { write(`warning: ${clean(message)}`); },
  };
}
