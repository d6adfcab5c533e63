/**
 * Registry API calls (OCI distribution spec v1.1): manifests and blobs, authorised and verified. Every manifest
 * or blob fetched is hashed from its bytes; `Docker-Content-Digest` is a claim checked against them, never trusted.
 */
import { pipeline, type Readable } from 'node:stream';
import { digestOf, isDigest, type Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { redact, silentLogger, type Logger } from '../log.js';
import { verifyingStream } from '../verifying-stream.js';
import {
  HEADER_ACCEPT, HEADER_AUTHORIZATION, HEADER_CONTENT_DIGEST, HEADER_CONTENT_LENGTH, HEADER_CONTENT_TYPE,
  HEADER_LOCATION, HEADER_WWW_AUTHENTICATE, MANIFEST_MEDIA_TYPES, MEDIA_TYPE_OCTET_STREAM,
} from '../media-types.js';
import { DOCKER_HUB_API_HOST, DOCKER_HUB_REGISTRY, type Reference } from '../ref.js';
import { Authenticator, type AuthTarget } from './auth.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { CredentialStore } from './credentials.js';
import { RegistryError, registryErrorFrom } from './errors.js';
import { parseNextLink } from './link.js';
import { abandonBody, abandonStream, discardBody, header, headerValues, isBrokenBody, isRetryableError, networkError, readBody, Transport, type HttpMethod, type HttpResponse, type RequestBody } from './transport.js';

/** Largest manifest accepted (distribution's own limit is 4 MiB). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
/** Largest config blob read into memory. */
export const MAX_CONFIG_SIZE = 4 * 1024 * 1024;
/** Longest wait for a clean-up request (cancelling an upload session). */
const CLEANUP_TIMEOUT_MS = 5_000;
/** Most names listTags and listCatalog return when no limit is given. */
export const MAX_LISTED_NAMES = 1_000_000;
/** Largest page of a tag or catalog listing read. */
const MAX_LIST_PAGE = 8 * 1024 * 1024;
/** Most pages followed in one listing (a registry sending links forever is stopped). */
const MAX_LIST_PAGES = 100_000;
/** Blobs getBlob keeps for the client's lifetime: configs of up to 64 KiB, 1 024 of them (64 MiB at most). */
const SMALL_BLOB_CACHE = { maxBytes: 64 * 1024, entries: 1024 } as const;

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
  /** Once aborted, nothing failed is tried again (see HttpRequest.retrySignal); when omitted, `signal` alone decides. */
  retrySignal?: AbortSignal | undefined;
}

/** Options of getBlob. */
export interface GetBlobOptions extends CallOptions {
  /** Largest blob accepted; when omitted, MAX_CONFIG_SIZE. */
  maxBytes?: number;
}

/** Options of listTags and listCatalog. */
export interface ListNamesOptions extends CallOptions {
  /** Names asked for per page (the `n` parameter); when omitted, the registry's own page size. */
  pageSize?: number;
  /** List only names after this one (the `last` parameter); when omitted, from the first. */
  last?: string;
  /** Most names returned in all; when omitted, MAX_LISTED_NAMES. A longer listing fails with TOO_LARGE. */
  limit?: number;
}

