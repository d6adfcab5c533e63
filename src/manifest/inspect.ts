/**
 * What a reference resolves to: a list with its entries (each child fetched for its layers), or one image with
 * its config's platform and its layers. With a platform asked for, a list is resolved to that platform's image.
 * It reads through an ImageReader: a registry repository, or a static store (dir:, s3://) read directly.
 */
import { mapWithLimit } from '../map-with-limit.js';
import { sharedSignal } from '../shared-signal.js';
import type { Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { ANNOTATION_REFERENCE_DIGEST } from '../media-types.js';
import { defaultVariantOf, formatPlatform, isUnknownPlatform, normalizePlatform, platformMatches, type Platform } from '../platform.js';
import type { Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import type { Descriptor } from '../types/oci.js';
import type { ImageReader } from '../store/image-store.js';
import { withImageReader } from '../store/open-static-store.js';
import { hasImageConfig, readImagePlatform } from './image-platform.js';
import { isAttestationEntry, parseImageConfigDetails, parseManifest, type ImageConfigDetails, type Manifest } from './parse.js';

const DEFAULT_CONCURRENCY = 8;

/** Options of inspect. */
export interface InspectOptions {
  /**
   * Client to use (connections, credentials, TLS); when omitted, an anonymous https client with defaults. Not
   * used for a static store (dir:, s3://), which is read directly.
   */
  client?: RegistryClient;
  /** Resolve a list to the image for this platform; when omitted, a list is shown whole. */
  platform?: Platform;
  /**
   * Also read each image's config for its details (created, entrypoint, cmd, env, labels, os.version), as
   * manifest-tool's --expand-config shows them; when omitted, configs of list entries are not fetched.
   */
  expandConfig?: boolean;
  /** Most child manifests fetched at once; when omitted, 8. */
  concurrency?: number;
  /** Aborts the inspection; when omitted, it runs to completion. */
  signal?: AbortSignal;
}

/** A layer (or config) descriptor as shown. */
export interface InspectedBlob {
  mediaType: string;
  digest: string;
  size: number;
}

/** The image side of a manifest: its config and layers. */
export interface InspectedImage {
  config: InspectedBlob;
  layers: InspectedBlob[];
  /** With expandConfig: what the config says besides the platform. */
  configDetails?: ImageConfigDetails;
}

/** One entry of a list. */
export interface InspectedEntry extends InspectedBlob {
  platform?: Platform;
  annotations?: Record<string, string>;
  /** For an attestation entry: the digest of the image it describes. */
  attestationFor?: string;
  /** The child's config and layers, when the child is an image. */
  image?: InspectedImage;
  /** The number of entries, when the child is itself a list. */
  entries?: number;
}

/** What a reference resolves to. */
export interface InspectResult {
  /** The reference as the user gave it. */
  name: string;
  /** The canonical reference. */
  reference: string;
  kind: 'list' | 'image';
  mediaType: string;
  digest: Digest;
  size: number;
  /** The manifest's bytes exactly as the registry sent them. */
  bytes: Uint8Array;
  annotations?: Record<string, string>;
  /** For a list: its entries in order. */
  manifests?: InspectedEntry[];
  /** For an image: its config, platform (from the config) and layers. */
  image?: InspectedImage & { platform?: Platform };
  /** When a platform was asked for: the list it was resolved from. */
  resolvedFrom?: { mediaType: string; digest: Digest };
}

function blob(d: Descriptor): InspectedBlob {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

function imageOf(manifest: Extract<Manifest, { kind: 'image' }>): InspectedImage {
  return { config: blob(manifest.manifest.config), layers: manifest.manifest.layers.map(blob) };
}

async function fetchManifest(reader: ImageReader, identifier: string, signal: AbortSignal | undefined): Promise<Manifest> {
  return parseManifest(await reader.getManifest(identifier, { signal }));
}

/** What describing an image or entry needs of the inspect options. */
interface DescribeOptions {
  signal: AbortSignal | undefined;
  expandConfig: boolean;
}

/** Reads an image's config details (one bounded, digest-checked blob read, cached by the client); undefined for an artifact. */
async function configDetailsOf(reader: ImageReader, manifest: Extract<Manifest, { kind: 'image' }>, signal: AbortSignal | undefined): Promise<ImageConfigDetails | undefined> {
  if (!hasImageConfig(manifest.manifest)) return undefined;
  const digest = manifest.manifest.config.digest as Digest;
  return parseImageConfigDetails(await reader.getBlob(digest, { signal }), digest);
}

/** Describes an image; its platform is read from the config when the config is an image config (not an artifact's). */
async function describeImage(reader: ImageReader, manifest: Extract<Manifest, { kind: 'image' }>, options: DescribeOptions): Promise<InspectedImage & { platform?: Platform }> {
  const image: InspectedImage & { platform?: Platform } = imageOf(manifest);
  const platform = await readImagePlatform(reader, manifest.manifest, options.signal);
  if (platform !== undefined) image.platform = platform;
  const details = options.expandConfig ? await configDetailsOf(reader, manifest, options.signal) : undefined;
  if (details !== undefined) image.configDetails = details;
  return image;
}

async function describeEntry(reader: ImageReader, entry: Descriptor, options: DescribeOptions): Promise<InspectedEntry> {
  const signal = options.signal;
  const out: InspectedEntry = blob(entry);
  if (entry.platform !== undefined) out.platform = entry.platform;
  if (entry.annotations !== undefined) out.annotations = entry.annotations;
  if (isAttestationEntry(entry)) {
    const subject = entry.annotations?.[ANNOTATION_REFERENCE_DIGEST];
    if (subject !== undefined) out.attestationFor = subject;
    // An attestation is not an image for a platform: not worth a (rate-limited, on Docker Hub) GET.
    return out;
  }
  let child: Manifest;
  try {
    child = await fetchManifest(reader, entry.digest, signal);
  } catch (err) {
    throw withContext(`entry ${entry.digest} (${formatPlatform(entry.platform)})`, err);
  }
  if (child.mediaType !== entry.mediaType) {
    throw new ManifestError('INVALID_RESPONSE', `entry ${entry.digest} is listed as ${entry.mediaType} but is ${child.mediaType}`);
  }
  if (child.size !== entry.size) {
    throw new ManifestError('SIZE_MISMATCH', `entry ${entry.digest} is listed with size ${entry.size} but is ${child.size} bytes`);
  }
  if (child.kind === 'image') {
    out.image = imageOf(child);
    const details = options.expandConfig ? await configDetailsOf(reader, child, signal) : undefined;
    if (details !== undefined) out.image.configDetails = details;
  } else {
    out.entries = child.index.manifests.length;
  }
  return out;
}

/**
 * Picks the entry of a list that serves `platform`, skipping attestation entries: an exact variant match first,
 * then the architecture's default variant (arm is v7, arm64 v8), then any other variant, in list order.
 */
export function selectEntry(entries: readonly Descriptor[], platform: Platform): Descriptor | undefined {
  const candidates = entries.filter((e) => !isUnknownPlatform(e.platform) && platformMatches(platform, e.platform));
  // With a variant asked for, platformMatches already required it; without one, prefer the default variant.
  if (platform.variant !== undefined) return candidates[0];
  const preferred = candidates.find((e) => {
    const variant = e.platform === undefined ? undefined : normalizePlatform(e.platform).variant;
    return variant === undefined || variant === defaultVariantOf(platform.architecture);
  });
  return preferred ?? candidates[0];
}

/**
 * Tells what `ref` resolves to. Every manifest's digest is verified from its bytes; a list's children are
 * fetched (concurrently, bounded) for their layers, and their listed size and type are checked. A static
 * store's reference (dir:, s3://) is read from the store itself, with no registry involved.
 */
export async function inspect(ref: Reference, options: InspectOptions = {}): Promise<InspectResult> {
  return withImageReader(ref, options.client, (reader) => inspectReader(reader, ref, options));
}

async function inspectReader(reader: ImageReader, ref: Reference, options: InspectOptions): Promise<InspectResult> {
  const signal = sharedSignal(options.signal);
  const top = await fetchManifest(reader, ref.identifier, signal).catch((err: unknown) => {
    throw withContext(`inspecting "${ref.original}"`, err);
  });
  const base = { name: ref.original, reference: ref.toString() };

  if (top.kind === 'index') {
    const entries = top.index.manifests;
    if (options.platform !== undefined) {
      const wanted = options.platform;
      const entry = selectEntry(entries, wanted);
      if (entry === undefined) {
        const have = entries.filter((e) => !isUnknownPlatform(e.platform)).map((e) => formatPlatform(e.platform)).join(', ') || 'none';
        throw new ManifestError('NOT_FOUND', `"${ref.original}" has no image for ${formatPlatform(wanted)} (it has: ${have})`);
      }
      const child = await fetchManifest(reader, entry.digest, signal).catch((err: unknown) => {
        throw withContext(`inspecting ${formatPlatform(wanted)} of "${ref.original}"`, err);
      });
      if (child.kind !== 'image') {
        throw new ManifestError('UNSUPPORTED', `the ${formatPlatform(wanted)} entry of "${ref.original}" is itself a list`);
      }
      return {
        ...base,
        kind: 'image',
        mediaType: child.mediaType,
        digest: child.digest,
        size: child.size,
        bytes: child.bytes,
        ...(child.manifest.annotations === undefined ? {} : { annotations: child.manifest.annotations }),
        image: await describeImage(reader, child, { signal, expandConfig: options.expandConfig === true }),
        resolvedFrom: { mediaType: top.mediaType, digest: top.digest },
      };
    }
    const manifests = await mapWithLimit(entries, options.concurrency ?? DEFAULT_CONCURRENCY, (entry) => describeEntry(reader, entry, { signal, expandConfig: options.expandConfig === true }))
      .catch((err: unknown) => { throw withContext(`inspecting "${ref.original}"`, err); });
    return {
      ...base,
      kind: 'list',
      mediaType: top.mediaType,
      digest: top.digest,
      size: top.size,
      bytes: top.bytes,
      ...(top.index.annotations === undefined ? {} : { annotations: top.index.annotations }),
      manifests,
    };
  }

  const image = await describeImage(reader, top, { signal, expandConfig: options.expandConfig === true }).catch((err: unknown) => {
    throw withContext(`inspecting "${ref.original}"`, err);
  });
  if (options.platform !== undefined && !platformMatches(options.platform, image.platform)) {
    throw new ManifestError('NOT_FOUND', `"${ref.original}" is a single image for ${formatPlatform(image.platform)}, not ${formatPlatform(options.platform)}`);
  }
  return {
    ...base,
    kind: 'image',
    mediaType: top.mediaType,
    digest: top.digest,
    size: top.size,
    bytes: top.bytes,
    ...(top.manifest.annotations === undefined ? {} : { annotations: top.manifest.annotations }),
    image,
  };
}
