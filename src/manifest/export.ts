/**
 * Exports an image or a multi-platform list from a registry into an ImageTarget (an OCI layout): every blob and
 * child manifest copied and verified, then the top manifest stored under a name. `platforms` keeps only those
 * platforms' images (with the attestations about them), in a new list of the same type and annotations.
 */
import type { Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { MEDIA_TYPE_DOCKER_MANIFEST_LIST, ANNOTATION_REFERENCE_DIGEST } from '../media-types.js';
import { formatPlatform, platformMatches, type Platform } from '../platform.js';
import type { Reference } from '../ref.js';
import { withClient, type RegistryClient } from '../registry/client.js';
import type { ImageTarget } from '../store/image-store.js';
import { RegistryRepository } from '../store/registry-repository.js';
import type { Descriptor } from '../types/oci.js';
import { buildManifestList } from './build-list.js';
import { readImagePlatform } from './image-platform.js';
import { isAttestationEntry, parseManifest } from './parse.js';
import { ChildCopier, type BlobCounts } from './push.js';
import { DEFAULT_CONCURRENCY } from './resolve.js';

/** Options of exportImage. */
export interface ExportOptions {
  /** Client for the source registry; when omitted, an anonymous https client, closed afterwards. */
  client?: RegistryClient;
  /** Where to write: an OCI layout target. */
  target: ImageTarget;
  /** Name the export is stored under in the target (index.json's ref name); when omitted, the reference's tag (required when it has none). */
  name?: string;
  /** Platforms to keep; when omitted or empty, all of them. */
  platforms?: readonly Platform[];
  /** Most blobs copied at once; when omitted, 16. */
  concurrency?: number;
  /** Aborts the export; when omitted, it runs to completion. */
  signal?: AbortSignal;
  /** Debug lines; when omitted, nothing is logged. */
  logger?: Logger;
}

/** What an export wrote. */
export interface ExportResult {
  /** The reference as given. */
  reference: string;
  /** The name it is stored under (index.json's ref name). */
  name: string;
  /** Digest, size and media type of the exported top manifest (the list's own when nothing was left out). */
  digest: Digest;
  size: number;
  mediaType: string;
  /** Platforms exported (empty for a single image whose config names none). */
  platforms: Platform[];
  /** Blobs written, or already present. */
  blobs: BlobCounts;
  copiedManifests: number;
}

/** Copies `ref` (an image or a list) into `options.target`; NOT_FOUND when a platform asked for is not there. */
export async function exportImage(ref: Reference, options: ExportOptions): Promise<ExportResult> {
  return withClient(options.client, options.logger === undefined ? {} : { logger: options.logger }, (client) => exportWith(client, ref, options));
}

async function exportWith(client: RegistryClient, ref: Reference, options: ExportOptions): Promise<ExportResult> {
  const { signal, target } = options;
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const wanted = options.platforms ?? [];
  const name = options.name ?? ref.tag;
  // index.json names what a layout holds: an export nobody can name could not be found in it again.
  if (name === undefined) throw new ManifestError('USAGE', `${ref.original} names a digest, not a tag: give the name to store it under (--name)`);
  const source = new RegistryRepository(client, ref);
  const top = parseManifest(await source.getManifest(ref.identifier, { signal }));
  const copier = new ChildCopier(target, concurrency, signal);
  let upload = { bytes: top.bytes, digest: top.digest, mediaType: top.mediaType };
  let platforms: Platform[];
  try {
    if (top.kind === 'image') {
      const platform = await readImagePlatform(source, top.manifest, signal);
      const missing = wanted.find((w) => !platformMatches(w, platform));
      if (missing !== undefined) throw new ManifestError('NOT_FOUND', `${ref.original} is an image for ${formatPlatform(platform)}, not ${formatPlatform(missing)}`);
      platforms = platform === undefined ? [] : [platform];
      await copier.ensure(source, top.digest, top);
    } else {
      let children = top.index.manifests;
      if (wanted.length > 0) {
        const chosen: Descriptor[] = [];
        for (const w of wanted) {
          const found = children.find((c) => !isAttestationEntry(c) && platformMatches(w, c.platform));
          if (found === undefined) {
            const have = children.filter((c) => !isAttestationEntry(c)).map((c) => formatPlatform(c.platform)).join(', ') || 'none';
            throw new ManifestError('NOT_FOUND', `${ref.original} has no image for ${formatPlatform(w)} (it has: ${have})`);
          }
          if (!chosen.includes(found)) chosen.push(found);
        }
        children = children.filter((c) => chosen.includes(c) || (isAttestationEntry(c) && chosen.some((k) => k.digest === c.annotations?.[ANNOTATION_REFERENCE_DIGEST])));
      }
      platforms = children.filter((c) => !isAttestationEntry(c) && c.platform !== undefined).map((c) => c.platform as Platform);
      await Promise.all(children.map((c) => copier.ensure(source, c.digest as Digest, undefined)));
      if (children.length !== top.index.manifests.length) {
        const list = buildManifestList(children, {
          type: top.mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST ? 'docker' : 'oci',
          ...(top.index.annotations === undefined ? {} : { annotations: top.index.annotations }),
        });
        upload = { bytes: list.bytes, digest: list.digest, mediaType: list.mediaType };
      }
    }
  } catch (err) {
    copier.stop();
    throw withContext(`exporting ${ref.original} to ${target.name}`, err);
  }
  await target.putManifest(upload.digest, upload, { signal });
  await target.putManifest(name, upload, { signal });
  logger.debug(`exported ${ref.original} as ${upload.digest} to ${target.name}`);
  return {
    reference: ref.original,
    name,
    digest: upload.digest,
    size: upload.bytes.length,
    mediaType: upload.mediaType,
    platforms,
    blobs: copier.blobs,
    copiedManifests: copier.copiedManifests,
  };
}
