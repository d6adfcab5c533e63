/**
 * Registry API calls (OCI distribution spec v1.1): manifests and blobs, authorised and verified. Every manifest
 * or blob fetched is hashed from its bytes; `Docker-Content-Digest` is a claim checked against them, never trusted.
 */
import { digestOf, isDigest, type Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { redact, silentLogger, type Logger } from '../log.js';
import {
  HEADER_ACCEPT, HEADER_AUTHORIZATION, HEADER_CONTENT_DIGEST, HEADER_CONTENT_LENGTH, HEADER_CONTENT_TYPE,
  HEADER_WWW_AUTHENTICATE, MANIFEST_MEDIA_TYPES,
} from '../media-types.js';
import type { Reference } from '../ref.js';
import { Authenticator, type AuthTarget } from './auth.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { CredentialStore } from './credentials.js';
import { RegistryError, registryErrorFrom } from './errors.js';
import { header, headerValues, readBody, Transport, type HttpMethod, type HttpResponse } from './transport.js';

/** Largest manifest accepted (distribution's own limit is 4 MiB). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
/** Largest config blob read into memory. */
export const MAX_CONFIG_SIZE = 4 * 1024 * 1024;

/** A manifest's bytes as fetched, with their verified digest and the media type the registry served them as. */
export interface FetchedManifest {
  bytes: Uint8Array;
  digest: Digest;
  /** Content-Type of the response, parameters dropped; the body's own mediaType is read by manifest/parse. */
  contentType: string;
  size: number;
}

/** What a HEAD of a manifest says; the digest is the registry's claim (absent on some registries). */
export interface ManifestHead {
  digest: Digest | undefined;
  contentType: string | undefined;
  size: number | undefined;
}

/** Options of every network call. */
export interface CallOptions {
  /** Aborts the call; when omitted, it runs to completion or its timeouts. */
  signal?: AbortSignal | undefined;
}

/** Options of getBlob. */
export interface GetBlobOptions extends CallOptions {
  /** Largest blob accepted; when omitted, MAX_CONFIG_SIZE. */
  maxBytes?: number;
}

/** Settings of a RegistryClient. */
export interface RegistryClientOptions {
  /** HTTP layer; when omitted, a Transport with default settings (https, system CAs). */
  transport?: Transport;
  /** Credential lookups; when omitted, anonymous. */
  credentials?: CredentialStore;
  /** Debug and warning sink; when omitted, nothing is logged. */
  logger?: Logger;
}

/** What /v2/ said: its status and the authentication it asks for. */
export interface PingResult {
  status: number;
  challenges: Challenge[];
}

interface ApiRequest extends CallOptions {
  method: HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Statuses returned to the caller instead of thrown (404 for an existence check). */
  allow?: readonly number[];
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const value = contentType?.split(';')[0]?.trim().toLowerCase();
  return value === '' ? undefined : value;
}

function encodePath(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

/** Says what was not found, from the registry's codes: the repository (NAME_UNKNOWN) or the tag or digest in it. */
function notFoundContext(err: unknown, ref: Reference): unknown {
  if (!(err instanceof RegistryError) || err.code !== 'NOT_FOUND') return err;
  const what = err.diagnostics.some((d) => d.code === 'NAME_UNKNOWN')
    ? `repository ${ref.name} not found`
    : `${ref.digest === undefined ? 'tag' : 'manifest'} ${ref.identifier} not found in ${ref.name}`;
  return withContext(what, err);
}

/** Talks to registries: one instance shares connections, challenges and tokens across all its calls. */
export class RegistryClient {
  readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly logger: Logger;

  constructor(options: RegistryClientOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.transport = options.transport ?? new Transport({ logger: this.logger });
    this.auth = new Authenticator(this.transport, {
      logger: this.logger,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  /** Calls GET /v2/ and reports its status and challenges (no authentication is attempted). */
  async ping(registryHost: string, options: CallOptions = {}): Promise<PingResult> {
    const url = `${this.transport.baseUrl(registryHost)}/v2/`;
    const response = await this.transport.send({ method: 'GET', url, signal: options.signal });
    await response.body.dump();
    return { status: response.status, challenges: parseChallenges(headerValues(response, HEADER_WWW_AUTHENTICATE)) };
  }

  /** Fetches a manifest by tag or digest and verifies its digest from the bytes. */
  async getManifest(ref: Reference, options: CallOptions = {}): Promise<FetchedManifest> {
    const response = await this.call(ref, ['pull'], {
      method: 'GET',
      path: `/v2/${encodePath(ref.repository)}/manifests/${ref.identifier}`,
      headers: { [HEADER_ACCEPT]: MANIFEST_MEDIA_TYPES.join(', ') },
      signal: options.signal,
    }).catch((err: unknown) => { throw notFoundContext(err, ref); });
    const bytes = await readBody(response, MAX_MANIFEST_SIZE, { what: `manifest ${ref.identifier}` });
    const claimed = header(response, HEADER_CONTENT_DIGEST);
    const computed = digestOf(bytes, ref.digest ?? (claimed !== undefined && isDigest(claimed) ? claimed : 'sha256:'));
    if (ref.digest !== undefined && computed !== ref.digest) {
      throw new ManifestError('DIGEST_MISMATCH', `the registry sent manifest bytes that hash to ${computed}, not the requested ${ref.digest}`, { details: { host: ref.registry } });
    }
    if (claimed !== undefined) {
      if (!isDigest(claimed)) {
        throw new ManifestError('DIGEST_MISMATCH', `the registry claimed an invalid manifest digest "${claimed.slice(0, 100)}"`, { details: { host: ref.registry } });
      }
      const actual = digestOf(bytes, claimed);
      if (actual !== claimed) {
        throw new ManifestError('DIGEST_MISMATCH', `the registry claimed digest ${claimed} but the manifest bytes hash to ${actual}`, { details: { host: ref.registry } });
      }
    }
    const contentType = mediaTypeOf(header(response, HEADER_CONTENT_TYPE)) ?? '';
    this.logger.debug(`manifest ${ref.toString()} is ${computed} (${bytes.length} bytes, ${contentType || 'no content type'})`);
    return { bytes, digest: computed, contentType, size: bytes.length };
  }

  /** Asks for a manifest's digest, type and size without its body; undefined when it does not exist. */
  async headManifest(ref: Reference, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    const response = await this.call(ref, ['pull'], {
      method: 'HEAD',
      path: `/v2/${encodePath(ref.repository)}/manifests/${ref.identifier}`,
      headers: { [HEADER_ACCEPT]: MANIFEST_MEDIA_TYPES.join(', ') },
      allow: [404],
      signal: options.signal,
    });
    await response.body.dump();
    if (response.status === 404) return undefined;
    const claimed = header(response, HEADER_CONTENT_DIGEST);
    const size = Number(header(response, HEADER_CONTENT_LENGTH));
    return {
      digest: claimed !== undefined && isDigest(claimed) ? claimed : undefined,
      contentType: mediaTypeOf(header(response, HEADER_CONTENT_TYPE)),
      size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
    };
  }

  /** Fetches a small blob (an image config) by digest into memory, bounded by `maxBytes`, verifying its digest. */
  async getBlob(repo: Reference, digest: Digest, options: GetBlobOptions = {}): Promise<Uint8Array> {
    const limit = options.maxBytes ?? MAX_CONFIG_SIZE;
    const response = await this.call(repo, ['pull'], {
      method: 'GET',
      path: `/v2/${encodePath(repo.repository)}/blobs/${digest}`,
      signal: options.signal,
    });
    const bytes = await readBody(response, limit, { what: `blob ${digest}` });
    const actual = digestOf(bytes, digest);
    if (actual !== digest) {
      throw new ManifestError('DIGEST_MISMATCH', `blob ${digest} from the registry hashes to ${actual}`, { details: { host: repo.registry } });
    }
    return bytes;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /**
   * Sends an API request for a repository with authorisation: cached auth up front, or on a 401 the challenge
   * is answered and the request sent once more. Error statuses become typed errors.
   */
  private async call(ref: Reference, actions: readonly string[], req: ApiRequest): Promise<HttpResponse> {
    const host = ref.apiHost;
    const target: AuthTarget = {
      host,
      registry: ref.registry,
      repository: ref.repository,
      scopes: [`repository:${ref.repository}:${actions.join(',')}`],
    };
    const url = `${this.transport.baseUrl(host)}${req.path}`;
    const send = async (authorization: string | undefined): Promise<HttpResponse> => this.transport.send({
      method: req.method,
      url,
      headers: { ...req.headers, ...(authorization === undefined ? {} : { [HEADER_AUTHORIZATION]: authorization }) },
      ...(req.body === undefined ? {} : { body: req.body }),
      signal: req.signal,
    });
    const upfront = await this.auth.authorization(target, req.signal);
    let response = await send(upfront);
    if (response.status === 401 && new URL(response.url).origin !== new URL(url).origin) {
      // A redirect target asking for credentials is not the registry: answering would hand them to another host.
      await response.body.dump();
      throw new ManifestError('UNAUTHORIZED', `${req.method} ${redact(url)} was redirected to ${redact(response.url)}, which asks for credentials; they are sent only to ${host}`, {
        details: { host: ref.registry },
      });
    }
    if (response.status === 401) {
      const challenges = headerValues(response, HEADER_WWW_AUTHENTICATE);
      await response.body.dump();
      if (upfront !== undefined) await this.auth.forget(target);
      const retryWith = await this.auth.challenge(target, challenges, req.signal);
      response = await send(retryWith);
    }
    if ((response.status >= 200 && response.status < 300) || req.allow?.includes(response.status) === true) return response;
    if (response.status < 400) {
      await response.body.dump();
      throw new ManifestError('INVALID_RESPONSE', `${req.method} ${redact(response.url)}: unexpected status ${response.status}`, { details: { host: ref.registry } });
    }
    const err = await registryErrorFrom(response, req.method, response.url, { host: ref.registry });
    if (response.status === 401 || response.status === 403) {
      const source = await this.auth.credentialSource(target);
      const who = source === undefined ? 'anonymous access' : `the credentials from ${source}`;
      const what = response.status === 401 ? `refused ${who} for ${ref.repository}` : `denied ${who} access to ${ref.repository}`;
      throw new ManifestError(err.code, `${ref.registry} ${what}: ${err.message}`, {
        cause: err,
        details: { host: ref.registry, hadCredentials: source !== undefined },
      });
    }
    if (response.status === 400 && url.startsWith('http:') && /HTTP request to an HTTPS server/i.test(err.message)) {
      throw new ManifestError('TLS', `${host} speaks HTTPS, but plain HTTP was used`, { cause: err, details: { host: ref.registry, tls: 'https-server' } });
    }
    throw err;
  }
}
