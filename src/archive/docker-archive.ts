/**
 * A docker archive (`docker save`, nix `dockerTools.buildImage` / `streamLayeredImage`, `skopeo copy …
 * docker-archive:`) as an ImageReader. The archive holds `manifest.json` (a list of {Config, RepoTags, Layers}),
 * the config blobs and the layers, usually uncompressed. Each image gets a synthesized Docker v2 schema 2
 * manifest: the config as it is (diff_ids kept), each uncompressed layer gzip-compressed deterministically into
 * the workspace (its digest must be known before the manifest exists), each gzip layer as it is.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestOf, isDigest, type Digest } from '../digest.js';
import { clipInput, ManifestError } from '../errors.js';
import type { Limiter } from '../limiter.js';
import { MEDIA_TYPE_DOCKER_CONFIG, MEDIA_TYPE_DOCKER_LAYER, MEDIA_TYPE_DOCKER_MANIFEST } from '../media-types.js';
import { parseReference } from '../ref.js';
import type { BlobRef, CallOptions, FetchedManifest, GetBlobOptions, ManifestHead } from '../registry/client.js';
import type { ImageReader } from '../store/image-store.js';
import { fileError } from './file-error.js';
import { deterministicGzip } from './gzip.js';
import { hashingStream } from './hash-stream.js';
import type { ArchiveSource } from './source.js';
import { isGzip, type TarFile } from './tar-file.js';
import type { Workspace } from './workspace.js';

/** Largest manifest.json or config read. */
const MAX_JSON = 4 * 1024 * 1024;

/** One image of manifest.json. */
interface ArchiveImage {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Where a blob's bytes are: a member of the archive, or a file of the workspace. */
type BlobLocation = { member: string; size: number } | { file: string; size: number };

interface Layer {
  digest: Digest;
  size: number;
}

/** What a docker archive reader shares with the other readers of a session. */
export interface DockerArchiveContext {
  /** Where compressed layers are written. */
  workspace: Workspace;
  /** Bounds the layers compressed or hashed at once, across the session. */
  limiter: Limiter;
}

function invalid(source: ArchiveSource, message: string): never {
  throw new ManifestError('INVALID_INPUT', `${source.original}: ${message}`);
}

/** Checks manifest.json's content, field by field (a hostile file must not reach further). */
function parseArchiveManifest(bytes: Uint8Array, source: ArchiveSource): ArchiveImage[] {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    invalid(source, 'manifest.json is not valid JSON');
  }
  if (!Array.isArray(body) || body.length === 0) invalid(source, 'manifest.json must be a non-empty list of images');
  return body.map((item: unknown, i) => {
    const record = typeof item === 'object' && item !== null ? item as Record<string, unknown> : invalid(source, `manifest.json[${i}] is not an object`);
    const { Config, RepoTags, Layers } = record;
    if (typeof Config !== 'string' || Config === '') invalid(source, `manifest.json[${i}].Config must name the config file`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string' && l !== '')) invalid(source, `manifest.json[${i}].Layers must list the layer files`);
    const tags = RepoTags === undefined || RepoTags === null ? [] : Array.isArray(RepoTags) && RepoTags.every((t) => typeof t === 'string') ? RepoTags : invalid(source, `manifest.json[${i}].RepoTags must be a list of strings`);
    return { Config, RepoTags: tags, Layers: Layers as string[] };
  });
}

/** Returns the diff_ids of a config (rootfs.diff_ids), or undefined when it has none or is not readable. */
function diffIdsOf(config: Uint8Array): (string | undefined)[] | undefined {
  try {
    const body = JSON.parse(Buffer.from(config).toString('utf8')) as { rootfs?: { diff_ids?: unknown } };
    const ids = body.rootfs?.diff_ids;
    return Array.isArray(ids) ? ids.map((id) => (typeof id === 'string' ? id : undefined)) : undefined;
  } catch {
    return undefined;
  }
}

/** Tells whether two image names are the same after docker's normalisation ("app:1" is docker.io/library/app:1). */
function sameName(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return parseReference(a).toString() === parseReference(b).toString();
  } catch {
    return false;
  }
}

