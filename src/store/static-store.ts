/**
 * A repository of a static registry as an ImageReader and ImageTarget: the files a web server serves for pulls
 * (OCI distribution spec, pull side only), on any StaticBackend:
 *
 *   v2/index.html                          "{}", for servers that map a directory to an index file
 *   v2/NAME/manifests/TAG                  the list (or image) a tag points at
 *   v2/NAME/manifests/sha256:HEX           every manifest by digest
 *   v2/NAME/blobs/sha256:HEX               configs and layers
 *   v2/NAME/tags/list                      {"name":NAME,"tags":[…]}, sorted
 *
 * Writes are atomic (the backend's job); the push algorithm writes children first, then the list by digest,
 * then tags, and here a tag's file comes before tags/list, so a reader never finds a tag whose parts are missing.
 */
import { pipeline, type Readable } from 'node:stream';
import { digestOf, isDigest, type Digest } from '../digest.js';
import { ManifestError } from '../errors.js';
import { MEDIA_TYPE_OCTET_STREAM } from '../media-types.js';
import type { BlobCopyOutcome, BlobRef, CallOptions, FetchedManifest, GetBlobOptions, ManifestHead, ManifestUpload } from '../registry/client.js';
import { MAX_CONFIG_SIZE, MAX_MANIFEST_SIZE } from '../registry/client.js';
import { verifyingStream } from '../verifying-stream.js';
import { isDigestIdentifier, type ImageReader, type ImageTarget } from './image-store.js';
import type { StaticBackend } from './static-backend.js';

/** Key of the version check's index file. */
export const VERSION_CHECK_KEY = 'v2/index.html';
/** Media type of tags/list and the version check. */
export const JSON_MEDIA_TYPE = 'application/json';

/** Returns the key prefix of a repository's files ("v2/team/app/"). */
export function repositoryPrefix(repository: string): string {
  return `v2/${repository}/`;
}

/** Returns the key of a manifest by tag or digest. */
export function manifestKey(repository: string, identifier: string): string {
  return `${repositoryPrefix(repository)}manifests/${identifier}`;
}

/** Returns the key of a blob. */
export function blobKey(repository: string, digest: string): string {
  return `${repositoryPrefix(repository)}blobs/${digest}`;
}

/** Returns the key of a repository's tags/list. */
export function tagsListKey(repository: string): string {
  return `${repositoryPrefix(repository)}tags/list`;
}

