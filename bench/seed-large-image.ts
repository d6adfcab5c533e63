// Seeds an image with layers of chosen sizes for the copy scenarios (test/helpers/seed.ts makes only tiny ones).
// Layers are random bytes in gzip's stored (level 0) form: incompressible, quick to make, and real gzip, so that
// skopeo passes them through unchanged instead of compressing them (which would change digests and add CPU).
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import type { TestRegistry } from '../test/helpers/registry.js';
import { pushBlob, putManifestBytes } from '../test/helpers/registry-api.js';
import type { RegistryApi } from '../test/helpers/registry-api.js';
import type { BenchPlatform } from './specs.js';
import { sha256 } from './verify.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Random bytes are drawn in pieces of this size (randomBytes allocates each piece). */
const CHUNK_BYTES = 16 * 1024 * 1024;

export interface LargeImage {
  repository: string;
  tag: string;
  digest: string;
  /** Config and layer blobs, as the manifest lists them. */
  blobs: { digest: string; size: number }[];
  /** Sum of the blob sizes: what a copy moves. */
  bytes: number;
}

/** gzip (stored, level 0) of `size` random bytes, and the digest of the uncompressed bytes (its diff_id). */
function randomLayer(size: number): { compressed: Buffer; diffId: string } {
  const raw = Buffer.allocUnsafe(size);
  for (let offset = 0; offset < size; offset += CHUNK_BYTES) randomBytes(Math.min(CHUNK_BYTES, size - offset)).copy(raw, offset);
  return { compressed: gzipSync(raw, { level: 0 }), diffId: sha256(raw) };
}

/** Pushes an image of `layerSizes` random layers (uncompressed sizes) to a plain-HTTP test registry. */
export async function seedLargeImage(registry: TestRegistry, repository: string, tag: string, layerSizes: readonly number[], platform: BenchPlatform): Promise<LargeImage> {
  if (registry.mode !== 'plain') throw new Error('seedLargeImage: plain-HTTP registries only');
  // Long timeouts: a 200 MiB monolithic PUT on a busy 2-core machine takes seconds.
  const dispatcher = new Agent({ headersTimeout: 300_000, bodyTimeout: 300_000 });
  const api: RegistryApi = { baseUrl: registry.url, dispatcher, authorization: () => undefined };
  try {
    const layers: { digest: string; size: number; diffId: string }[] = [];
    for (const size of layerSizes) {
      const layer = randomLayer(size);
      layers.push({ digest: await pushBlob(api, repository, layer.compressed), size: layer.compressed.length, diffId: layer.diffId });
    }
    const configBytes = Buffer.from(JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
    const config = { digest: await pushBlob(api, repository, configBytes), size: configBytes.length };
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, ...config },
      layers: layers.map((l) => ({ mediaType: DOCKER_LAYER, digest: l.digest, size: l.size })),
    }, null, 2));
    const put = await putManifestBytes(api, repository, tag, manifest, DOCKER_MANIFEST);
    if (put.status !== 201) throw new Error(`PUT ${repository}:${tag}: ${put.status} ${put.text}`);
    const blobs = [config, ...layers.map((l) => ({ digest: l.digest, size: l.size }))];
    return { repository, tag, digest: sha256(manifest), blobs, bytes: blobs.reduce((sum, b) => sum + b.size, 0) };
  } finally {
    await dispatcher.close();
  }
}
