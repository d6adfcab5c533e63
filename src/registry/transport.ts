/**
 * The HTTP layer: one undici dispatcher per registry host (keep-alive pool, that host's TLS settings), the
 * http/https choice per host, manual redirects that drop Authorization across origins and refuse https->http,
 * bounded body reads, and the mapping of socket and TLS failures to typed errors. Nothing else imports undici.
 */
import { readdir, readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { ManifestError, type ErrorDetails } from '../errors.js';
import { redact, silentLogger, type Logger } from '../log.js';

/** Settings of a Transport. Every field has a safe default: https with system CAs, no proxy, no extra certs. */
export interface TransportOptions {
  /** Speak plain HTTP to every registry; when omitted, https is used except for `plainHttpHosts`. */
  plainHttp?: boolean;
  /** Hosts ("host" or "host:port") spoken to over plain HTTP; when omitted, none. */
  plainHttpHosts?: readonly string[];
  /** Skip TLS certificate verification for every registry; when omitted, certificates are verified. */
  insecure?: boolean;
  /** Hosts whose TLS certificates are not verified; when omitted, none. */
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
}

/** HTTP methods the registry API uses. */
export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** One request to send. */
export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  signal?: AbortSignal | undefined;
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
  const declared = Number(header(response, 'content-length'));
  if (options.truncate !== true && Number.isFinite(declared) && declared > limit) {
    response.body.destroy();
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
    response.body.destroy();
    if (err instanceof ManifestError) throw err;
    const url = new URL(response.url);
    throw networkError(err, url.host, `reading ${what} from ${redact(response.url)}`, url.protocol === 'https:');
  }
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

/** Turns a socket, TLS, timeout or abort failure into a typed error, saying what was being done (over TLS when `overTls`). */
export function networkError(err: unknown, host: string, doing: string, overTls = false): ManifestError {
  if (err instanceof ManifestError) return err;
  const codes = errorCodes(err);
  const text = errorText(err);
  const details: ErrorDetails = { host };
  const has = (...wanted: string[]): boolean => wanted.some((c) => codes.includes(c));
  const make = (code: ManifestError['code'], reason: string, extra: ErrorDetails = {}): ManifestError =>
    new ManifestError(code, `${doing}: ${reason}`, { cause: err, details: { ...details, ...extra } });

  if ((err instanceof Error && err.name === 'AbortError') || has('UND_ERR_ABORTED', 'ABORT_ERR')) return make('ABORTED', 'interrupted');
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
    return make('TLS', `TLS handshake with ${host} failed: ${text.slice(0, 200)}`, { tls: 'other' });
  }
  if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED')) {
    return make('UNAVAILABLE', `connection to ${host} was closed unexpectedly`, overTls ? { tls: 'closed' } : {});
  }
  if (has('EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL')) return make('UNAVAILABLE', `${host} is unreachable`);
  return make('UNAVAILABLE', `${redact(text).slice(0, 300) || 'network failure'}`);
}

function hostMatches(list: readonly string[] | undefined, host: string): boolean {
  if (list === undefined || list.length === 0) return false;
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return list.some((entry) => entry === host || entry === hostname);
}

interface TlsFiles {
  ca?: string[];
  cert?: string;
  key?: string;
}

/** Sends registry API requests with per-host TLS, pooled connections, and safe redirects. */
export class Transport {
  private readonly options: TransportOptions;
  private readonly logger: Logger;
  private readonly dispatchers = new Map<string, Promise<Dispatcher>>();

  constructor(options: TransportOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
  }

  /** Returns "http" or "https" for a host, as the options say; never falls back by itself. */
  schemeFor(host: string): 'http' | 'https' {
    return this.options.plainHttp === true || hostMatches(this.options.plainHttpHosts, host) ? 'http' : 'https';
  }

  /** Returns "scheme://host" for a registry host. */
  baseUrl(host: string): string {
    return `${this.schemeFor(host)}://${host}`;
  }

