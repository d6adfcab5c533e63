/**
 * The HTTP layer: one undici dispatcher per registry host (keep-alive pool, that host's TLS settings), the
 * http/https choice per host, manual redirects that drop Authorization across origins and refuse https->http,
 * bounded body reads, and the mapping of socket and TLS failures to typed errors. Nothing else sends requests
 * (undici.ts loads the parts of undici used here).
 */
import { readdir, readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { deadlineText, isDeadline, ManifestError, type ErrorDetails } from '../errors.js';
import { redact, silentLogger, type Logger } from '../log.js';
import { BlockList, isIP } from 'node:net';
import { Agent } from './undici.js';
import { HEADER_AUTHORIZATION, HEADER_CONTENT_LENGTH, HEADER_LOCATION, HEADER_RETRY_AFTER, HEADER_USER_AGENT } from '../media-types.js';

/**
 * Settings of a Transport. Every field has a safe default: https with system CAs, no proxy, no extra certs.
 * Plain HTTP applies to the hosts named only; skipped verification to those hosts and the token realms their
 * challenges name, never to redirect targets elsewhere (design.md §5). The CLI turns --plain-http and --insecure
 * into the command's registry hosts.
 */
export interface TransportOptions {
  /** Hosts ("host" or "host:port", any case) spoken to over plain HTTP; when omitted, none. */
  plainHttpHosts?: readonly string[];
  /**
   * Hosts whose TLS certificates are not verified, and with them the https token realms their challenges name
   * (as docker does; see trustRealmOf); when omitted, none.
   */
  insecureHosts?: readonly string[];
  /** PEM file of extra CAs trusted for every host, added to the system's; when omitted, only system CAs. */
  caFile?: string;
  /** Directory laid out like /etc/docker/certs.d (`<dir>/<host:port>/*.crt, *.cert, *.key`); when omitted, not read. */
  certsDir?: string;
  /** Environment holding HTTPS_PROXY / HTTP_PROXY / NO_PROXY; when omitted, no proxy is used. */
  env?: Readonly<Record<string, string | undefined>>;
  /** User-Agent header; when omitted, "manifest". */
  userAgent?: string;
  /** Milliseconds to establish a connection; when omitted, 15 000. */
  connectTimeoutMs?: number;
  /** Milliseconds to wait for response headers, and between body chunks; when omitted, 60 000. */
  idleTimeoutMs?: number;
  /** Dispatcher used for every request instead of per-host agents (tests pass undici's MockAgent); when omitted, per-host agents. */
  dispatcher?: Dispatcher;
  /** Where request lines go at debug level; when omitted, nowhere. */
  logger?: Logger;
  /** How failed requests are tried again; `false` sends each once; when omitted, RetryPolicy's defaults. */
  retry?: RetryPolicy | false;
}

/**
 * When and how a request is sent again: after a connection reset or timeout, or a 408, 429 or 5xx answer, with
 * capped exponential backoff and full jitter, or after what the registry's Retry-After asks (capped too).
 */
export interface RetryPolicy {
  /** Most attempts of one request, the first included; when omitted, 5. */
  attempts?: number;
  /** Backoff before the first retry, doubled for each next one; when omitted, 250 ms. */
  baseDelayMs?: number;
  /** Longest wait between attempts, Retry-After included; when omitted, 10 000 ms. */
  maxDelayMs?: number;
  /** Random numbers in [0, 1) for jitter; when omitted, Math.random. */
  random?: () => number;
}

/** Statuses worth another attempt: timeouts, rate limits and server-side failures. */
const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/** Socket failures worth another attempt; a refused connection or an unknown host fails at once. */
const RETRY_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
/** Errors from sendOnce that another attempt may cure. */
const retryableErrors = new WeakSet<object>();
/** Retryable errors of readBody: the connection broke after the headers, so send could not try again itself. */
const brokenBodies = new WeakSet<object>();

/** Tells whether a failure of Transport.send came from the connection and may pass if the request is sent again. */
export function isRetryableError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && retryableErrors.has(err);
}

/**
 * Tells whether readBody failed because the connection broke while the body arrived (a reset, a stall): the whole
 * request is worth sending again, which its caller does with Transport.retrying.
 */
