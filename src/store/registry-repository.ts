/** A repository of a registry as an ImageReader and ImageTarget, through a RegistryClient. */
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.js';
import type { Reference } from '../ref.js';
import type { BlobCopyOutcome, BlobRef, CallOptions, FetchedManifest, GetBlobOptions, ManifestHead, ManifestUpload, RegistryClient } from '../registry/client.js';
import { isDigestIdentifier, type ImageReader, type ImageTarget } from './image-store.js';

/** Returns the location (ImageReader.location) of a registry repository. */
export function registryLocation(repository: Reference): string {
  return `registry:${repository.registry}/${repository.repository}`;
}

/** Reads and writes one registry repository; blobs between two repositories of one client are mounted or streamed by it. */
export class RegistryRepository implements ImageTarget {
  readonly name: string;
  readonly location: string;

  /** `repository` names the registry and repository; its tag or digest, if any, is ignored. */
  constructor(readonly client: RegistryClient, readonly repository: Reference) {
    this.name = repository.name;
    this.location = registryLocation(repository);
  }

  /** Returns the reference of a tag or digest in this repository. */
  at(identifier: string): Reference {
    return isDigestIdentifier(identifier) ? this.repository.withDigest(identifier) : this.repository.withTag(identifier);
  }

  headManifest(identifier: string, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    return this.client.headManifest(this.at(identifier), options);
  }

  getManifest(identifier: string, options: CallOptions = {}): Promise<FetchedManifest> {
    return this.client.getManifest(this.at(identifier), options);
  }

  getBlob(digest: Digest, options: GetBlobOptions = {}): Promise<Uint8Array> {
    return this.client.getBlob(this.repository, digest, options);
  }

  openBlob(blob: BlobRef, options: CallOptions = {}): Promise<Readable> {
    return this.client.openBlob(this.repository, blob, options);
  }

  async copyBlob(source: ImageReader, blob: BlobRef, options: CallOptions = {}): Promise<BlobCopyOutcome> {
    if (source instanceof RegistryRepository && source.client === this.client) {
      return this.client.copyBlob(source.repository, this.repository, blob, options);
    }
    return this.client.uploadBlobFrom(this.repository, blob, source.name, (signal) => source.openBlob(blob, { signal }), options);
  }

  putManifest(identifier: string, manifest: ManifestUpload, options: CallOptions = {}): Promise<void> {
    return this.client.putManifest(this.at(identifier), manifest, options);
  }
}