  /** Sends a request, following redirects of GET and HEAD (at most 5; Authorization kept only on the same origin). */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = new URL(req.url);
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'manifest', ...req.headers };
    const follows = req.method === 'GET' || req.method === 'HEAD';
    for (let hop = 0; ; hop++) {
      const response = await this.sendOnce(req.method, url, headers, req.body, req.signal);
      const location = header(response, 'location');
      if (!follows || !REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      await response.body.dump();
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
        delete headers.authorization;
      }
      this.logger.debug(`redirect ${response.status} -> ${next.href}`);
      url = next;
    }
  }

  private async sendOnce(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: Uint8Array | string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const dispatcher = await this.dispatcherFor(url.host);
    this.logger.debug(`${method} ${url.href}${headers.authorization === undefined ? '' : ' (authorized)'}`);
    try {
      const response = await request(url, {
        method,
        headers,
        body: body ?? null,
        dispatcher,
        signal: signal ?? null,
      });
      this.logger.debug(`${response.statusCode} ${method} ${url.href}`);
      return { status: response.statusCode, headers: response.headers, body: response.body, url: url.href };
    } catch (err) {
      throw networkError(err, url.host, `${method} ${redact(url.href)}`, url.protocol === 'https:');
    }
  }

  private dispatcherFor(host: string): Promise<Dispatcher> {
    if (this.options.dispatcher !== undefined) return Promise.resolve(this.options.dispatcher);
    let dispatcher = this.dispatchers.get(host);
    if (dispatcher === undefined) {
      dispatcher = this.createDispatcher(host);
      this.dispatchers.set(host, dispatcher);
    }
    return dispatcher;
  }

  private async createDispatcher(host: string): Promise<Dispatcher> {
    const files = await this.tlsFiles(host);
    const tls = {
      ...(files.ca === undefined ? {} : { ca: [...rootCertificates, ...files.ca] }),
      ...(files.cert === undefined || files.key === undefined ? {} : { cert: files.cert, key: files.key }),
      rejectUnauthorized: !(this.options.insecure === true || hostMatches(this.options.insecureHosts, host)),
    };
    const timeouts = {
      headersTimeout: this.options.idleTimeoutMs ?? 60_000,
      bodyTimeout: this.options.idleTimeoutMs ?? 60_000,
    };
    const connect = { ...tls, timeout: this.options.connectTimeoutMs ?? 15_000 };
    const env = this.options.env ?? {};
    const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
    const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
    if (httpsProxy !== undefined || httpProxy !== undefined) {
      return new EnvHttpProxyAgent({
        ...timeouts,
        connect,
        requestTls: tls,
        ...(httpProxy === undefined ? {} : { httpProxy }),
        ...(httpsProxy === undefined ? {} : { httpsProxy }),
        noProxy: env.NO_PROXY ?? env.no_proxy ?? '',
      });
    }
    return new Agent({ ...timeouts, connect });
  }

  /** Reads the CA file and `<certsDir>/<host>/` (docker's layout: *.crt CAs, a *.cert/*.key client pair). */
  private async tlsFiles(host: string): Promise<TlsFiles> {
    const files: TlsFiles = {};
    const ca: string[] = [];
    if (this.options.caFile !== undefined) {
      try {
        ca.push(await readFile(this.options.caFile, 'utf8'));
      } catch (err) {
        throw new ManifestError('INVALID_INPUT', `reading CA file ${this.options.caFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (this.options.certsDir !== undefined) {
      const dir = join(this.options.certsDir, host);
      let names: string[] = [];
      try {
        names = (await readdir(dir)).sort();
      } catch {
        names = []; // no directory for this host: nothing extra to trust
      }
      for (const name of names) {
        const path = join(dir, name);
        if (name.endsWith('.crt')) ca.push(await readFile(path, 'utf8'));
        else if (name.endsWith('.cert')) {
          const keyPath = path.slice(0, -'.cert'.length) + '.key';
          files.cert = await readFile(path, 'utf8');
          try {
            files.key = await readFile(keyPath, 'utf8');
          } catch {
            throw new ManifestError('INVALID_INPUT', `client certificate ${path} has no matching key ${keyPath}`);
          }
        }
      }
    }
    if (ca.length > 0) files.ca = ca;
    return files;
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(all.map(async (d) => (await d).close()));
  }
}
