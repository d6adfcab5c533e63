// The few registry API calls the harness needs to seed content, written against the distribution spec
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md) independently of src/.
import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { Dispatcher } from 'undici';

/** Bounds each seeding request; a loopback registry answers in milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Error bodies are only quoted in messages. */
const MAX_ERROR_TEXT = 2_000;

export interface RegistryApi {
  /** `http(s)://127.0.0.1:PORT`. */
  baseUrl: string;
  /** Agent trusting the test CA in TLS modes. */
  dispatcher: Dispatcher;
  /** Authorization header value allowing pull+push on repository; undefined when the registry needs none. */
  authorization(repository: string): string | undefined;
}

export interface ManifestPutResult {
  status: number;
  digest: string | undefined;
  /** Response body, for error messages. */
  text: string;
}

/** Computes `sha256:<hex>` of bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function headersFor(api: RegistryApi, repository: string, extra: Record<string, string>): Record<string, string> {
  const authorization = api.authorization(repository);
  // A user agent makes the harness's own requests easy to tell apart in the registry log.
  const headers = { 'user-agent': 'manifest-test-harness', ...extra };
  return authorization === undefined ? headers : { ...headers, authorization };
}

async function call(
  api: RegistryApi,
  repository: string,
  method: Dispatcher.HttpMethod,
  url: string,
  options: { headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<{ status: number; headers: Dispatcher.ResponseData['headers']; text: string }> {
  const response = await request(url, {
    method,
    dispatcher: api.dispatcher,
    headers: headersFor(api, repository, options.headers ?? {}),
    body: options.body === undefined ? null : Buffer.from(options.body),
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  // Always consume the body so the connection returns to the pool (a HEAD body is simply empty).
  const text = (await response.body.text()).slice(0, MAX_ERROR_TEXT);
  return { status: response.statusCode, headers: response.headers, text };
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Appends `digest=` to an upload Location, keeping its `_state` query; the Location may be relative. */
function uploadCompletionUrl(baseUrl: string, location: string, digest: string): string {
  const url = new URL(location, baseUrl);
  const separator = url.search === '' ? '?' : '&';
  return `${url.origin}${url.pathname}${url.search}${separator}digest=${encodeURIComponent(digest)}`;
}

/** Uploads bytes as a blob (POST then monolithic PUT) unless the repository already has it; returns its digest. */
export async function pushBlob(api: RegistryApi, repository: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const blobUrl = `${api.baseUrl}/v2/${repository}/blobs/${digest}`;
  const head = await call(api, repository, 'HEAD', blobUrl);
  if (head.status === 200) return digest;
  const start = await call(api, repository, 'POST', `${api.baseUrl}/v2/${repository}/blobs/uploads/`);
  const location = header(start.headers, 'location');
  if (start.status !== 202 || location === undefined) {
    throw new Error(`POST blob upload in ${repository}: ${start.status} ${start.text}`);
  }
  const done = await call(api, repository, 'PUT', uploadCompletionUrl(api.baseUrl, location, digest), {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    body: bytes,
  });
  if (done.status !== 201) throw new Error(`PUT blob ${digest} in ${repository}: ${done.status} ${done.text}`);
  return digest;
}

/** PUTs manifest bytes under reference with the given Content-Type; reports the status, never throws on it. */
export async function putManifestBytes(
  api: RegistryApi,
  repository: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
): Promise<ManifestPutResult> {
  const result = await call(api, repository, 'PUT', `${api.baseUrl}/v2/${repository}/manifests/${reference}`, {
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  return { status: result.status, digest: header(result.headers, 'docker-content-digest'), text: result.text };
}
