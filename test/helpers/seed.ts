// Builds tiny images and lists and pushes them through the registry API, keeping the exact bytes pushed.
import { randomBytes, randomInt } from 'node:crypto';
import { crc32, gzipSync } from 'node:zlib';
import { pushBlob, putManifestBytes, sha256Digest } from './registry-api.js';
import type { RegistryApi } from './registry-api.js';
import type { SeededImage, SeededManifest, SeedImageOptions, SeedIndexOptions } from './registry.js';

// Media types spelled out here rather than imported from src/: the harness must not share code with what it tests.
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

type Platform = SeedImageOptions['platform'];
interface Descriptor { mediaType: string; size: number; digest: string }

/** Serialises a manifest the way the harness promises: 2-space JSON, hashed and pushed as these exact bytes. */
function manifestBytes(manifest: Record<string, unknown>): Uint8Array {
  return Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
}

/** Copies a platform in the spec's field order, leaving out absent optional fields. */
function platformObject(platform: Platform): Platform {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform['os.version'] !== undefined && { 'os.version': platform['os.version'] }),
    ...(platform['os.features'] !== undefined && { 'os.features': [...platform['os.features']] }),
    ...(platform.variant !== undefined && { variant: platform.variant }),
  };
}

/**
 * A layer is gzip of a tar holding one file of a few hundred random bytes: real gzip so that copy tools such as
 * skopeo see a compressed layer and pass it through unchanged instead of compressing it (which would change
 * digests), and a real tar so that podman can unpack it when it pulls.
 */
function randomLayer(): { compressed: Buffer; diffId: string } {
  const content = randomBytes(200 + randomInt(300));
  const header = Buffer.alloc(512);
  header.write('random.bin', 0, 'utf8');
  header.write('0000644\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  header.write('00000000000\0', 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  const raw = Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
  return { compressed: gzipSync(raw), diffId: sha256Digest(raw) };
}

/**
 * A gzip member (RFC 1952) with one stored deflate block (RFC 1951 §3.2.4), written byte by byte: no mtime, no
 * compression, so the bytes (and the image's digest) depend on `text` alone, not on the zlib version.
 */
function storedGzip(text: string): { compressed: Buffer; diffId: string } {
  const raw = Buffer.from(text, 'utf8');
  if (raw.length > 0xffff) throw new Error('storedGzip: one stored block holds at most 65535 bytes');
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const block = Buffer.alloc(5);
  block[0] = 1; // final block, stored
  block.writeUInt16LE(raw.length, 1);
  block.writeUInt16LE(~raw.length & 0xffff, 3);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(raw), 0);
  trailer.writeUInt32LE(raw.length, 4);
  return { compressed: Buffer.concat([header, block, raw, trailer]), diffId: sha256Digest(raw) };
}

/** Pushes a manifest, insisting on 201 and on the registry computing the same digest as we did. */
async function pushManifest(
  api: RegistryApi,
  repository: string,
  tag: string | undefined,
  mediaType: string,
  bytes: Uint8Array,
): Promise<SeededManifest> {
  const digest = sha256Digest(bytes);
  const result = await putManifestBytes(api, repository, tag ?? digest, bytes, mediaType);
  if (result.status !== 201) {
    throw new Error(`PUT manifest ${repository}:${tag ?? digest}: ${result.status} ${result.text}`);
  }
  if (result.digest !== digest) {
    throw new Error(`PUT manifest ${repository}: registry says ${result.digest ?? '(no digest)'}, bytes hash to ${digest}`);
  }
  return { repository, ...(tag !== undefined && { tag }), digest, size: bytes.length, mediaType, bytes };
}

/** Uploads a config and random layers, then PUTs the image manifest (by tag if given, else by digest). */
export async function seedImage(api: RegistryApi, options: SeedImageOptions): Promise<SeededImage> {
  const isOci = options.format === 'oci';
  const layerCount = options.layers ?? 1;
  const platform = platformObject(options.platform);
  const rawLayers = options.content === undefined ? Array.from({ length: layerCount }, randomLayer) : [storedGzip(options.content)];
  const layers: Descriptor[] = [];
  for (const layer of rawLayers) {
    const digest = await pushBlob(api, options.repository, layer.compressed);
    layers.push({ mediaType: isOci ? OCI_LAYER : DOCKER_LAYER, size: layer.compressed.length, digest });
  }
  // A valid image config (skopeo inspect parses it); diff_ids are the digests of the uncompressed layer bytes.
  const configBytes = Buffer.from(JSON.stringify({
    ...platform,
    config: {},
    ...options.configFields,
    rootfs: { type: 'layers', diff_ids: rawLayers.map((l) => l.diffId) },
  }));
  const config: Descriptor = {
    mediaType: isOci ? OCI_CONFIG : DOCKER_CONFIG,
    size: configBytes.length,
    digest: await pushBlob(api, options.repository, configBytes),
  };
  const mediaType = isOci ? OCI_MANIFEST : DOCKER_MANIFEST;
  const bytes = manifestBytes({ schemaVersion: 2, mediaType, config, layers });
  const pushed = await pushManifest(api, options.repository, options.tag, mediaType, bytes);
  return { ...pushed, platform, config, layers };
}

/** PUTs a Docker manifest list or OCI index over children already in the same repository. */
export async function seedIndex(api: RegistryApi, options: SeedIndexOptions): Promise<SeededManifest> {
  const isOci = options.format === 'oci';
  if (options.annotations !== undefined && !isOci) throw new Error('seedIndex: annotations need format "oci"');
  const foreign = options.children.find((c) => c.repository !== options.repository);
  if (foreign !== undefined) {
    // distribution answers 400 MANIFEST_BLOB_UNKNOWN for children in other repositories; say why up front.
    throw new Error(`seedIndex: child ${foreign.digest} is in ${foreign.repository}, not ${options.repository}`);
  }
  const mediaType = isOci ? OCI_INDEX : DOCKER_LIST;
  const manifests = options.children.map((child) => ({
    mediaType: child.mediaType,
    size: child.size,
    digest: child.digest,
    platform: platformObject(child.platform),
  }));
  const bytes = manifestBytes({
    schemaVersion: 2,
    mediaType,
    manifests,
    ...(options.annotations !== undefined && { annotations: options.annotations }),
  });
  return pushManifest(api, options.repository, options.tag, mediaType, bytes);
}
