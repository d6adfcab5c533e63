/** The platform of an image, read from its config blob, as the runtime that pulls it would see it. */
import type { Digest } from '../digest.js';
import { MEDIA_TYPE_DOCKER_CONFIG, MEDIA_TYPE_OCI_CONFIG } from '../media-types.js';
import type { Platform } from '../platform.js';
import type { ImageReader } from '../store/image-store.js';
import type { ImageManifest } from '../types/oci.js';
import { parseImageConfig, platformOfConfig } from './parse.js';

/** Tells whether a manifest's config is an image config (an artifact's config says nothing of a platform). */
export function hasImageConfig(manifest: ImageManifest): boolean {
  const type = manifest.config.mediaType;
  return type === MEDIA_TYPE_DOCKER_CONFIG || type === MEDIA_TYPE_OCI_CONFIG;
}

/**
 * Reads the platform an image's config declares (one bounded, digest-checked blob GET); undefined for an artifact
 * or a config naming no os and architecture.
 */
export async function readImagePlatform(source: Pick<ImageReader, 'getBlob'>, manifest: ImageManifest, signal?: AbortSignal): Promise<Platform | undefined> {
  if (!hasImageConfig(manifest)) return undefined;
  // Descriptors were validated by parseManifest: the digest is well formed.
  const digest = manifest.config.digest as Digest;
  return platformOfConfig(parseImageConfig(await source.getBlob(digest, { signal }), digest));
}