export function isBrokenBody(err: unknown): boolean {
  return typeof err === 'object' && err !== null && brokenBodies.has(err);
}

/** Reads Retry-After (seconds or an HTTP date) in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What a request may carry: bytes, or a stream read once as it is sent. */
export type RequestBody = Uint8Array | string | Readable;

/** HTTP methods the registry API uses. */
export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** One request to send. */
export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  /** Request body; a stream is sent as it is read (a blob copied across registries is never held whole). */
  body?: RequestBody;
  /**
   * Whether sending the request twice is harmless; when omitted, true for GET, HEAD and a PUT of bytes. A POST
   * opening an upload session or asking for a token may say so; a stream body is never sent twice.
   */
  idempotent?: boolean;
  signal?: AbortSignal | undefined;
  /**
   * Once aborted, a failed attempt is not sent again (the request in flight runs on, bounded by `signal`): work
   * given a grace period after an interrupt finishes what it started but begins nothing new. When omitted,
   * `signal` alone decides.
   */
  retrySignal?: AbortSignal | undefined;
}

/** A response whose body must be read, dumped or destroyed by the receiver. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** URL that answered, after redirects. */
  url: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const DEFAULT_USER_AGENT = 'manifest';
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_ATTEMPTS = 5;
const DEFAULT_RETRY_BASE_DELAY_MS = 250;
const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;

const UNTRUSTED_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);

