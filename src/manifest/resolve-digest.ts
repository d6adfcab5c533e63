/**
 * The digest a reference resolves to, for pinning (`image@sha256:…` in CI): a HEAD first (Docker Hub counts GETs,
 * not HEADs, against its rate limit), a GET and a hash when the registry sends no Docker-Content-Digest. With a
 * platform, the list is read and that platform's entry chosen as inspect --platform chooses it.
 */
import type { Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { formatPlatform, isUnknownPlatform, platformMatches, type Platform } from '../platform.js';
import type { Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import type { ImageReader } from '../store/image-store.js';
import { withImageReader } from '../store/open-static-store.js';
import { isStaticReference } from '../store/static-location.js';
import { readImagePlatform } from './image-platform.js';
import { selectEntry } from './inspect.js';
import { parseManifest } from './parse.js';

/** Options of resolveDigest. */
export interface ResolveDigestOptions {
  /** Client to use; when omitted, an anonymous https client, closed afterwards. Not used for a static store. */
  client?: RegistryClient;
  /** Give the digest of this platform's image in a list; when omitted, the digest of what the reference names. */
  platform?: Platform;
  /** Aborts the look-up; when omitted, it runs to completion. */
  signal?: AbortSignal;
}

/** What a reference resolves to. */
export interface ResolvedDigest {
  /** The reference as the user gave it. */
  name: string;
  /** The canonical reference. */
  reference: string;
  digest: Digest;
  /** Media type, when the registry said it (a HEAD may not). */
  mediaType?: string;
  /** Size in bytes, when known. */
  size?: number;
  /** With a platform: the platform of the chosen entry, as the list gives it. */
  platform?: Platform;
  /** With a platform, when the reference named a list: the list the entry was chosen from. */
  resolvedFrom?: { mediaType: string; digest: Digest };
  /** How the digest was learned: the registry's Docker-Content-Digest on a HEAD, or the hash of the bytes (always, for a static store). */
  source: 'head' | 'bytes';
}

/**
 * Resolves `ref` to a digest. Throws NOT_FOUND when the tag (or, with a platform, that platform's image) is
 * missing; a digest the registry claims on a GET is checked against the bytes. A static store's reference
 * (dir:, s3://) is read from the store itself.
 */
export async function resolveDigest(ref: Reference, options: ResolveDigestOptions = {}): Promise<ResolvedDigest> {
  return withImageReader(ref, options.client, async (reader) => {
    try {
      return await resolveWith(reader, ref, options);
    } catch (err) {
      throw withContext(`resolving "${ref.original}"`, err);
    }
  });
}

async function resolveWith(reader: ImageReader, ref: Reference, options: ResolveDigestOptions): Promise<ResolvedDigest> {
  const { signal } = options;
  const base = { name: ref.original, reference: ref.toString() };
  if (options.platform === undefined) {
    const head = await reader.headManifest(ref.identifier, { signal });
    if (head === undefined) {
      // A static store says why itself: no such tag, or no static registry at that root at all.
      if (isStaticReference(ref)) await reader.getManifest(ref.identifier, { signal });
      throw new ManifestError('NOT_FOUND', `${ref.digest === undefined ? 'tag' : 'manifest'} ${ref.identifier} not found in ${ref.name}`);
    }
    if (head.digest !== undefined && (ref.digest === undefined || head.digest === ref.digest)) {
      return {
        ...base,
        digest: head.digest,
        ...(head.contentType === undefined ? {} : { mediaType: head.contentType }),
        ...(head.size === undefined ? {} : { size: head.size }),
        // A static store's tag file is read and hashed to answer the head.
        source: isStaticReference(ref) ? 'bytes' : 'head',
      };
    }
  }
  const top = parseManifest(await reader.getManifest(ref.identifier, { signal }));
  if (options.platform === undefined) return { ...base, digest: top.digest, mediaType: top.mediaType, size: top.size, source: 'bytes' };
  const wanted = options.platform;
  if (top.kind === 'image') {
    const platform = await readImagePlatform(reader, top.manifest, signal);
    if (!platformMatches(wanted, platform)) {
      throw new ManifestError('NOT_FOUND', `"${ref.original}" is a single image for ${formatPlatform(platform)}, not ${formatPlatform(wanted)}`);
    }
    return { ...base, digest: top.digest, mediaType: top.mediaType, size: top.size, ...(platform === undefined ? {} : { platform }), source: 'bytes' };
  }
  const entry = selectEntry(top.index.manifests, wanted);
  if (entry === undefined) {
    const have = top.index.manifests.filter((e) => !isUnknownPlatform(e.platform)).map((e) => formatPlatform(e.platform)).join(', ') || 'none';
    throw new ManifestError('NOT_FOUND', `"${ref.original}" has no image for ${formatPlatform(wanted)} (it has: ${have})`);
  }
  return {
    ...base,
    // The entry comes from list bytes whose digest was verified: its digest is as trustworthy as the list's.
    digest: entry.digest as Digest,
    mediaType: entry.mediaType,
    size: entry.size,
    ...(entry.platform === undefined ? {} : { platform: entry.platform }),
    resolvedFrom: { mediaType: top.mediaType, digest: top.digest },
    source: 'bytes',
  };
}
