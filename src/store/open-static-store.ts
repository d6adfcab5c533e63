/** Opens a static registry's repository (dir: or s3://) as an ImageTarget; storage modules load on first use. */
import type { Reference } from '../ref.js';
import { withClient, type RegistryClient } from '../registry/client.js';
import type { ImageReader, ImageTarget } from './image-store.js';
import { RegistryRepository } from './registry-repository.js';
import type { StaticBackend } from './static-backend.js';
import { formatStaticLocation, isStaticReference, type StaticLocation } from './static-location.js';
import { StaticStore } from './static-store.js';

/** Opens the backend of a static store's root, loading the S3 SDK only for an s3:// store. */
export async function openStaticBackend(location: StaticLocation): Promise<StaticBackend> {
  if (location.kind === 'dir') {
    const { DirBackend } = await import('./dir-backend.js');
    return new DirBackend(location.root);
  }
  const { openS3Backend } = await import('./s3-backend.js');
  return openS3Backend(location);
}

/** Returns the repository `repository` of the static store at `location`; nothing is touched until it is used. */
export function openStaticStore(location: StaticLocation, repository: string): StaticStore {
  let backend: Promise<StaticBackend> | undefined;
  return new StaticStore(() => (backend ??= openStaticBackend(location)), formatStaticLocation(location), repository);
}

/** Returns where a push to `target` writes: a static tree (dir:, s3://) for a static target, else its registry repository. */
export function openTargetStore(client: RegistryClient, target: Reference): ImageTarget {
  return isStaticReference(target) ? openStaticStore(target.store, target.repository) : new RegistryRepository(client, target);
}

/**
 * Runs `use` with the reader of `ref`: a static store's files, read directly with no registry involved, or the
 * registry repository through `client` (when omitted, an anonymous https client, closed afterwards).
 */
export function withImageReader<T>(ref: Reference, client: RegistryClient | undefined, use: (reader: ImageReader) => Promise<T>): Promise<T> {
  if (isStaticReference(ref)) return use(openStaticStore(ref.store, ref.repository));
  return withClient(client, {}, (opened) => use(new RegistryRepository(opened, ref)));
}
