/**
 * A static registry's files as objects of an S3 or S3-compatible bucket, through the AWS SDK v3. Only this module
 * imports the SDK, and only when an s3:// store is opened (start-up time does not grow). Each object carries the
 * Content-Type it is served with, the only header S3 keeps per object; large blobs go up as streamed multipart
 * uploads, which appear whole when completed and are aborted on failure. Credentials come from the SDK's
 * default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws files, SSO, instance roles.
 */
import { Readable } from 'node:stream';
// Types only (erased): the SDK itself is loaded by openS3Backend, when an s3:// store is used.
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import { ManifestError } from '../errors.js';
import type { CallOptions } from '../registry/client.js';
import type { ReadObject, StaticBackend, StoredObject } from './static-backend.js';
import { formatStaticLocation, type S3Location } from './static-location.js';

/** Parts of multipart uploads (S3 wants at least 5 MiB but the last); blobs up to one part go in one PUT. */
const PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight per blob: memory is at most PART_SIZE times this per blob. */
const PART_CONCURRENCY = 4;

type Sdk = typeof S3Sdk;

interface SdkError {
  name?: string;
  message?: string;
  /** A system error's code, when the endpoint could not be reached (ECONNREFUSED, ENOTFOUND…). */
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Why an endpoint could not be reached, in words, by the system error's code. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'reset the connection',
  ETIMEDOUT: 'did not answer in time',
  EHOSTUNREACH: 'is unreachable',
  ENETUNREACH: 'is unreachable',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that does not resolve',
};

