/**
 * Registry error responses turned into typed errors. The body is read up to 64 KiB, parsed as the distribution
 * spec's `{"errors":[{"code","message","detail"}]}` when it is that, else reduced to one short line (HTML pages
 * from proxies and load balancers included). URLs and tokens are redacted before they reach a message.
 */
import { ManifestError, type ErrorCode, type ErrorDetails } from '../errors.js';
import { redact } from '../log.js';
import { HEADER_RETRY_AFTER } from '../media-types.js';
import { discardBody, header, readBody, retryAfterMs, type HttpResponse } from './transport.js';

/** Largest error body read; the rest is discarded. */
export const MAX_ERROR_BODY = 64 * 1024;

/** One entry of a registry's `errors` array. */
export interface RegistryDiagnostic {
  code: string;
  message: string;
}

/** The facts a RegistryError carries besides its code and message. */
export interface RegistryErrorInit {
  status: number;
  method: string;
  /** Request URL, redacted. */
  url: string;
  diagnostics: readonly RegistryDiagnostic[];
  /** Whether trying again later may succeed (408, 429, 5xx, UNAVAILABLE). */
  temporary: boolean;
  /** Facts for hints; when omitted, none. */
  details?: ErrorDetails;
}

/** A registry answered with an error status: carries the status, the request and the registry's diagnostics. */
export class RegistryError extends ManifestError {
  override readonly name: string = 'RegistryError';
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly diagnostics: readonly RegistryDiagnostic[];
  readonly temporary: boolean;

  constructor(code: ErrorCode, message: string, init: RegistryErrorInit) {
    super(code, message, { details: init.details ?? {} });
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    this.diagnostics = init.diagnostics;
    this.temporary = init.temporary;
  }
}

function codeForStatus(status: number, diagnostics: readonly RegistryDiagnostic[]): ErrorCode {
  const codes = new Set(diagnostics.map((d) => d.code));
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403 || codes.has('DENIED')) return 'DENIED';
  if (status === 404 || codes.has('MANIFEST_UNKNOWN') || codes.has('NAME_UNKNOWN') || codes.has('BLOB_UNKNOWN')) return 'NOT_FOUND';
  if (status === 413 || codes.has('SIZE_INVALID')) return 'TOO_LARGE';
  if (codes.has('DIGEST_INVALID')) return 'DIGEST_MISMATCH';
  if (status === 408) return 'TIMEOUT';
  if (status === 429 || status >= 500 || codes.has('TOOMANYREQUESTS') || codes.has('UNAVAILABLE')) return 'UNAVAILABLE';
  return 'REJECTED';
}

function summarize(text: string): string {
  const title = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(text);
  const line = (title?.[1] ?? text).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function parseDiagnostics(text: string): RegistryDiagnostic[] {
  try {
    const body = JSON.parse(text) as unknown;
    const errors = (body as { errors?: unknown } | null)?.errors;
    if (!Array.isArray(errors)) return [];
    return errors.slice(0, 10).flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      const { code, message } = e as { code?: unknown; message?: unknown };
      return [{
        code: typeof code === 'string' ? code.slice(0, 64) : 'UNKNOWN',
        message: typeof message === 'string' ? message.slice(0, 300) : '',
      }];
    });
  } catch {
    return [];
  }
}

/** Says when a rate-limited client may try again, from Retry-After or RateLimit-Reset, when the registry sent one. */
function rateLimitNote(response: HttpResponse): string {
  if (response.status !== 429) return '';
  const after = retryAfterMs(header(response, HEADER_RETRY_AFTER)) ?? retryAfterMs(header(response, 'ratelimit-reset'));
  if (after === undefined) return ' (rate limited)';
  return ` (rate limited; the registry allows more requests in ${Math.ceil(after / 1000)} s, at ${new Date(Date.now() + after).toISOString()})`;
}

/** Reads an error response (bounded) and returns the RegistryError describing it. */
export async function registryErrorFrom(
  response: HttpResponse,
  method: string,
  url: string,
  details: ErrorDetails = {},
): Promise<RegistryError> {
  let text = '';
  if (method !== 'HEAD') {
    try {
      text = new TextDecoder().decode(await readBody(response, MAX_ERROR_BODY, { truncate: true }));
    } catch {
      text = '';
    }
  } else {
    // A HEAD answer has no body to read: dumping it keeps the connection for the next request.
    await discardBody(response).catch(() => undefined);
  }
  const diagnostics = parseDiagnostics(text);
  const code = codeForStatus(response.status, diagnostics);
  const said = diagnostics.length > 0
    ? diagnostics.map((d) => `${d.code}${d.message ? ` (${d.message})` : ''}`).join('; ')
    : summarize(text);
  const shownUrl = redact(url);
  const message = `${method} ${shownUrl}: ${response.status}${said ? ` ${redact(said)}` : ''}${rateLimitNote(response)}`;
  const temporary = code === 'UNAVAILABLE' || code === 'TIMEOUT';
  return new RegistryError(code, message, { status: response.status, method, url: shownUrl, diagnostics, temporary, details });
}