/** Returns the first value of a response header. */
export function header(response: Pick<HttpResponse, 'headers'>, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Returns every value of a response header (several WWW-Authenticate headers may arrive). */
export function headerValues(response: Pick<HttpResponse, 'headers'>, name: string): string[] {
  const value = response.headers[name.toLowerCase()];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * Lets undici mark the connection of a response whose body was just consumed as free. Without this turn of the
 * event loop a request sent right away (a config GET after its manifest) finds every connection busy and opens
 * a new one: a round trip lost, more through a high-latency link.
 */
function releaseConnection(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Reads and drops a response body (a HEAD's, an error's), then lets its connection serve the next request. */
export async function discardBody(response: Pick<HttpResponse, 'body'>): Promise<void> {
  await response.body.dump();
  await releaseConnection();
}

/**
 * Drops a response body without reading it, closing its connection. undici's body emits an 'error' when destroyed
 * before its end: with no listener that event would end the process, so one that ignores it is attached first.
 */
export function abandonBody(response: Pick<HttpResponse, 'body'>): void {
  abandonStream(response.body);
}

/** Destroys a stream given up on (a response body, a blob source), ignoring the error its destruction may emit. */
export function abandonStream(stream: Readable): void {
  stream.on('error', ignoreError);
  stream.destroy();
}

function ignoreError(): void {
  // The body was given up on purpose: its abort is expected, not a failure.
}

/** Options of readBody. */
export interface ReadBodyOptions {
  /** Return the first `limit` bytes instead of failing when the body is longer; when omitted, longer bodies fail. */
  truncate?: boolean;
  /** What the body is, for the TOO_LARGE message; when omitted, "response body". */
  what?: string;
}

/** Reads a body of at most `limit` bytes: Content-Length is checked first, then bytes are counted as they arrive. */
export async function readBody(response: HttpResponse, limit: number, options: ReadBodyOptions = {}): Promise<Uint8Array> {
  const what = options.what ?? 'response body';
  const declared = Number(header(response, HEADER_CONTENT_LENGTH));
  if (options.truncate !== true && Number.isFinite(declared) && declared > limit) {
    abandonBody(response);
    throw new ManifestError('TOO_LARGE', `${what} is ${declared} bytes, over the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        if (options.truncate === true) {
          chunks.push(chunk.subarray(0, chunk.length - (total - limit)));
          break;
        }
        throw new ManifestError('TOO_LARGE', `${what} is over the limit of ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    abandonBody(response);
    if (err instanceof ManifestError) throw err;
    const failure = networkError(err, new URL(response.url).host, `reading ${what} from ${redact(response.url)}`);
    if (isRetryableError(failure)) brokenBodies.add(failure);
    throw failure;
  }
  await releaseConnection();
  return Buffer.concat(chunks);
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const innerCode = (inner as { code?: unknown } | null)?.code;
        if (typeof innerCode === 'string') codes.push(innerCode);
      }
    }
    current = current.cause;
  }
  return codes;
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.join(': ');
}

/** What networkError knows of the connection that failed. */
export interface NetworkErrorContext {
  /** The connection was TLS and failed before a response; when omitted, not known to be. */
  tls?: boolean;
  /** A client certificate was presented; when omitted, none was. */
  clientCertificate?: boolean;
  /** The proxy the connection went to, when one did: connection failures are then the proxy's. */
  proxy?: ProxyChoice;
}

/** The proxy a host's requests go through: its URL and the variable that named it. */
export interface ProxyChoice {
  variable: string;
  url: URL;
}

/** Turns a socket, TLS, timeout or abort failure into a typed error, saying what was being done. */
export function networkError(err: unknown, host: string, doing: string, context: NetworkErrorContext = {}): ManifestError {
  // A stream body that failed its own check (a blob whose bytes hash wrong) surfaces as undici's error or its cause.
  for (let current: unknown = err, depth = 0; depth < 5 && current instanceof Error; depth++, current = current.cause) {
    if (current instanceof ManifestError) return current;
  }
  const mapped = mapNetworkError(err, host, doing, context);
  // A reset or a timeout may pass on another attempt; a refused connection, a bad certificate or DNS will not.
  if (mapped !== err && errorCodes(err).some((code) => RETRY_ERROR_CODES.has(code))) retryableErrors.add(mapped);
  return mapped;
}

function mapNetworkError(err: unknown, host: string, doing: string, context: NetworkErrorContext): ManifestError {
  const codes = errorCodes(err);
  const text = errorText(err);
  const details: ErrorDetails = { host };
  const has = (...wanted: string[]): boolean => wanted.some((c) => codes.includes(c));
  const make = (code: ManifestError['code'], reason: string, extra: ErrorDetails = {}): ManifestError =>
    new ManifestError(code, `${doing}: ${reason}`, { cause: err, details: { ...details, ...extra } });

  // A signal that fires while a body streams in fails the stream with the signal's reason itself.
  if (isDeadline(err)) return make('TIMEOUT', deadlineText(err), { deadline: true });
  if ((err instanceof Error && err.name === 'AbortError') || has('UND_ERR_ABORTED', 'ABORT_ERR')) return make('ABORTED', 'interrupted');
  const proxy = context.proxy;
  if (proxy !== undefined && has('ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH')) {
    // Through a proxy the only connection made is to the proxy: its failure is not the registry's.
    const what = has('ECONNREFUSED') ? 'refused the connection' : has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME') ? 'has a host name that does not resolve' : 'cannot be reached';
    return make('UNAVAILABLE', `the proxy ${proxy.url.host} (${proxy.variable}) ${what}, on the way to ${host}`, { proxy: proxy.variable });
  }
  if (has('ECONNREFUSED')) return make('UNAVAILABLE', `connection refused by ${host}`);
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME')) return make('UNAVAILABLE', `cannot resolve the host name of ${host}`);
  if (has('UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT')) return make('TIMEOUT', `timed out connecting to ${host}`);
  if (has('UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT')) return make('TIMEOUT', `${host} stopped answering`);
  if (has('ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG') || /wrong version number|packet length too long/i.test(text)) {
    return make('TLS', `TLS handshake with ${host} failed: the server does not speak TLS (it may be plain HTTP)`, { tls: 'plain-http-server' });
  }
  const untrusted = codes.find((c) => UNTRUSTED_CERT_CODES.has(c));
  if (untrusted !== undefined) {
    return make('TLS', `TLS certificate of ${host} is not trusted (${untrusted})`, { tls: 'untrusted-certificate' });
  }
  if (codes.some((c) => c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS')) || /\bSSL\b|\bTLS\b/.test(text)) {
    return make('TLS', `TLS handshake with ${host} failed: ${redact(text).slice(0, 200)}`, { tls: 'other' });
  }
  if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED')) {
    // Under TLS 1.3 a registry that requires a client certificate closes the connection after the handshake.
    const mtls = context.tls === true && context.clientCertificate !== true;
    return make('UNAVAILABLE', `connection to ${host} was closed unexpectedly`, mtls ? { tls: 'closed' } : {});
  }
  if (has('EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL')) return make('UNAVAILABLE', `${host} is unreachable`);
  return make('UNAVAILABLE', `${redact(text).slice(0, 300) || 'network failure'}`);
}

/**
 * The error for a request its signal stopped: TIMEOUT when the signal was a deadline (AbortSignal.timeout, the
 * CLI's --timeout), ABORTED when the user interrupted.
 */
function abortError(signal: AbortSignal | undefined, err: unknown, host: string, doing: string): ManifestError {
  const reason: unknown = signal?.reason;
  if (isDeadline(reason)) {
    return new ManifestError('TIMEOUT', `${doing}: ${deadlineText(reason)}`, { cause: err, details: { host, deadline: true } });
  }
  return new ManifestError('ABORTED', `${doing}: interrupted`, { cause: err, details: { host } });
}

function hostMatches(list: readonly string[] | undefined, host: string): boolean {
  if (list === undefined || list.length === 0) return false;
  const lower = host.toLowerCase();
  const hostname = lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : lower.split(':')[0];
  return list.some((entry) => {
    const wanted = entry.toLowerCase();
    return wanted === lower || wanted === hostname;
  });
}

interface TlsFiles {
  ca?: string[];
  cert?: string;
  key?: string;
}

/** A host's pooled connections, whether they present a client certificate, and the proxy they go through. */
interface HostDispatcher {
  dispatcher: Dispatcher;
  clientCertificate: boolean;
  proxy?: ProxyChoice;
}

/**
 * Tells whether NO_PROXY exempts `host` ("name[:port]" or "[v6]:port"): "*", a name or ".domain" suffix, an
 * address, "host:port", or an address range in CIDR form ("127.0.0.0/8", "fd00::/8"), as Go and curl read it.
 */
export function isExemptFromProxy(host: string, noProxy: string): boolean {
  const bracketed = host.startsWith('[');
  const hostname = (bracketed ? host.slice(1, host.indexOf(']')) : host.split(':')[0] ?? '').toLowerCase();
  const port = bracketed ? host.slice(host.indexOf(']') + 2) : host.split(':')[1] ?? '';
  const family = isIP(hostname);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const slash = entry.indexOf('/');
    if (slash > 0) {
      const [base, bits] = [entry.slice(0, slash), Number(entry.slice(slash + 1))];
      const baseFamily = isIP(base);
      if (family === 0 || baseFamily !== family || !Number.isInteger(bits)) continue;
      const range = new BlockList();
      try {
        range.addSubnet(base, bits, family === 6 ? 'ipv6' : 'ipv4');
      } catch {
        continue;
      }
      if (range.check(hostname, family === 6 ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    const entryBracketed = entry.startsWith('[');
    const entryHost = entryBracketed ? entry.slice(1, entry.indexOf(']')) : isIP(entry) === 6 ? entry : entry.split(':')[0] ?? '';
    const entryPort = entryBracketed ? entry.slice(entry.indexOf(']') + 2) : isIP(entry) === 6 ? '' : entry.split(':')[1] ?? '';
    if (entryPort !== '' && entryPort !== port) continue;
    const name = entryHost.replace(/^\*?\./, '');
    if (hostname === name || (family === 0 && hostname.endsWith(`.${name}`))) return true;
  }
  return false;
}

/** Parses a proxy variable's value, naming the variable (not echoing the value, which may hold a password) when it is not a URL. */
function proxyUrl(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new ManifestError('INVALID_INPUT', `${variable} is not a proxy URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ManifestError('INVALID_INPUT', `${variable} names a ${url.protocol.slice(0, -1)} proxy; only http and https proxies are supported`);
  }
  return url;
}

async function readTlsFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ManifestError('INVALID_INPUT', `reading ${what} ${path}: ${reason}`, { cause: err });
  }
}

/** Sends registry API requests with per-host TLS, pooled connections, and safe redirects. */
export class Transport {
  private readonly options: TransportOptions;
  private readonly logger: Logger;
  private readonly dispatchers = new Map<string, Promise<HostDispatcher>>();
  /** Token realm hosts whose certificates are not verified because an insecure registry named them. */
  private readonly insecureRealms = new Set<string>();
  private closed = false;

  constructor(options: TransportOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
  }

  /** Returns "http" or "https" for a host, as the options say; never falls back by itself. */
  schemeFor(host: string): 'http' | 'https' {
    return hostMatches(this.options.plainHttpHosts, host) ? 'http' : 'https';
  }

  /** Returns "scheme://host" for a registry host. */
  baseUrl(host: string): string {
    return `${this.schemeFor(host)}://${host}`;
  }

  /**
   * Sends a request, following redirects of GET and HEAD (at most 5; Authorization kept only on the same origin),
   * and sending it again, when it is idempotent, after a connection failure or a 408/429/5xx (RetryPolicy).
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const policy = this.options.retry === false ? { attempts: 1 } : this.options.retry ?? {};
    const attempts = Math.max(1, policy.attempts ?? DEFAULT_RETRY_ATTEMPTS);
    const streamed = req.body !== undefined && typeof req.body !== 'string' && !(req.body instanceof Uint8Array);
    const repeatable = !streamed && (req.idempotent ?? (req.method === 'GET' || req.method === 'HEAD' || req.method === 'PUT'));
    for (let attempt = 1; ; attempt++) {
      const last = !repeatable || attempt >= attempts;
      let response: HttpResponse;
      try {
        response = await this.sendFollowing(req);
      } catch (err) {
        if (last || !isRetryableError(err) || req.signal?.aborted === true || req.retrySignal?.aborted === true) throw err;
        const wait = this.backoff(policy, attempt);
        this.logger.debug(`${req.method} ${redact(req.url)}: ${(err as Error).message}; trying again in ${wait} ms (attempt ${attempt + 1} of ${attempts})`);
        await this.pause(wait, req);
        continue;
      }
      if (last || !RETRY_STATUSES.has(response.status) || req.retrySignal?.aborted === true) return response;
      const asked = retryAfterMs(header(response, HEADER_RETRY_AFTER));
      const wait = Math.min(asked ?? this.backoff(policy, attempt), policy.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS);
      await discardBody(response);
      this.logger.debug(`${req.method} ${redact(req.url)}: ${response.status}; trying again in ${wait} ms (attempt ${attempt + 1} of ${attempts})`);
      await this.pause(wait, req);
    }
  }

  /**
   * Runs a multi-request operation again from the start, with the policy's backoff, while it fails with an error
   * `isTemporary` accepts: a blob upload whose stream broke, a list PUT a registry answered before committing
   * its children. Single requests are retried by send itself.
   */
  async retrying<T>(what: string, operation: () => Promise<T>, isTemporary: (err: unknown) => boolean, signal?: AbortSignal): Promise<T> {
    const policy = this.options.retry === false ? { attempts: 1 } : this.options.retry ?? {};
    const attempts = Math.max(1, policy.attempts ?? DEFAULT_RETRY_ATTEMPTS);
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (err) {
        if (attempt >= attempts || !isTemporary(err) || signal?.aborted === true) throw err;
        const wait = this.backoff(policy, attempt);
        this.logger.debug(`${what}: ${(err as Error).message}; trying again in ${wait} ms (attempt ${attempt + 1} of ${attempts})`);
        try {
          await delay(wait, undefined, signal === undefined ? {} : { signal });
        } catch (abort) {
          throw abortError(signal, abort, '', what);
        }
      }
    }
  }

  /** Returns the wait before retry number `attempt`: exponential, capped, with full jitter. */
  private backoff(policy: RetryPolicy, attempt: number): number {
    const cap = Math.min(policy.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS, (policy.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS) * 2 ** (attempt - 1));
    return Math.round(cap * (policy.random ?? Math.random)());
  }

  /** Waits between attempts; an abort ends the wait with the same error a request would give. */
  private async pause(ms: number, req: HttpRequest): Promise<void> {
    try {
      await delay(ms, undefined, req.signal === undefined ? {} : { signal: req.signal });
    } catch (err) {
      throw abortError(req.signal, err, new URL(req.url).host, `${req.method} ${redact(req.url)}`);
    }
  }

  /** Sends a request once, following redirects of GET and HEAD. */
  private async sendFollowing(req: HttpRequest): Promise<HttpResponse> {
    let url = new URL(req.url);
    const headers: Record<string, string> = { [HEADER_USER_AGENT]: this.options.userAgent ?? DEFAULT_USER_AGENT, ...req.headers };
    const follows = req.method === 'GET' || req.method === 'HEAD';
    for (let hop = 0; ; hop++) {
      const response = await this.sendOnce(req.method, url, headers, req.body, req.signal);
      const location = header(response, HEADER_LOCATION);
      if (!follows || !REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      await discardBody(response);
      if (hop >= MAX_REDIRECTS) {
        throw new ManifestError('INVALID_RESPONSE', `${req.method} ${redact(req.url)}: more than ${MAX_REDIRECTS} redirects`, { details: { host: url.host } });
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new ManifestError('INVALID_RESPONSE', `${req.method} ${redact(url.href)}: redirect to an invalid location`, { details: { host: url.host } });
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new ManifestError('INVALID_RESPONSE', `${req.method} ${redact(url.href)}: redirect to unsupported scheme ${next.protocol}`, { details: { host: url.host } });
      }
      if (url.protocol === 'https:' && next.protocol === 'http:') {
        throw new ManifestError('REJECTED', `${req.method} ${redact(url.href)}: refused a redirect from https to http (${redact(next.href)})`, { details: { host: url.host } });
      }
      if (next.origin !== url.origin) {
        // Credentials belong to the registry's origin only: a blob redirected to S3 or a CDN carries none.
        delete headers[HEADER_AUTHORIZATION];
      }
      this.logger.debug(`redirect ${response.status} -> ${next.href}`);
      url = next;
    }
  }


  private async sendOnce(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: RequestBody | undefined,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const { dispatcher, clientCertificate, proxy } = await this.dispatcherFor(url.host);
    this.logger.debug(`${method} ${url.href}${headers[HEADER_AUTHORIZATION] === undefined ? '' : ' (authorized)'}`);
    const started = performance.now();
    try {
      const response = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        body: body ?? null,
        signal: signal ?? null,
        // undici closes the connection after a HEAD, in case a server sends a body anyway; registries do not, and
        // a push sends HEADs between other requests: each would cost a new handshake (a round trip, TLS more).
        ...(method === 'HEAD' ? { reset: false } : {}),
      });
      // --debug shows how long each request took to answer (its headers; the body is read by the caller).
      this.logger.debug(`${response.statusCode} ${method} ${url.href} in ${Math.round(performance.now() - started)} ms`);
      return { status: response.statusCode, headers: response.headers, body: response.body, url: url.href };
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal, err, url.host, `${method} ${redact(url.href)}`);
      throw networkError(err, url.host, `${method} ${redact(url.href)}`, { tls: url.protocol === 'https:', clientCertificate, ...(proxy === undefined ? {} : { proxy }) });
    }
  }

  private dispatcherFor(host: string): Promise<HostDispatcher> {
    // Work still queued when its caller gave up must not open connections nobody will close.
    if (this.closed) return Promise.reject(new ManifestError('ABORTED', `request to ${host} after the client was closed`));
    if (this.options.dispatcher !== undefined) return Promise.resolve({ dispatcher: this.options.dispatcher, clientCertificate: false });
    let dispatcher = this.dispatchers.get(host);
    if (dispatcher === undefined) {
      dispatcher = this.createDispatcher(host);
      this.dispatchers.set(host, dispatcher);
    }
    return dispatcher;
  }

  private async createDispatcher(host: string): Promise<HostDispatcher> {
    const files = await this.tlsFiles(host);
    const clientCertificate = files.cert !== undefined && files.key !== undefined;
    const tls = {
      ...(files.ca === undefined ? {} : { ca: [...rootCertificates, ...files.ca] }),
      ...(files.cert === undefined || files.key === undefined ? {} : { cert: files.cert, key: files.key }),
      rejectUnauthorized: !hostMatches(this.options.insecureHosts, host) && !this.insecureRealms.has(host.toLowerCase()),
    };
    const timeouts = {
      headersTimeout: this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      bodyTimeout: this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    };
    const connect = { ...tls, timeout: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS };
    const env = this.options.env ?? {};
    const proxy = this.proxyFor(host, env);
    if (proxy !== undefined) {
      const { ProxyAgent } = await import('./undici-proxy.js');
      const dispatcher = new ProxyAgent({ ...timeouts, uri: proxy.url.href, requestTls: tls, proxyTls: { timeout: connect.timeout } });
      return { dispatcher, clientCertificate, proxy };
    }
    return { dispatcher: new Agent({ ...timeouts, connect }), clientCertificate };
  }

  /**
   * Returns the proxy for a host's requests: HTTPS_PROXY (or https_proxy) for an https host, HTTP_PROXY for a
   * plain-http one, unless NO_PROXY exempts the host (CIDR ranges included, which undici's own agent ignores).
   */
  private proxyFor(host: string, env: Readonly<Record<string, string | undefined>>): ProxyChoice | undefined {
    const names = this.schemeFor(host) === 'https' ? ['HTTPS_PROXY', 'https_proxy'] : ['HTTP_PROXY', 'http_proxy'];
    const variable = names.find((name) => (env[name] ?? '') !== '');
    if (variable === undefined) return undefined;
    const url = proxyUrl(variable, env[variable] ?? '');
    if (isExemptFromProxy(host, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
    return { variable, url };
  }

  /** Reads the CA file and `<certsDir>/<host>/` (docker's layout: *.crt CAs, a *.cert/*.key client pair). */
  private async tlsFiles(host: string): Promise<TlsFiles> {
    const files: TlsFiles = {};
    const ca: string[] = [];
    if (this.options.caFile !== undefined) {
      const pem = await readTlsFile(this.options.caFile, 'CA file');
      // A file without one certificate would only surface later as an untrusted registry, with a hint to use it.
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
        throw new ManifestError('INVALID_INPUT', `CA file ${this.options.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      }
      ca.push(pem);
    }
    if (this.options.certsDir !== undefined) {
      const dir = join(this.options.certsDir, host);
      let names: string[] = [];
      try {
        names = (await readdir(dir)).sort();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // No directory for this host: nothing extra to trust. Anything else is a setup error worth naming.
        if (code !== 'ENOENT' && code !== 'ENOTDIR') {
          throw new ManifestError('INVALID_INPUT', `reading certificate directory ${dir}: ${(err as Error).message}`, { cause: err });
        }
      }
      for (const name of names) {
        const path = join(dir, name);
        if (name.endsWith('.crt')) ca.push(await readTlsFile(path, 'CA certificate'));
        else if (name.endsWith('.cert')) {
          files.cert = await readTlsFile(path, 'client certificate');
          files.key = await readTlsFile(`${path.slice(0, -'.cert'.length)}.key`, 'the key of client certificate');
        }
      }
    }
    if (ca.length > 0) files.ca = ca;
    return files;
  }

  /**
   * Extends skipped verification from an insecure registry to the https token realm its challenge names (as docker
   * and manifest-tool do), before the first request to that realm. Nothing changes for a verified registry, and
   * blob redirects never come here: they stay verified.
   */
  trustRealmOf(registryHost: string, realm: URL): void {
    if (realm.protocol !== 'https:' || !hostMatches(this.options.insecureHosts, registryHost)) return;
    if (hostMatches(this.options.insecureHosts, realm.host) || this.insecureRealms.has(realm.host.toLowerCase())) return;
    this.insecureRealms.add(realm.host.toLowerCase());
    // A pool opened earlier for that host (by a redirect) verified certificates: the next request opens a new one.
    const earlier = this.dispatchers.get(realm.host);
    if (earlier !== undefined) {
      this.dispatchers.delete(realm.host);
      void earlier.then((d) => d.dispatcher.close(), () => undefined).catch(() => undefined);
    }
    this.logger.debug(`not verifying the certificate of ${realm.host}: the token realm of ${registryHost}, which is insecure`);
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(all.map(async (d) => (await d.catch(() => undefined))?.dispatcher.close()));
  }
}