/** Reads the images of one docker archive. */
export class DockerArchiveReader implements ImageReader {
  readonly name: string;
  readonly location: string;
  private readonly prepared = new Map<number, Promise<FetchedManifest>>();
  private readonly layers = new Map<string, Promise<Layer>>();
  private readonly blobs = new Map<Digest, BlobLocation>();
  private readonly manifests = new Map<Digest, FetchedManifest>();

  private constructor(
    private readonly source: ArchiveSource,
    private readonly tar: TarFile,
    private readonly images: readonly ArchiveImage[],
    private readonly context: DockerArchiveContext,
  ) {
    // Shared by every entry naming this file, whatever image each selects: named by the file alone.
    this.name = source.kind === 'archive' ? source.path : `${source.kind}:${source.path}`;
    this.location = source.location;
  }

  /** Reads manifest.json of an opened archive. */
  static async open(source: ArchiveSource, tar: TarFile, context: DockerArchiveContext): Promise<DockerArchiveReader> {
    if (!tar.has('manifest.json')) invalid(source, 'not a docker archive: it has no manifest.json');
    return new DockerArchiveReader(source, tar, parseArchiveManifest(await tar.read('manifest.json', MAX_JSON), source), context);
  }

  async headManifest(identifier: string, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    if (isDigest(identifier) && !this.manifests.has(identifier)) return undefined;
    const manifest = await this.getManifest(identifier, options);
    return { digest: manifest.digest, contentType: manifest.contentType, size: manifest.size };
  }

  async getManifest(identifier: string, options: CallOptions = {}): Promise<FetchedManifest> {
    if (isDigest(identifier)) {
      const known = this.manifests.get(identifier);
      if (known === undefined) throw new ManifestError('NOT_FOUND', `manifest ${identifier} not found in ${this.name}`);
      return known;
    }
    const index = this.indexOf(identifier);
    let manifest = this.prepared.get(index);
    if (manifest === undefined) {
      manifest = this.prepare(index, options.signal);
      this.prepared.set(index, manifest);
    }
    return await manifest;
  }

  async getBlob(digest: Digest, options: GetBlobOptions = {}): Promise<Uint8Array> {
    const location = this.locate(digest);
    const limit = options.maxBytes ?? MAX_JSON;
    if (location.size > limit) throw new ManifestError('TOO_LARGE', `blob ${digest} of ${this.name} is ${location.size} bytes, more than the ${limit} allowed`);
    const bytes = 'member' in location ? await this.tar.read(location.member, limit) : await readFile(location.file);
    if (digestOf(bytes, digest) !== digest) throw new ManifestError('DIGEST_MISMATCH', `blob ${digest} of ${this.name} changed while it was read`);
    return bytes;
  }

  openBlob(blob: BlobRef): Promise<Readable> {
    const location = this.locate(blob.digest);
    return Promise.resolve('member' in location ? this.tar.open(location.member) : createReadStream(location.file));
  }

  private locate(digest: Digest): BlobLocation {
    const location = this.blobs.get(digest);
    if (location === undefined) throw new ManifestError('NOT_FOUND', `blob ${digest} not found in ${this.name}`);
    return location;
  }

  /** Picks the image a selector names: the only one, or the one with that RepoTag. */
  private indexOf(identifier: string): number {
    const tagsOf = (image: ArchiveImage): string => (image.RepoTags.length === 0 ? '(untagged)' : image.RepoTags.join(', '));
    if (identifier === '') {
      if (this.images.length === 1) return 0;
      throw new ManifestError('INVALID_INPUT', `${this.name} holds ${this.images.length} images (${this.images.map(tagsOf).join('; ')}): name one, as docker-archive:${this.source.path}:NAME:TAG`);
    }
    const index = this.images.findIndex((image) => image.RepoTags.some((tag) => sameName(tag, identifier)));
    if (index < 0) throw new ManifestError('NOT_FOUND', `${this.name} has no image tagged ${clipInput(identifier, 120)} (it has: ${this.images.map(tagsOf).join('; ')})`);
    return index;
  }

