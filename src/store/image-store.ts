/**
 * The seam between the push algorithm and the places images live (design.md §1): a registry repository, an
 * archive or OCI layout, a static tree on a directory or a bucket. `manifest/push.ts` reads sources through
 * ImageReader and writes the target through ImageTarget, so one algorithm serves every pair of them.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.js';
import type { BlobCopyOutcome, BlobRef, CallOptions, FetchedManifest, GetBlobOptions, ManifestHead, ManifestUpload } from '../registry/client.js';

/** A place to read one repository's manifests (by tag or digest) and blobs from. */
export interface ImageReader {
  /** The place for messages, as the user would name it ("r.example/app", "docker-archive:linux.amd64.tar"). */
  readonly name: string;
  /** Identity of the place: two readers or targets of the same repository have the same location. */
  readonly location: string;
  /** Reads a manifest's existence and digest by tag or digest; undefined when there is none. */
  headManifest(identifier: string, options?: CallOptions): Promise<ManifestHead | undefined>;
  /** Fetches a manifest by tag or digest, its bytes hashed (and checked against a digest asked for). */
  getManifest(identifier: string, options?: CallOptions): Promise<FetchedManifest>;
  /** Reads a small blob (an image config) whole, bounded by `maxBytes`, its digest verified. */
  getBlob(digest: Digest, options?: GetBlobOptions): Promise<Uint8Array>;
  /** Opens a blob as a stream of its bytes; the consumer verifies them (verifyingStream) and destroys the stream. */
  openBlob(blob: BlobRef, options?: CallOptions): Promise<Readable>;
}

/** A place a push writes to: it can be read back, and takes blobs and manifests by digest or tag. */
export interface ImageTarget extends ImageReader {
  /** Makes a blob present, taking it from `source` when missing (mounted, streamed and verified); says how. */
  copyBlob(source: ImageReader, blob: BlobRef, options?: CallOptions): Promise<BlobCopyOutcome>;
  /** Stores manifest bytes exactly as given under a tag or their digest. */
  putManifest(identifier: string, manifest: ManifestUpload, options?: CallOptions): Promise<void>;
}

/** Tells whether a manifest identifier is a digest (a tag cannot contain ':'). */
export function isDigestIdentifier(identifier: string): identifier is Digest {
  return identifier.includes(':');
}
