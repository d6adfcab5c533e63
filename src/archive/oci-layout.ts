/**
 * OCI image layouts (image-spec v1.1 image-layout.md): a directory, or a tar of one (`oci-archive:`), with an
 * `oci-layout` file, an `index.json` naming the images (by the org.opencontainers.image.ref.name annotation) and
 * content-addressed blobs under `blobs/<algorithm>/<hex>`. OciLayoutReader reads either; OciLayoutTarget also
 * writes a directory, each blob verified as it arrives and renamed into place only then.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestOf, isDigest, type Digest } from '../digest.js';
import { clipInput, ManifestError } from '../errors.js';
import { makeDirectories } from '../make-directories.js';
import { MEDIA_TYPE_OCI_INDEX } from '../media-types.js';
import type { BlobCopyOutcome, BlobRef, CallOptions, FetchedManifest, GetBlobOptions, ManifestHead, ManifestUpload } from '../registry/client.js';
import type { ImageReader, ImageTarget } from '../store/image-store.js';
import type { Descriptor } from '../types/oci.js';
import { verifyingStream } from '../verifying-stream.js';
import { fileError } from './file-error.js';
import { fileDigest } from './hash-stream.js';
import type { TarFile } from './tar-file.js';

/** The annotation of index.json that names an image of a layout (its tag). */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** Version written to, and expected in, the oci-layout file. */
const LAYOUT_VERSION = '1.0.0';
/** Largest index.json or manifest read (as registries allow). */
const MAX_MANIFEST = 4 * 1024 * 1024;

/** The files of a layout, wherever they are. */
export interface LayoutFiles {
  /** The layout as the user named it, for messages. */
  readonly name: string;
  /** Reads a small file whole; NOT_FOUND when missing, TOO_LARGE over `maxBytes`. */
  read(path: string, maxBytes: number): Promise<Uint8Array>;
  /** Returns a file's size, or undefined when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /** Streams a file. */
  open(path: string): Readable;
}

/** A layout in a directory. */
export class DirectoryFiles implements LayoutFiles {
  constructor(readonly name: string, readonly dir: string) {}

  async read(path: string, maxBytes: number): Promise<Uint8Array> {
    const size = await this.size(path);
    if (size === undefined) throw new ManifestError('NOT_FOUND', `${this.name} has no ${path}`);
    if (size > maxBytes) throw new ManifestError('TOO_LARGE', `${path} in ${this.name} is ${size} bytes, more than the ${maxBytes} allowed`);
    try {
      return await readFile(join(this.dir, path));
    } catch (err) {
      throw fileError(err, join(this.name, path));
    }
  }

  async size(path: string): Promise<number | undefined> {
    try {
      const info = await stat(join(this.dir, path));
      return info.isFile() ? info.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw fileError(err, join(this.name, path));
    }
  }

  open(path: string): Readable {
    return createReadStream(join(this.dir, path));
  }
}

/** A layout in a tar file. */
export class TarFiles implements LayoutFiles {
  readonly name: string;

  constructor(private readonly tar: TarFile) {
    this.name = tar.name;
  }

  read(path: string, maxBytes: number): Promise<Uint8Array> {
    return this.tar.read(path, maxBytes);
  }

  size(path: string): Promise<number | undefined> {
    return Promise.resolve(this.tar.size(path));
  }

  open(path: string): Readable {
    return this.tar.open(path);
  }
}

/** Returns the path of a blob in a layout (the digest was validated, so it cannot leave blobs/). */
export function blobPath(digest: Digest): string {
  const colon = digest.indexOf(':');
  return `blobs/${digest.slice(0, colon)}/${digest.slice(colon + 1)}`;
}

/** Parses index.json, checking what this reader relies on. */
function parseIndex(bytes: Uint8Array, name: string): Descriptor[] {
  const bad = (why: string): never => { throw new ManifestError('INVALID_INPUT', `${name}: index.json ${why}`); };
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    bad('is not valid JSON');
  }
  const manifests = typeof body === 'object' && body !== null ? (body as { manifests?: unknown }).manifests : undefined;
  if (!Array.isArray(manifests)) return bad('has no "manifests" list');
  return manifests.map((item: unknown, i) => {
    const d = (typeof item === 'object' && item !== null ? item : bad(`manifests[${i}] is not an object`)) as Record<string, unknown>;
    if (typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || !isDigest(d.digest) || typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
      bad(`manifests[${i}] is not a valid descriptor (mediaType, digest, size)`);
    }
    const annotations = d.annotations;
    if (annotations !== undefined && (typeof annotations !== 'object' || annotations === null || !Object.values(annotations).every((v) => typeof v === 'string'))) {
      bad(`manifests[${i}].annotations must be an object of strings`);
    }
    return d as unknown as Descriptor;
  });
}

/** Reads the images of an OCI layout. */
export class OciLayoutReader implements ImageReader {
  readonly name: string;
  readonly location: string;