  /** Builds the manifest of one image: the config read, every layer compressed or hashed. */
  private async prepare(index: number, signal: AbortSignal | undefined): Promise<FetchedManifest> {
    const image = this.images[index] as ArchiveImage;
    const config = await this.tar.read(image.Config, MAX_JSON);
    const configDigest = digestOf(config);
    this.blobs.set(configDigest, { member: image.Config, size: config.length });
    const diffIds = diffIdsOf(config);
    if (diffIds !== undefined && diffIds.length !== image.Layers.length) {
      invalid(this.source, `the config of ${image.Config} lists ${diffIds.length} diff_ids but manifest.json ${image.Layers.length} layers`);
    }
    const layers = await Promise.all(image.Layers.map((name, i) => this.layer(name, diffIds?.[i], signal)));
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_DOCKER_MANIFEST,
      config: { mediaType: MEDIA_TYPE_DOCKER_CONFIG, size: config.length, digest: configDigest },
      layers: layers.map((layer) => ({ mediaType: MEDIA_TYPE_DOCKER_LAYER, size: layer.size, digest: layer.digest })),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
    const fetched: FetchedManifest = { bytes, digest: digestOf(bytes), contentType: MEDIA_TYPE_DOCKER_MANIFEST, size: bytes.length };
    this.manifests.set(fetched.digest, fetched);
    return fetched;
  }

  /** Makes a layer ready to upload, once per member: its digest and where its bytes are. */
  private layer(name: string, diffId: string | undefined, signal: AbortSignal | undefined): Promise<Layer> {
    let layer = this.layers.get(name);
    if (layer === undefined) {
      layer = this.context.limiter.run(() => this.readLayer(name, diffId, signal));
      this.layers.set(name, layer);
    }
    return layer;
  }

  private async readLayer(name: string, diffId: string | undefined, signal: AbortSignal | undefined): Promise<Layer> {
    signal?.throwIfAborted();
    const head = await this.tar.head(name, 6);
    const raw = hashingStream();
    try {
      if (isGzip(head)) {
        // Already compressed: uploaded as it is (its diff_id is of the uncompressed bytes, not checked here).
        await pipeline(this.tar.open(name), raw, { signal });
        const { digest, size } = raw.result();
        this.blobs.set(digest, { member: name, size });
        return { digest, size };
      }
      const compression = compressionOf(head);
      if (compression !== undefined) invalid(this.source, `layer ${name} is ${compression}-compressed; docker archive layers must be plain tar or gzip`);
      const file = await this.context.workspace.file('.tar.gz');
      const compressed = hashingStream();
      await pipeline(this.tar.open(name), raw, ...deterministicGzip(), compressed, createWriteStream(file), { signal });
      const uncompressed = raw.result().digest;
      if (diffId !== undefined && diffId !== uncompressed) {
        throw new ManifestError('DIGEST_MISMATCH', `${this.name}: layer ${name} hashes to ${uncompressed}, but its config's diff_id is ${clipInput(diffId, 80)}`);
      }
      const { digest, size } = compressed.result();
      this.blobs.set(digest, { file, size });
      return { digest, size };
    } catch (err) {
      throw fileError(err, `${this.name} (layer ${name})`);
    }
  }
}

/** Names a compression other than gzip from a member's first bytes (zstd, xz, bzip2), or undefined. */
function compressionOf(head: Uint8Array): string | undefined {
  const hex = Buffer.from(head).toString('hex');
  if (hex.startsWith('28b52ffd')) return 'zstd';
  if (hex.startsWith('fd377a585a00')) return 'xz';
  if (hex.startsWith('425a68')) return 'bzip2';
  return undefined;
}