/** Opens the S3 backend of `location`, loading the SDK. */
export async function openS3Backend(location: S3Location): Promise<StaticBackend> {
  const [sdk, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return new S3Backend(location, sdk, storage.Upload);
}

function sendOptions(options: CallOptions): { abortSignal?: AbortSignal } {
  return options.signal === undefined ? {} : { abortSignal: options.signal };
}

class S3Backend implements StaticBackend {
  readonly description: string;
  private readonly client: InstanceType<Sdk['S3Client']>;

  constructor(private readonly location: S3Location, private readonly sdk: Sdk, private readonly upload: typeof Upload) {
    this.description = formatStaticLocation(location);
    // A custom endpoint (Garage, MinIO) often has no region of its own; the SDK still needs one to sign.
    const region = location.region ?? (location.endpoint === undefined ? undefined : 'us-east-1');
    this.client = new sdk.S3Client({
      ...(region === undefined ? {} : { region }),
      ...(location.endpoint === undefined ? {} : { endpoint: location.endpoint }),
      forcePathStyle: location.forcePathStyle,
      // S3-compatible servers do not all know the newer checksum trailers: send and check them only where required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private key(key: string): string {
    return this.location.prefix === '' ? key : `${this.location.prefix}/${key}`;
  }

  private fail(what: string, key: string, err: unknown): ManifestError {
    if (err instanceof ManifestError) return err;
    const e = err as SdkError;
    const where = `${what} ${key} in ${this.description}`;
    if (e.name === 'AbortError') return new ManifestError('ABORTED', `${where}: interrupted`, { cause: err, details: { store: this.description } });
    if (e.name === 'CredentialsProviderError') {
      return new ManifestError('UNAUTHORIZED', `${where}: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)`, { cause: err, details: { store: this.description } });
    }
    const unreachable = e.code === undefined ? undefined : UNREACHABLE[e.code];
    if (unreachable !== undefined) {
      const endpoint = this.location.endpoint ?? `AWS S3${this.location.region === undefined ? '' : ` in ${this.location.region}`}`;
      return new ManifestError('UNAVAILABLE', `${where}: the S3 endpoint ${endpoint} ${unreachable} (${e.code}); is it running, and is ?endpoint= right?`, {
        cause: err, details: { store: this.description },
      });
    }
    const status = e.$metadata?.httpStatusCode;
    const reason = `${e.name ?? 'error'}${status === undefined ? '' : ` (HTTP ${status})`}${e.message !== undefined && e.message !== e.name ? `: ${e.message}` : ''}`;
    const code = status === 401 || status === 403 ? 'DENIED' : status === 404 ? 'NOT_FOUND' : status !== undefined && status < 500 ? 'REJECTED' : 'UNAVAILABLE';
    return new ManifestError(code, `${where}: ${reason}`, { cause: err, details: { store: this.description } });
  }

  private static isNotFound(err: unknown): boolean {
    const e = err as SdkError;
    return e.name === 'NotFound' || e.name === 'NoSuchKey' || (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket');
  }

  async stat(key: string, options: CallOptions = {}): Promise<StoredObject | undefined> {
    try {
      const head = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }), sendOptions(options));
      return { key, size: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
    } catch (err) {
      // Without s3:ListBucket, AWS answers a HEAD of a missing key with 403: take it as missing, and let the
      // write that follows say whether access is really denied.
      if (S3Backend.isNotFound(err) || (err as SdkError).$metadata?.httpStatusCode === 403) return undefined;
      throw this.fail('reading', key, err);
    }
  }

  async read(key: string, maxBytes: number, options: CallOptions = {}): Promise<ReadObject | undefined> {
    let body: Readable | undefined;
    try {
      const got = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }), sendOptions(options));
      body = got.Body as Readable | undefined;
      if (got.ContentLength !== undefined && got.ContentLength > maxBytes) {
        throw new ManifestError('TOO_LARGE', `${key} in ${this.description} is ${got.ContentLength} bytes, more than the ${maxBytes} allowed`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body ?? []) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) throw new ManifestError('TOO_LARGE', `${key} in ${this.description} is more than the ${maxBytes} bytes allowed`);
        chunks.push(chunk as Buffer);
      }
      const contentType = got.ContentType?.split(';')[0]?.trim();
      return { bytes: new Uint8Array(Buffer.concat(chunks)), ...(contentType === undefined || contentType === '' ? {} : { contentType }) };
    } catch (err) {
      if (S3Backend.isNotFound(err)) return undefined;
      throw this.fail('reading', key, err);
    } finally {
      body?.destroy();
    }
  }

  async open(key: string, options: CallOptions = {}): Promise<Readable | undefined> {
    try {
      const got = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }), sendOptions(options));
      return got.Body as Readable;
    } catch (err) {
      if (S3Backend.isNotFound(err)) return undefined;
      throw this.fail('reading', key, err);
    }
  }

  async write(key: string, body: Uint8Array | Readable, info: { contentType: string; size: number }, options: CallOptions = {}): Promise<void> {
    const params = { Bucket: this.location.bucket, Key: this.key(key), ContentType: info.contentType };
    // The body's own error (a verifying stream's DIGEST_MISMATCH) says what went wrong better than the upload's
    // failure, or its abort's, that follows from it.
    let bodyError: unknown;
    if (body instanceof Readable) body.once('error', (err) => { bodyError = err; });
    try {
      if (!(body instanceof Readable)) {
        await this.client.send(new this.sdk.PutObjectCommand({ ...params, Body: body, ContentLength: body.length }), sendOptions(options));
        return;
      }
      const abortController = new AbortController();
      const onAbort = (): void => abortController.abort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        // One PUT when the stream fits in a part, else a multipart upload; a failing stream aborts it.
        await new this.upload({ client: this.client, params: { ...params, Body: body }, partSize: PART_SIZE, queueSize: PART_CONCURRENCY, leavePartsOnError: false, abortController }).done();
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      throw this.fail('writing', key, bodyError instanceof ManifestError ? bodyError : err);
    }
  }

  async list(prefix: string, options: CallOptions = {}): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const fullPrefix = this.key(prefix);
    const strip = this.location.prefix === '' ? 0 : this.location.prefix.length + 1;
    let token: string | undefined;
    try {
      // Bounded: 10 000 pages of 1 000 keys.
      for (let page = 0; page < 10_000; page++) {
        const listed = await this.client.send(new this.sdk.ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: fullPrefix,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }), sendOptions(options));
        for (const o of listed.Contents ?? []) {
          if (o.Key === undefined) continue;
          out.push({ key: o.Key.slice(strip), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
        }
        token = listed.IsTruncated === true ? listed.NextContinuationToken : undefined;
        if (token === undefined) break;
      }
    } catch (err) {
      throw this.fail('listing', prefix, err);
    }
    return out;
  }

  async remove(key: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.key(key) }), sendOptions(options));
    } catch (err) {
      if (S3Backend.isNotFound(err)) return;
      throw this.fail('removing', key, err);
    }
  }
}