  /**
   * index.json itself, as a list, when it names several images for distinct platforms and no selector is given
   * (a layout some tools write for a multi-platform image): its entries are then the list's.
   */
  private readonly indexAsList: FetchedManifest | undefined;

  protected constructor(
    protected readonly files: LayoutFiles,
    location: string,
    protected descriptors: Descriptor[],
    indexBytes?: Uint8Array,
  ) {
    this.name = files.name;
    this.location = location;
    const isPlatformList = descriptors.length > 1 && descriptors.every((d) => d.platform !== undefined);
    this.indexAsList = indexBytes === undefined || !isPlatformList
      ? undefined
      : { bytes: indexBytes, digest: digestOf(indexBytes), contentType: MEDIA_TYPE_OCI_INDEX, size: indexBytes.length };
  }

  /** Opens a layout: its oci-layout file must be there, and index.json valid. */
  static async open(files: LayoutFiles, location: string): Promise<OciLayoutReader> {
    const { descriptors, bytes } = await readLayoutIndex(files);
    return new OciLayoutReader(files, location, descriptors, bytes);
  }

  /** Returns the images index.json names, in its order. */
  entries(): readonly Descriptor[] {
    return this.descriptors;
  }

  async headManifest(identifier: string, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    void options;
    const list = this.listFor(identifier);
    if (list !== undefined) return { digest: list.digest, contentType: list.contentType, size: list.size };
    if (isDigest(identifier)) {
      const size = await this.files.size(blobPath(identifier));
      return size === undefined ? undefined : { digest: identifier, contentType: undefined, size };
    }
    const found = this.find(identifier, false);
    return found === undefined ? undefined : { digest: found.digest as Digest, contentType: found.mediaType, size: found.size };
  }

  async getManifest(identifier: string, options: CallOptions = {}): Promise<FetchedManifest> {
    void options;
    const list = this.listFor(identifier);
    if (list !== undefined) return list;
    const descriptor = isDigest(identifier) ? undefined : this.find(identifier, true);
    const digest = (descriptor?.digest ?? identifier) as Digest;
    let bytes: Uint8Array;
    try {
      bytes = await this.files.read(blobPath(digest), MAX_MANIFEST);
    } catch (err) {
      if (err instanceof ManifestError && err.code === 'NOT_FOUND') throw new ManifestError('NOT_FOUND', `manifest ${digest} not found in ${this.name}`, { cause: err });
      throw err;
    }
    const actual = digestOf(bytes, digest);
    if (actual !== digest) throw new ManifestError('DIGEST_MISMATCH', `${this.name}: blob ${digest} hashes to ${actual}`);
    return { bytes, digest, contentType: descriptor?.mediaType ?? '', size: bytes.length };
  }

  async getBlob(digest: Digest, options: GetBlobOptions = {}): Promise<Uint8Array> {
    const bytes = await this.files.read(blobPath(digest), options.maxBytes ?? MAX_MANIFEST);
    const actual = digestOf(bytes, digest);
    if (actual !== digest) throw new ManifestError('DIGEST_MISMATCH', `${this.name}: blob ${digest} hashes to ${actual}`);
    return bytes;
  }

  async openBlob(blob: BlobRef): Promise<Readable> {
    const size = await this.files.size(blobPath(blob.digest));
    if (size === undefined) throw new ManifestError('NOT_FOUND', `blob ${blob.digest} not found in ${this.name}`);
    if (size !== blob.size) throw new ManifestError('SIZE_MISMATCH', `blob ${blob.digest} of ${this.name} is ${size} bytes, but its descriptor says ${blob.size}`);
    return this.files.open(blobPath(blob.digest));
  }

  /** Returns index.json as a list when `identifier` names it (no selector, or its digest). */
  private listFor(identifier: string): FetchedManifest | undefined {
    const list = this.indexAsList;
    return list !== undefined && (identifier === '' || identifier === list.digest) ? list : undefined;
  }

  /** Finds the image a selector names: the only one (selector ""), or the one whose ref name is the selector. */
  private find(selector: string, required: true): Descriptor;
  private find(selector: string, required: boolean): Descriptor | undefined;
  private find(selector: string, required: boolean): Descriptor | undefined {
    const names = (): string => this.descriptors.map((d) => d.annotations?.[ANNOTATION_REF_NAME] ?? d.digest).join(', ') || 'none';
    if (selector === '') {
      if (this.descriptors.length === 1) return this.descriptors[0];
      if (!required) return undefined;
      if (this.descriptors.length === 0) throw new ManifestError('NOT_FOUND', `${this.name} holds no image (its index.json is empty)`);
      throw new ManifestError('INVALID_INPUT', `${this.name} holds ${this.descriptors.length} images (${names()}): name one, as oci:${this.name}:TAG`);
    }
    const found = this.descriptors.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] === selector);
    if (found.length === 1) return found[0];
    if (!required) return undefined;
    if (found.length === 0) throw new ManifestError('NOT_FOUND', `${this.name} has no image named ${clipInput(selector, 120)} (it has: ${names()})`);
    throw new ManifestError('INVALID_INPUT', `${this.name} names ${found.length} images ${clipInput(selector, 120)}`);
  }
}