/** Returns the bytes of tags/list: the tags sorted by code point, as distribution sorts them. */
export function tagsListBytes(repository: string, tags: readonly string[]): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ name: repository, tags: [...tags].sort(compareCodePoints) })}\n`);
}

/** Compares two strings by code point (not locale): the order distribution lists tags in. */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Tells whether the last part of a manifests/ key is a tag (not a digest, not a temporary file). */
export function isTagName(name: string): boolean {
  return !name.includes(':') && !name.startsWith('.') && name !== '';
}

/** Reads the `mediaType` a manifest declares, or undefined when it has none or is not JSON. */
export function declaredMediaType(bytes: Uint8Array): string | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const mediaType = typeof value === 'object' && value !== null ? (value as { mediaType?: unknown }).mediaType : undefined;
    return typeof mediaType === 'string' ? mediaType : undefined;
  } catch {
    return undefined;
  }
}

/** Throws NOT_FOUND unless the backend holds a static registry (its version check file), empty or not. */
export async function checkIsStore(backend: StaticBackend, options: CallOptions = {}): Promise<void> {
  if (await backend.stat(VERSION_CHECK_KEY, options) === undefined) {
    throw new ManifestError('NOT_FOUND', `no static registry in ${backend.description} (no ${VERSION_CHECK_KEY}: push to it first)`);
  }
}

/** One repository of a static registry, read and written through a backend. */
export class StaticStore implements ImageTarget {
  readonly name: string;
  readonly location: string;
  private tagsListUpdate: Promise<void> = Promise.resolve();

  /** `backend` is opened on first use, so a dry run loads no storage SDK. */
  constructor(private readonly backend: () => Promise<StaticBackend>, description: string, readonly repository: string) {
    this.name = `${description}//${repository}`;
    this.location = `static:${description}//${repository}`;
  }

  private notFound(identifier: string): ManifestError {
    const what = isDigestIdentifier(identifier) ? `manifest ${identifier}` : `tag ${identifier}`;
    return new ManifestError('NOT_FOUND', `${what} not found in ${this.name}`);
  }

  async headManifest(identifier: string, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    const backend = await this.backend();
    if (isDigestIdentifier(identifier)) {
      // Files by digest were verified when written: their name is their digest.
      const stat = await backend.stat(manifestKey(this.repository, identifier), options);
      return stat === undefined ? undefined : { digest: identifier, contentType: undefined, size: stat.size };
    }
    const read = await backend.read(manifestKey(this.repository, identifier), MAX_MANIFEST_SIZE, options);
    if (read === undefined) return undefined;
    return { digest: digestOf(read.bytes), contentType: read.contentType ?? declaredMediaType(read.bytes), size: read.bytes.length };
  }

  async getManifest(identifier: string, options: CallOptions = {}): Promise<FetchedManifest> {
    const backend = await this.backend();
    const read = await backend.read(manifestKey(this.repository, identifier), MAX_MANIFEST_SIZE, options);
    if (read === undefined) {
      // A mistyped root is not a missing tag: say that no static registry is there.
      await checkIsStore(backend, options);
      throw this.notFound(identifier);
    }
    const digest = digestOf(read.bytes, isDigestIdentifier(identifier) && isDigest(identifier) ? identifier : 'sha256:');
    if (isDigestIdentifier(identifier) && digest !== identifier) {
      throw new ManifestError('DIGEST_MISMATCH', `manifest ${identifier} of ${this.name} hashes to ${digest}`);
    }
    return { bytes: read.bytes, digest, contentType: read.contentType ?? declaredMediaType(read.bytes) ?? '', size: read.bytes.length };
  }

  async getBlob(digest: Digest, options: GetBlobOptions = {}): Promise<Uint8Array> {
    const backend = await this.backend();
    const read = await backend.read(blobKey(this.repository, digest), options.maxBytes ?? MAX_CONFIG_SIZE, options);
    if (read === undefined) throw new ManifestError('NOT_FOUND', `blob ${digest} not found in ${this.name}`);
    const actual = digestOf(read.bytes, digest);
    if (actual !== digest) throw new ManifestError('DIGEST_MISMATCH', `blob ${digest} of ${this.name} hashes to ${actual}`);
    return read.bytes;
  }

  async openBlob(blob: BlobRef, options: CallOptions = {}): Promise<Readable> {
    const backend = await this.backend();
    const stream = await backend.open(blobKey(this.repository, blob.digest), options);
    if (stream === undefined) throw new ManifestError('NOT_FOUND', `blob ${blob.digest} not found in ${this.name}`);
    return stream;
  }

  async copyBlob(source: ImageReader, blob: BlobRef, options: CallOptions = {}): Promise<BlobCopyOutcome> {
    const backend = await this.backend();
    const key = blobKey(this.repository, blob.digest);
    // A blob's name is its digest and it was verified when written: one of the right size is the same blob.
    const present = await backend.stat(key, options);
    if (present !== undefined && present.size === blob.size) return 'present';
    const stream = await source.openBlob(blob, options);
    const verified = verifyingStream(blob, source.name);
    // Errors reach `verified` (pipeline destroys it with them), which the backend is reading.
    pipeline(stream, verified, () => undefined);
    await backend.write(key, verified, { contentType: MEDIA_TYPE_OCTET_STREAM, size: blob.size }, options);
    return 'copied';
  }

  async putManifest(identifier: string, manifest: ManifestUpload, options: CallOptions = {}): Promise<void> {
    const backend = await this.backend();
    const key = manifestKey(this.repository, identifier);
    const info = { contentType: manifest.mediaType, size: manifest.bytes.length };
    if (isDigestIdentifier(identifier)) {
      if (digestOf(manifest.bytes, isDigest(identifier) ? identifier : 'sha256:') !== identifier) {
        throw new ManifestError('DIGEST_MISMATCH', `manifest bytes do not hash to ${identifier}`);
      }
      const present = await backend.stat(key, options);
      if (present?.size !== manifest.bytes.length) await backend.write(key, manifest.bytes, info, options);
      return;
    }
    if (await backend.stat(VERSION_CHECK_KEY, options) === undefined) {
      await backend.write(VERSION_CHECK_KEY, new TextEncoder().encode('{}'), { contentType: JSON_MEDIA_TYPE, size: 2 }, options);
    }
    await backend.write(key, manifest.bytes, info, options);
    await this.updateTagsList(options);
  }

  /**
   * Rewrites tags/list from the tag files present: each writer lists after writing its own tag, so writers that
   * race still leave every tag listed (the last one to list sees them all). One update at a time per store.
   */
  updateTagsList(options: CallOptions = {}): Promise<void> {
    const update = this.tagsListUpdate.then(async () => {
      const backend = await this.backend();
      const tags = await listTags(backend, this.repository, options);
      const bytes = tagsListBytes(this.repository, tags);
      await backend.write(tagsListKey(this.repository), bytes, { contentType: JSON_MEDIA_TYPE, size: bytes.length }, options);
    });
    this.tagsListUpdate = update.catch(() => undefined);
    return update;
  }
}

/** Lists a repository's tags from its tag files, sorted by code point. */
export async function listTags(backend: StaticBackend, repository: string, options: CallOptions = {}): Promise<string[]> {
  const prefix = `${repositoryPrefix(repository)}manifests/`;
  const objects = await backend.list(prefix, options);
  return objects.map((o) => o.key.slice(prefix.length)).filter((name) => !name.includes('/') && isTagName(name)).sort(compareCodePoints);
}