/** A blob being read: a stream that fails at its end unless its bytes are the digest's (and the announced size). */
export interface BlobStream {
  digest: Digest;
  /** Content-Length the registry announced (checked against the bytes), when it sent one. */
  size: number | undefined;
  /** The bytes; the last chunk arrives only once they are verified, else the stream errors. */
  stream: Readable;
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

/** Manifest bytes to upload, with the digest computed from them and the type they declare. */
export interface ManifestUpload {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
}

/** A blob to copy or check: its digest and size, as a descriptor names them. */
export interface BlobRef {
  digest: Digest;
  size: number;
}

/** How a blob reached the target repository. */
export type BlobCopyOutcome = 'present' | 'mounted' | 'copied';

interface ApiRequest extends CallOptions {
  method: HttpMethod;
  /** Path under the registry's base URL; or `url`, an absolute URL the registry gave (an upload Location). */
  path: string;
  url?: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Whether the request may be sent twice (see HttpRequest.idempotent); when omitted, the method decides. */
  idempotent?: boolean;
  /** Statuses returned to the caller instead of thrown (404 for an existence check). */
  allow?: readonly number[];
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const value = contentType?.split(';')[0]?.trim().toLowerCase();
  return value === '' ? undefined : value;
}


/** Token scope for pushing to a repository (pull is part of it: uploads check what exists). */
function pushScope(ref: Reference): string {
  return `repository:${ref.repository}:pull,push`;
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

/** Runs `use` with `client`, or, when none is given, with a new client made from `options` and closed afterwards. */
export async function withClient<T>(client: RegistryClient | undefined, options: RegistryClientOptions, use: (client: RegistryClient) => Promise<T>): Promise<T> {
  if (client !== undefined) return use(client);
  const own = new RegistryClient(options);
  try {
    return await use(own);
  } finally {
    await own.close();
  }
}

/** Talks to registries: one instance shares connections, challenges and tokens across all its calls. */
export class RegistryClient {
  readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly logger: Logger;
  /** Repositories ("registry/repository") this client will push to: their pulls ask for push rights too. */
  private readonly pushRepositories = new Set<string>();
  /** Configs read by digest, by "registry/repository@digest" (SMALL_BLOB_CACHE bounds it). */
  private readonly smallBlobs = new Map<string, Uint8Array>();

  constructor(options: RegistryClientOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.transport = options.transport ?? new Transport({ logger: this.logger });
    this.auth = new Authenticator(this.transport, {
      logger: this.logger,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
  }

  /**
   * Declares that this client will push to `repo`: every request to it then asks for a pull and push token, so
   * one token serves the whole push instead of one for reads and another for writes.
   */
  willPush(repo: Reference): void {
    this.pushRepositories.add(repo.name);
  }

  /** Calls GET /v2/ and reports its status and challenges (no authentication is attempted). */
  async ping(registryHost: string, options: CallOptions = {}): Promise<PingResult> {
    const url = `${this.transport.baseUrl(registryHost)}/v2/`;
    const response = await this.transport.send({ method: 'GET', url, signal: options.signal });
    await discardBody(response);
    return { status: response.status, challenges: parseChallenges(headerValues(response, HEADER_WWW_AUTHENTICATE)) };
  }

  /**
   * Checks that the registry accepts the credentials its store has for `registry` (as `docker login` does): GET
   * /v2/, answering its challenge (basic, or a token with no scope). Throws UNAUTHORIZED (or DENIED) when refused.
   */
  async checkCredentials(registry: string, apiHost: string, options: CallOptions = {}): Promise<void> {
    const target: AuthTarget = { host: apiHost, registry, scopes: [] };
    const url = `${this.transport.baseUrl(apiHost)}/v2/`;
    const get = (authorization: string | undefined): Promise<HttpResponse> => this.transport.send({
      method: 'GET', url, headers: authorization === undefined ? {} : { [HEADER_AUTHORIZATION]: authorization }, signal: options.signal,
    });
    let response = await get(undefined);
    if (response.status === 401) {
      const challenges = headerValues(response, HEADER_WWW_AUTHENTICATE);
      await discardBody(response);
      response = await get(await this.auth.challenge(target, challenges, options.signal));
    }
    if (response.status >= 200 && response.status < 300) {
      await discardBody(response);
      return;
    }
    const err = await registryErrorFrom(response, 'GET', response.url, { host: registry, hadCredentials: true });
    if (response.status === 401 || response.status === 403) {
      throw new ManifestError(err.code, `${registry} refused the credentials: ${err.message}`, { cause: err, details: { host: registry, hadCredentials: true } });
    }
    throw err;
  }

  /** Fetches a manifest by tag or digest and verifies its digest from the bytes. */
  async getManifest(ref: Reference, options: CallOptions = {}): Promise<FetchedManifest> {
    const what = `manifest ${ref.identifier}`;
    const { response, bytes } = await this.fetchBody(what, MAX_MANIFEST_SIZE, options.signal, () => this.call(ref, [this.pullScope(ref)], {
      method: 'GET',
      path: `/v2/${encodePath(ref.repository)}/manifests/${ref.identifier}`,
      headers: { [HEADER_ACCEPT]: MANIFEST_MEDIA_TYPES.join(', ') },
      signal: options.signal,
    }).catch((err: unknown) => { throw notFoundContext(err, ref); }));
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

  /**
   * Sends a GET and reads its body, at most `limit` bytes; when the connection breaks while the body arrives (send
   * retries only failures before the headers), the request is sent again with the transport's backoff.
   */
  private fetchBody(what: string, limit: number, signal: AbortSignal | undefined, get: () => Promise<HttpResponse>): Promise<{ response: HttpResponse; bytes: Uint8Array }> {
    return this.transport.retrying(`reading ${what}`, async () => {
      const response = await get();
      return { response, bytes: await readBody(response, limit, { what }) };
    }, isBrokenBody, signal);
  }

  /** Asks for a manifest's digest, type and size without its body; undefined when it does not exist. */
  async headManifest(ref: Reference, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    const response = await this.call(ref, [this.pullScope(ref)], {
      method: 'HEAD',
      path: `/v2/${encodePath(ref.repository)}/manifests/${ref.identifier}`,
      headers: { [HEADER_ACCEPT]: MANIFEST_MEDIA_TYPES.join(', ') },
      allow: [404],
      signal: options.signal,
    });
    await discardBody(response);
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
    // A digest names its bytes for good: a batch whose specs share sources reads each config once. Keyed by
    // repository too, so a repository the credentials cannot read is still asked.
    const key = `${repo.registry}/${repo.repository}@${digest}`;
    const cached = this.smallBlobs.get(key);
    if (cached !== undefined && cached.length <= limit) return cached;
    const { bytes } = await this.fetchBody(`blob ${digest}`, limit, options.signal, () => this.call(repo, [this.pullScope(repo)], {
      method: 'GET',
      path: `/v2/${encodePath(repo.repository)}/blobs/${digest}`,
      signal: options.signal,
    }));
    const actual = digestOf(bytes, digest);
    if (actual !== digest) {
      throw new ManifestError('DIGEST_MISMATCH', `blob ${digest} from the registry hashes to ${actual}`, { details: { host: repo.registry } });
    }
    if (bytes.length <= SMALL_BLOB_CACHE.maxBytes && this.smallBlobs.size < SMALL_BLOB_CACHE.entries) this.smallBlobs.set(key, bytes);
    return bytes;
  }

  /**
   * Opens a blob for reading, streamed (never held whole): the returned stream hashes the bytes as they pass and
   * fails at its end with DIGEST_MISMATCH (or SIZE_MISMATCH against Content-Length) when they are not the blob's.
   * The caller must consume or destroy the stream.
   */
  async getBlobStream(repo: Reference, digest: Digest, options: CallOptions = {}): Promise<BlobStream> {
    const response = await this.blobResponse(repo, digest, options).catch((err: unknown) => { throw blobNotFoundContext(err, repo, digest); });
    const declared = Number(header(response, HEADER_CONTENT_LENGTH));
    const size = header(response, HEADER_CONTENT_LENGTH) !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
    const stream = verifyingStream({ digest, size }, repo.name, 'its Content-Length');
    // Not pipeline(): a broken connection must reach the reader as a typed network error, not undici's own.
    response.body.on('error', (err) => { stream.destroy(networkError(err, repo.registry, `reading blob ${digest} from ${repo.name}`)); });
    stream.on('close', () => { response.body.destroy(); });
    response.body.pipe(stream);
    return { digest, size, stream };
  }

  /**
   * Lists a repository's tags, following `Link` pagination (GHCR sends 100 a page; a registry that ignores `n`
   * sends all at once, without a Link). Names come in the registry's order.
   */
  async listTags(repo: Reference, options: ListNamesOptions = {}): Promise<string[]> {
    return this.listNames(repo, [this.pullScope(repo)], `/v2/${encodePath(repo.repository)}/tags/list`, 'tags', options)
      .catch((err: unknown) => { throw err instanceof RegistryError && err.code === 'NOT_FOUND' ? withContext(`repository ${repo.name} not found`, err) : err; });
  }

  /**
   * Lists the repositories of a registry (GET /v2/_catalog, an extension of the distribution spec), following
   * `Link` pagination. Registries without a catalog answer 404 (NOT_FOUND) or refuse it (UNAUTHORIZED, DENIED).
   */
  async listCatalog(registry: string, options: ListNamesOptions = {}): Promise<string[]> {
    const apiHost = registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : registry;
    return this.listNames({ registry, apiHost }, ['registry:catalog:*'], '/v2/_catalog', 'repositories', options);
  }

  /** Reads every page of a listing: each page's names under `key`, the next page from the Link header. */
  private async listNames(target: CallTarget, scopes: readonly string[], path: string, key: 'tags' | 'repositories', options: ListNamesOptions): Promise<string[]> {
    const limit = options.limit ?? MAX_LISTED_NAMES;
    const query = new URLSearchParams();
    if (options.pageSize !== undefined) query.set('n', String(options.pageSize));
    if (options.last !== undefined) query.set('last', options.last);
    const base = this.transport.baseUrl(target.apiHost);
    let url: string | undefined = `${base}${path}${query.size === 0 ? '' : `?${query.toString()}`}`;
    const seen = new Set<string>();
    const names: string[] = [];
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_LIST_PAGES || seen.has(url)) {
        throw new ManifestError('INVALID_RESPONSE', `${target.registry} keeps sending further pages of ${path} (${page} read, ${names.length} names)`, { details: { host: target.registry } });
      }
      seen.add(url);
      const pageUrl: string = url;
      const { response, bytes } = await this.fetchBody(`page ${page + 1} of ${path}`, MAX_LIST_PAGE, options.signal, () => this.call(target, scopes, {
        method: 'GET',
        path: '',
        url: pageUrl,
        signal: options.signal,
      }));
      names.push(...namesOfPage(bytes, key, target.registry));
      if (names.length > limit) throw new ManifestError('TOO_LARGE', `${path} on ${target.registry} lists more than ${limit} names`, { details: { host: target.registry } });
      const next = parseNextLink(headerValues(response, 'link'));
      url = next === undefined ? undefined : nextPageUrl(next, response.url, base, target.registry);
    }
    // `last` asks for the names after it in lexical order (distribution spec); a registry that ignores it (the
    // tags list of distribution 2.8) sends them all: the names up to `last` are left out here then.
    const last = options.last;
    return last === undefined ? names : names.filter((name) => name > last);
  }

  /**
   * Uploads manifest bytes under `ref`'s tag or digest, exactly as given, with their media type as Content-Type
   * (design.md §8: registries check it against the body). The registry's Docker-Content-Digest, when sent, must be
   * the digest of those bytes.
   */
  async putManifest(ref: Reference, manifest: ManifestUpload, options: CallOptions = {}): Promise<void> {
    const put = (): Promise<HttpResponse> => this.call(ref, [pushScope(ref)], {
      method: 'PUT',
      path: `/v2/${encodePath(ref.repository)}/manifests/${ref.identifier}`,
      headers: { [HEADER_CONTENT_TYPE]: manifest.mediaType },
      body: manifest.bytes,
      signal: options.signal,
      retrySignal: options.retrySignal,
    });
    // A manifest is pushed after what it references; a refusal for an "unknown" child or blob right then is the
    // registry committing late (Nexus with lists; distribution when concurrent mounts rewrite the same link
    // file), so it is sent again with backoff (design.md §8).
    const response = await this.transport.retrying(`pushing manifest ${manifest.digest}`, put, isChildUnknown, options.retrySignal ?? options.signal);
    await discardBody(response);
    const claimed = header(response, HEADER_CONTENT_DIGEST);
    if (claimed !== undefined && claimed !== manifest.digest) {
      throw new ManifestError('DIGEST_MISMATCH', `${ref.registry} stored the manifest for ${ref.identifier} as ${claimed.slice(0, 140)}, not ${manifest.digest}`, {
        details: { host: ref.registry },
      });
    }
    this.logger.debug(`pushed manifest ${manifest.digest} as ${ref.toString()}`);
  }

  /** Tells whether a blob is in a repository (HEAD; a redirect to storage counts as present). */
  async hasBlob(repo: Reference, digest: Digest, options: CallOptions = {}): Promise<boolean> {
    const response = await this.call(repo, [this.pullScope(repo)], {
      method: 'HEAD',
      path: `/v2/${encodePath(repo.repository)}/blobs/${digest}`,
      allow: [404],
      signal: options.signal,
    });
    await discardBody(response);
    return response.status !== 404;
  }

  /**
   * Makes a blob present in `target`'s repository, cheapest way first: already there; mounted from `source`'s
   * repository on the same registry; else streamed from `source` (never held whole in memory) and uploaded.
   * A refused mount (Harbor's 401, ECR's refusal, a 202 upload session) is never fatal: it falls back to a copy.
   */
  async copyBlob(source: Reference, target: Reference, blob: BlobRef, options: CallOptions = {}): Promise<BlobCopyOutcome> {
    if (await this.hasBlob(target, blob.digest, options)) return 'present';
    let uploadUrl: string | undefined;
    if (source.registry === target.registry && source.repository !== target.repository) {
      const mount = await this.mountBlob(source, target, blob.digest, options);
      if (mount.mounted) return 'mounted';
      uploadUrl = mount.uploadUrl;
    }
    try {
      let session = uploadUrl;
      const renewal = { done: false };
      // A broken stream cannot be resent: the whole copy (GET and upload) starts again, in a fresh session.
      await this.transport.retrying(`copying blob ${blob.digest}`, async () => {
        const url = session;
        session = undefined;
        await this.renewingToken(target, blob, renewal, (again) => this.streamBlob(source.name, source.registry, () => this.openBlob(source, blob, options), target, blob, again ? undefined : url, options));
        // Only a broken stream or connection: a 5xx or 429 answer has had its retries in Transport.send already.
      }, isRetryableError, options.signal);
    } catch (err) {
      // An upload session the mount opened is cancelled, not left to expire (design.md §8).
      if (uploadUrl !== undefined) await this.cancelUpload(target, uploadUrl);
      throw err;
    }
    return 'copied';
  }

  /**
   * Asks the registry to mount a blob from another repository (distribution spec: cross-repository blob mount).
   * 201 means mounted; 202 opened an upload session instead, whose URL is returned for the copy to use.
   */
  async mountBlob(source: Reference, target: Reference, digest: Digest, options: CallOptions = {}): Promise<{ mounted: boolean; uploadUrl?: string }> {
    const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(source.repository)}`;
    let response: HttpResponse;
    try {
      response = await this.call(target, [pushScope(target), this.pullScope(source)], {
        method: 'POST',
        path: `/v2/${encodePath(target.repository)}/blobs/uploads/?${query}`,
        headers: { [HEADER_CONTENT_LENGTH]: '0' },
        // A second mount of the same blob, or a spare upload session, does no harm.
        idempotent: true,
        signal: options.signal,
      });
    } catch (err) {
      if (err instanceof ManifestError && err.code === 'ABORTED') throw err;
      this.logger.debug(`mount of ${digest} from ${source.repository} refused (${err instanceof Error ? err.message : String(err)}); copying instead`);
      return { mounted: false };
    }
    await discardBody(response);
    if (response.status === 201) {
      this.logger.debug(`mounted ${digest} from ${source.repository} into ${target.repository}`);
      return { mounted: true };
    }
    const location = header(response, HEADER_LOCATION);
    if (location === undefined) return { mounted: false };
    try {
      return { mounted: false, uploadUrl: this.uploadLocation(location, response.url, target) };
    } catch {
      return { mounted: false };
    }
  }

  /**
   * Opens a blob of `repo` for streaming (GET): the response body, once its declared length agrees with
   * `blob.size`. The caller verifies the bytes as they pass (verifyingStream) and destroys the stream when done.
   */
  async openBlob(repo: Reference, blob: BlobRef, options: CallOptions = {}): Promise<Readable> {
    const response = await this.blobResponse(repo, blob.digest, options);
    const declared = Number(header(response, HEADER_CONTENT_LENGTH));
    if (Number.isFinite(declared) && declared !== blob.size) {
      abandonBody(response);
      throw new ManifestError('SIZE_MISMATCH', `blob ${blob.digest} of ${repo.name} is ${declared} bytes, but its descriptor says ${blob.size}`, {
        details: { host: repo.registry },
      });
    }
    return response.body;
  }

  /** GETs a blob and returns the answer with its body unread, for the caller to stream. */
  private blobResponse(repo: Reference, digest: Digest, options: CallOptions): Promise<HttpResponse> {
    return this.call(repo, [this.pullScope(repo)], { method: 'GET', path: `/v2/${encodePath(repo.repository)}/blobs/${digest}`, signal: options.signal });
  }

  /**
   * Makes a blob present in `target`'s repository from a stream that `open` gives (an archive, another store):
   * nothing to do when it is there; else the stream is hashed on the way into one upload. A broken stream or
   * connection starts the whole copy again in a fresh upload session (`open` is called again).
   */
  async uploadBlobFrom(target: Reference, blob: BlobRef, sourceName: string, open: (signal: AbortSignal | undefined) => Promise<Readable>, options: CallOptions = {}): Promise<BlobCopyOutcome> {
    if (await this.hasBlob(target, blob.digest, options)) return 'present';
    const renewal = { done: false };
    await this.transport.retrying(`copying blob ${blob.digest}`, async () => {
      await this.renewingToken(target, blob, renewal, () => this.streamBlob(sourceName, undefined, () => open(options.signal), target, blob, undefined, options));
    }, isRetryableError, options.signal);
    return 'copied';
  }

  /**
   * Runs a streamed upload of `blob`. A token the registry accepted for the session may be revoked or expire early
   * while the blob streams, and a stream cannot be answered with a fresh token like other requests: on that
   * refusal a new token is fetched and `upload` runs again (`again` true), once per `renewal`.
   */
  private async renewingToken(target: Reference, blob: BlobRef, renewal: { done: boolean }, upload: (again: boolean) => Promise<void>): Promise<void> {
    try {
      await upload(false);
    } catch (err) {
      if (renewal.done || !(err instanceof ManifestError) || err.code !== 'UNAUTHORIZED') throw err;
      renewal.done = true;
      this.logger.debug(`upload of blob ${blob.digest} refused its token; sending it again with a new one`);
      await this.auth.forget({ host: target.apiHost, registry: target.registry, repository: target.repository, scopes: [pushScope(target)] });
      await upload(true);
    }
  }

  /**
   * Streams a blob from what `open` gives into an upload to `target`, hashing it on the way. `sourceHost` names
   * the registry a broken source stream is blamed on (undefined for a local source). The source is opened and the
   * upload session (unless `uploadUrl` names one) is opened together: one round trip per copied blob fewer.
   */
  private async streamBlob(sourceName: string, sourceHost: string | undefined, open: () => Promise<Readable>, target: Reference, blob: BlobRef, uploadUrl: string | undefined, options: CallOptions): Promise<void> {
    const opening = uploadUrl === undefined ? this.openUpload(target, options) : undefined;
    // Awaited below on every path; marked handled so that a failure while the source opens is not unhandled.
    opening?.catch(() => undefined);
    let body: Readable;
    try {
      body = await open();
    } catch (err) {
      // The session opened for nothing is cancelled, not left to expire.
      const opened = await opening?.catch(() => undefined);
      if (opened !== undefined) await this.cancelUpload(target, opened);
      throw err;
    }
    try {
      uploadUrl = (await opening) ?? uploadUrl;
    } catch (err) {
      body.destroy();
      throw err;
    }
    const checked = verifyingStream(blob, sourceName);
    let sourceError: unknown;
    pipeline(body, checked, (err) => {
      // A premature close is the pipeline torn down from the upload's side: not the source's fault.
      if (err !== null && err !== undefined && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') sourceError ??= err;
    });
    try {
      await this.pushBlob(target, blob, checked, { ...options, ...(uploadUrl === undefined ? {} : { uploadUrl }) });
    } catch (err) {
      // The upload fails whenever its source does: then name the source, not the registry that saw a broken body.
      if (sourceError === undefined) throw err;
      if (sourceHost === undefined) throw withContext(`reading blob ${blob.digest} from ${sourceName}`, sourceError);
      throw networkError(sourceError, sourceHost, `reading blob ${blob.digest} from ${sourceName}`);
    } finally {
      abandonStream(body);
    }
  }

  /** Cancels an upload session the registry opened (a 202 to a mount); failures are only logged. */
  private async cancelUpload(target: Reference, uploadUrl: string): Promise<void> {
    try {
      // Sent after a failure, often an interrupt: its own short bound, not the command's (perhaps spent) signal.
      const response = await this.call(target, [pushScope(target)], { method: 'DELETE', path: '', url: uploadUrl, allow: [404], signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
      await discardBody(response);
    } catch (err) {
      this.logger.debug(`cancelling upload ${redact(uploadUrl)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Resolves an upload Location against the URL that gave it, refusing a downgrade from https to http. */
  private uploadLocation(location: string, base: string, target: Reference): string {
    let url: URL;
    try {
      url = new URL(location, base);
    } catch {
      throw new ManifestError('INVALID_RESPONSE', `${target.registry} gave an invalid upload location`, { details: { host: target.registry } });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ManifestError('INVALID_RESPONSE', `${target.registry} gave an upload location with scheme ${url.protocol}`, { details: { host: target.registry } });
    }
    if (new URL(base).protocol === 'https:' && url.protocol === 'http:') {
      // Typical of a TLS-terminating proxy that does not pass X-Forwarded-Proto: blob bytes would travel in clear.
      throw new ManifestError('REJECTED', `${target.registry} gave a plain http upload location (${redact(url.href)}) over https; refused (a proxy in front of the registry may need X-Forwarded-Proto)`, {
        details: { host: target.registry },
      });
    }
    return url.href;
  }

  /**
   * Uploads a blob in one PUT (the distribution spec's monolithic upload): opens a session unless `uploadUrl`
   * names one, then sends the bytes with their digest. A stream body is sent as it is read.
   */
  async pushBlob(target: Reference, blob: BlobRef, body: Uint8Array | Readable, options: CallOptions & { uploadUrl?: string } = {}): Promise<void> {
    const location = options.uploadUrl ?? await this.openUpload(target, options);
    // The Location may carry state (`_state=…`), possibly signed: keep its query byte for byte, add the digest.
    const hash = location.indexOf('#');
    const bare = hash < 0 ? location : location.slice(0, hash);
    const url = `${bare}${bare.includes('?') ? '&' : '?'}digest=${encodeURIComponent(blob.digest)}`;
    const response = await this.call(target, [pushScope(target)], {
      method: 'PUT',
      path: '',
      url,
      headers: { [HEADER_CONTENT_TYPE]: MEDIA_TYPE_OCTET_STREAM, [HEADER_CONTENT_LENGTH]: String(blob.size) },
      body,
      signal: options.signal,
    });
    await discardBody(response);
    const claimed = header(response, HEADER_CONTENT_DIGEST);
    if (claimed !== undefined && claimed !== blob.digest) {
      throw new ManifestError('DIGEST_MISMATCH', `${target.registry} stored blob ${blob.digest} as ${claimed.slice(0, 140)}`, { details: { host: target.registry } });
    }
    this.logger.debug(`uploaded blob ${blob.digest} (${blob.size} bytes) to ${target.name}`);
  }

  /** Opens an upload session in `target`'s repository and returns its URL. */
  private async openUpload(target: Reference, options: CallOptions): Promise<string> {
    const opened = await this.call(target, [pushScope(target)], {
      method: 'POST',
      path: `/v2/${encodePath(target.repository)}/blobs/uploads/`,
      headers: { [HEADER_CONTENT_LENGTH]: '0' },
      idempotent: true,
      signal: options.signal,
    });
    await discardBody(opened);
    const given = header(opened, HEADER_LOCATION);
    if (given === undefined) {
      throw new ManifestError('INVALID_RESPONSE', `${target.registry} opened an upload without a Location header`, { details: { host: target.registry } });
    }
    return this.uploadLocation(given, opened.url, target);
  }

  /** Returns the token scope for reading `ref`'s repository: pull, or pull and push when it is pushed to. */
  private pullScope(ref: Reference): string {
    return this.pushRepositories.has(ref.name) ? pushScope(ref) : `repository:${ref.repository}:pull`;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /**
   * Sends an API request for a repository with authorisation: cached auth up front, or on a 401 the challenge
   * is answered and the request sent once more. Error statuses become typed errors.
   */
  private async call(ref: CallTarget, scopes: readonly string[], req: ApiRequest): Promise<HttpResponse> {
    const host = ref.apiHost;
    const target: AuthTarget = { host, registry: ref.registry, ...(ref.repository === undefined ? {} : { repository: ref.repository }), scopes };
    const base = this.transport.baseUrl(host);
    const url = req.url ?? `${base}${req.path}`;
    // An upload Location on another origin (a storage front end) gets no credentials of the registry.
    const sameOrigin = new URL(url).origin === new URL(base).origin;
    const send = async (authorization: string | undefined): Promise<HttpResponse> => this.transport.send({
      method: req.method,
      url,
      headers: { ...req.headers, ...(authorization === undefined || !sameOrigin ? {} : { [HEADER_AUTHORIZATION]: authorization }) },
      ...(req.body === undefined ? {} : { body: req.body }),
      ...(req.idempotent === undefined ? {} : { idempotent: req.idempotent }),
      signal: req.signal,
      retrySignal: req.retrySignal,
    });
    const upfront = await this.auth.authorization(target, req.signal);
    let response = await send(upfront);
    if (response.status === 401 && new URL(response.url).origin !== new URL(url).origin) {
      // A redirect target asking for credentials is not the registry: answering would hand them to another host.
      await discardBody(response);
      throw new ManifestError('UNAUTHORIZED', `${req.method} ${redact(url)} was redirected to ${redact(response.url)}, which asks for credentials; they are sent only to ${host}`, {
        details: { host: ref.registry },
      });
    }
    if (response.status === 401 && !isStream(req.body)) {
      const challenges = headerValues(response, HEADER_WWW_AUTHENTICATE);
      await discardBody(response);
      if (upfront !== undefined) await this.auth.forget(target);
      const retryWith = await this.auth.challenge(target, challenges, req.signal);
      response = await send(retryWith);
    }
    if ((response.status >= 200 && response.status < 300) || req.allow?.includes(response.status) === true) return response;
    if (response.status < 400) {
      await discardBody(response);
      throw new ManifestError('INVALID_RESPONSE', `${req.method} ${redact(response.url)}: unexpected status ${response.status}`, { details: { host: ref.registry } });
    }
    const err = await registryErrorFrom(response, req.method, response.url, { host: ref.registry });
    if (response.status === 401 || response.status === 403) {
      const source = await this.auth.credentialSource(target);
      const who = source === undefined ? 'anonymous access' : `the credentials from ${source}`;
      const resource = ref.repository ?? 'the catalog';
      // The token the realm gave for these credentials lacks what was asked (a read-only account pushing): the
      // credentials are right, the account's rights are not.
      const insufficient = parseChallenges(headerValues(response, HEADER_WWW_AUTHENTICATE)).some((c) => c.params.error === 'insufficient_scope');
      if (response.status === 401 && insufficient && source !== undefined) {
        const wanted = scopes.some((scope) => scope.endsWith(':push') || scope.includes(',push')) ? 'push' : 'pull';
        throw new ManifestError('DENIED', `${ref.registry} accepted the credentials from ${source}, but the account has no ${wanted} access to ${resource}: ${err.message}`, {
          cause: err,
          details: { host: ref.registry, hadCredentials: true },
        });
      }
      const what = response.status === 401 ? `refused ${who} for ${resource}` : `denied ${who} access to ${resource}`;
      throw new ManifestError(err.code, `${ref.registry} ${what}: ${err.message}`, {
        cause: err,
        details: { host: ref.registry, hadCredentials: source !== undefined },
      });
    }
    const httpsServer = response.status === 400 && url.startsWith('http:')
      // A HEAD's 400 has no body to tell why: the same URL is asked once with GET, whose body a TLS server fills.
      && (HTTPS_ONLY_ANSWER.test(err.message) || (req.method === 'HEAD' && await this.answersHttpsOnly(url, req.signal)));
    if (httpsServer) {
      throw new ManifestError('TLS', `${host} speaks HTTPS, but plain HTTP was used`, { cause: err, details: { host: ref.registry, tls: 'https-server' } });
    }
    throw err;
  }

  /** Tells whether a plain-HTTP GET of `url` gets a TLS server's "HTTP request to an HTTPS server" answer (or nginx's). */
  private async answersHttpsOnly(url: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      const probe = await this.transport.send({ method: 'GET', url, headers: {}, signal });
      const bytes = await readBody(probe, 4096, { truncate: true, what: 'probe answer' });
      return probe.status === 400 && HTTPS_ONLY_ANSWER.test(Buffer.from(bytes).toString('latin1'));
    } catch {
      return false;
    }
  }
}

/** What a TLS server answers a plain HTTP request with: Go's net/http (registries), nginx (fronts). */
const HTTPS_ONLY_ANSWER = /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i;

/** What a request is for: a repository (a Reference), or a registry alone (the catalog). */
type CallTarget = Pick<Reference, 'apiHost' | 'registry'> & { repository?: string | undefined };

function isStream(body: RequestBody | undefined): body is Readable {
  return body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array);
}

/** Says which blob was not found, from the registry's codes: the repository (NAME_UNKNOWN) or the blob in it. */
function blobNotFoundContext(err: unknown, repo: Reference, digest: Digest): unknown {
  if (!(err instanceof RegistryError) || err.code !== 'NOT_FOUND') return err;
  const what = err.diagnostics.some((d) => d.code === 'NAME_UNKNOWN') ? `repository ${repo.name} not found` : `blob ${digest} not found in ${repo.name}`;
  return withContext(what, err);
}

/** Reads the names of one listing page, `{"tags": [...]}` or `{"repositories": [...]}`, checking their shape. */
function namesOfPage(bytes: Uint8Array, key: 'tags' | 'repositories', host: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new ManifestError('INVALID_RESPONSE', `${host} sent a listing that is not JSON`, { details: { host } });
  }
  const names = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[key] : undefined;
  // distribution sends "tags": null for a repository whose tags were all deleted.
  if (names === null) return [];
  if (!Array.isArray(names) || !names.every((n): n is string => typeof n === 'string' && n.length > 0 && n.length <= 1024)) {
    throw new ManifestError('INVALID_RESPONSE', `${host} sent a listing without a "${key}" list of names`, { details: { host } });
  }
  return names;
}

/** Resolves a next-page link against the page's URL; it must stay on the registry, under /v2/. */
function nextPageUrl(link: string, pageUrl: string, base: string, host: string): string {
  let url: URL;
  try {
    url = new URL(link, pageUrl);
  } catch {
    throw new ManifestError('INVALID_RESPONSE', `${host} sent an invalid next-page link`, { details: { host } });
  }
  if (url.origin !== new URL(base).origin || !url.pathname.startsWith('/v2/')) {
    throw new ManifestError('INVALID_RESPONSE', `${host} sent a next-page link to ${redact(url.origin + url.pathname)}, outside its /v2/ API`, { details: { host } });
  }
  url.hash = '';
  return url.href;
}

/** A pass-through stream that hashes and counts a blob's bytes and fails at the end if they are not the blob's. */
/** Tells whether a manifest PUT was refused for a child or blob the registry does not know (yet). */
function isChildUnknown(err: unknown): boolean {
  return err instanceof RegistryError && err.diagnostics.some((d) => d.code === 'MANIFEST_BLOB_UNKNOWN' || d.code === 'BLOB_UNKNOWN');
}