/** Reads and checks a layout's oci-layout file and index.json. */
async function readLayoutIndex(files: LayoutFiles): Promise<{ descriptors: Descriptor[]; bytes: Uint8Array }> {
  if (await files.size('oci-layout') === undefined) throw new ManifestError('INVALID_INPUT', `${files.name} is not an OCI layout: it has no oci-layout file`);
  let version: unknown;
  try {
    version = (JSON.parse(Buffer.from(await files.read('oci-layout', 64 * 1024)).toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (err) {
    if (err instanceof ManifestError) throw err;
  }
  if (typeof version !== 'string') throw new ManifestError('INVALID_INPUT', `${files.name}: its oci-layout file has no imageLayoutVersion`);
  const bytes = await files.read('index.json', MAX_MANIFEST);
  return { descriptors: parseIndex(bytes, files.name), bytes };
}

/** Writes a file through a temporary name in the same directory, so it appears whole or not at all. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const partial = `${path}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, path);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/** An OCI layout directory that a push or export writes to (created when missing, merged into when present). */
export class OciLayoutTarget extends OciLayoutReader implements ImageTarget {
  private constructor(files: DirectoryFiles, location: string, descriptors: Descriptor[]) {
    super(files, location, descriptors);
  }

  /** Opens the layout in `dir`, creating the directory, its oci-layout and an empty index.json when missing. */
  static async create(dir: string, name: string = dir): Promise<OciLayoutTarget> {
    const files = new DirectoryFiles(name, dir);
    const existing = await stat(dir).catch(() => undefined);
    if (existing !== undefined && !existing.isDirectory()) throw new ManifestError('INVALID_INPUT', `${name} is a file: an OCI layout is a directory (a new one, or a layout to add to)`);
    try {
      await makeDirectories(join(dir, 'blobs', 'sha256'));
      if (await files.size('oci-layout') === undefined) {
        await writeAtomically(join(dir, 'oci-layout'), new TextEncoder().encode(`${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`));
      }
      if (await files.size('index.json') === undefined) {
        await writeAtomically(join(dir, 'index.json'), indexBytes([]));
      }
    } catch (err) {
      throw fileError(err, name, 'writing');
    }
    return new OciLayoutTarget(files, `oci:${dir}`, (await readLayoutIndex(files)).descriptors);
  }

  private get dir(): string {
    return (this.files as DirectoryFiles).dir;
  }

  async copyBlob(source: ImageReader, blob: BlobRef, options: CallOptions = {}): Promise<BlobCopyOutcome> {
    const path = join(this.dir, blobPath(blob.digest));
    if (await this.files.size(blobPath(blob.digest)) === blob.size) {
      // A blob left by an earlier run is kept only when it is still what its name says.
      if ((await fileDigest(path, options.signal)).digest === blob.digest) return 'present';
    }
    await makeDirectories(join(path, '..'));
    const partial = `${path}.partial-${randomBytes(6).toString('hex')}`;
    try {
      const body = await source.openBlob(blob, options);
      await pipeline(body, verifyingStream(blob, source.name), createWriteStream(partial), ...(options.signal === undefined ? [] : [{ signal: options.signal }]));
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw fileError(err, this.name, 'writing');
    }
    return 'copied';
  }

  async putManifest(identifier: string, manifest: ManifestUpload, options: CallOptions = {}): Promise<void> {
    void options;
    if (digestOf(manifest.bytes, manifest.digest) !== manifest.digest) {
      throw new ManifestError('DIGEST_MISMATCH', `manifest bytes for ${this.name} do not hash to ${manifest.digest}`);
    }
    try {
      const path = join(this.dir, blobPath(manifest.digest));
      if (await this.files.size(blobPath(manifest.digest)) !== manifest.bytes.length) {
        await makeDirectories(join(path, '..'));
        await writeAtomically(path, manifest.bytes);
      }
      if (isDigest(identifier)) return;
      const descriptor: Descriptor = {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.bytes.length,
        annotations: { [ANNOTATION_REF_NAME]: identifier },
      };
      // One image per name: an image exported again under the same name replaces the old entry.
      this.descriptors = [...this.descriptors.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] !== identifier), descriptor];
      await writeAtomically(join(this.dir, 'index.json'), indexBytes(this.descriptors));
    } catch (err) {
      throw fileError(err, this.name, 'writing');
    }
  }
}

/** Returns index.json's bytes for these descriptors. */
function indexBytes(manifests: readonly Descriptor[]): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests }, null, 2)}\n`);
}
