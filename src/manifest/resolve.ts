/**
 * Resolves a spec's sources into the entries of the list to build: each source's digest, size and media type
 * from the registry (hashed from the bytes), its platform from the spec or the image config, a source list
 * flattened into its children. All sources are resolved concurrently, with an explicit limit.
 */
import { basename } from 'node:path';
import type { ArchiveSession } from '../archive/session.js';
import { isArchiveSource } from '../archive/source.js';
import type { Digest } from '../digest.js';
import { isManifestError, ManifestError, withContext, type ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { ANNOTATION_REFERENCE_DIGEST, isImageMediaType } from '../media-types.js';
import { mapWithLimit } from '../map-with-limit.js';
import { formatPlatform, normalizePlatform, platformKey, platformMatches, validatePlatform, type Platform } from '../platform.js';
import type { ProgressSink } from '../progress.js';
import type { Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import type { ImageReader } from '../store/image-store.js';
import { registryLocation, RegistryRepository } from '../store/registry-repository.js';
import type { PushSpec, PushSpecEntry } from '../spec/types.js';
import type { Descriptor } from '../types/oci.js';
import { readImagePlatform } from './image-platform.js';
import { isAttestationEntry, parseManifest, type Manifest } from './parse.js';

/** Most sources resolved at once when no limit is given. */
export const DEFAULT_CONCURRENCY = 16;

/** Options of resolveSources. */
export interface ResolveOptions {
  /** Client for every registry involved. */
  client: RegistryClient;
  /** Check a declared platform against the image config; when omitted, true (a mismatch is INVALID_INPUT). */
  verifyPlatform?: boolean;
  /** Replace a source list by its children; when omitted, true. When false the list is nested as one entry. */
  flatten?: boolean;
  /** Skip sources that cannot be reached or found, with a warning; when omitted, they fail the push. */
  ignoreMissing?: boolean;
  /** Most sources resolved at once; when omitted, DEFAULT_CONCURRENCY. */
  concurrency?: number;
  /** Aborts resolution; when omitted, it runs to completion. */
  signal?: AbortSignal;
  /** Warnings (skipped sources) and debug lines; when omitted, nothing is logged. */
  logger?: Logger;
  /** Told as each source is resolved; when omitted, nothing is told. */
  progress?: ProgressSink;
  /** Opens local sources (docker-archive:, oci:, oci-archive:); when omitted, a spec naming one fails with USAGE. */
  archives?: ArchiveSession;
}

/** One entry of the list to build, with the repository its manifest lives in. */
export interface ResolvedEntry {
  /** The descriptor the list will carry. */
  descriptor: Descriptor & { digest: Digest };
  /** Where the manifest (by the descriptor's digest) and its blobs can be read from. */
  reader: ImageReader;
  /** The spec entry it came from (a flattened list gives several entries from one). */
  from: PushSpecEntry;
  /** The manifest, when it was fetched (it is fetched again by digest if a copy needs it). */
  manifest?: Manifest;
  /** Whether this is an attestation entry (kept, never counted as a platform). */
  attestation: boolean;
}

/** A source left out by --ignore-missing, and why. */
export interface SkippedSource {
  image: string;
  reason: string;
}

/** The list's entries in order, and what was skipped. */
export interface ResolveResult {
  entries: ResolvedEntry[];
  skipped: SkippedSource[];
}

/**
 * Failures --ignore-missing skips: a source that does not exist. One that cannot be reached (a timeout, a 503, a
 * refused credential) still fails the push, so a network blip never silently drops a platform from a release.
 */
const MISSING_CODES: ReadonlySet<ErrorCode> = new Set(['NOT_FOUND']);

function describe(entry: PushSpecEntry, spec: PushSpec): string {
  const file = spec.source?.file;
  const at = entry.line === undefined ? '' : file === undefined || file.startsWith('--') ? ` (line ${entry.line})` : ` (${file}:${entry.line})`;
  return `${entry.platform === undefined ? '' : `${formatPlatform(entry.platform)} `}"${entry.image.original}"${at}`;
}

/**
 * Compares a declared os.version with the config's: 'same' when equal or a prefix at a dot ("10.0.17763" of
 * "10.0.17763.1879"); 'revision' when only the 4th number differs (Windows nodes pick an image by its build, the
 * 3rd number, so the spec's value can be written); else 'different'.
 */
function compareOsVersion(declared: string, actual: string): 'same' | 'revision' | 'different' {
  if (declared === actual || actual.startsWith(`${declared}.`)) return 'same';
  const build = (version: string): string => version.split('.').slice(0, 3).join('.');
  const parts = declared.split('.');
  return parts.length === 4 && actual.split('.').length >= 3 && build(declared) === build(actual) ? 'revision' : 'different';
}

/**
 * Tells whether an image's config contradicts the platform a spec declares: os and architecture must match;
 * a variant or os.version only when both sides name one (many arm images' configs carry no variant), and an
 * os.version only in its build number (see compareOsVersion).
 */
function contradicts(declared: Platform, actual: Platform): boolean {
  const want = normalizePlatform(declared);
  const have = normalizePlatform(actual);
  if (want.os !== have.os || want.architecture !== have.architecture) return true;
  if (want.variant !== undefined && have.variant !== undefined && want.variant !== have.variant) return true;
  return want['os.version'] !== undefined && have['os.version'] !== undefined && compareOsVersion(want['os.version'], have['os.version']) === 'different';
}

/** Fills the fields a partial platform (`platform: {}`, `{variant: v7}`) leaves out from the config's, as manifest-tool does. */
function fillPlatform(fields: Partial<Platform>, config: Platform): Platform {
  const base = normalizePlatform(config);
  const platform: Platform = { ...fields, os: fields.os ?? base.os, architecture: fields.architecture ?? base.architecture };
  // The config's variant describes the config's architecture: it is kept only while the spec does not name another.
  if (platform.variant === undefined && base.variant !== undefined && platform.architecture === base.architecture) platform.variant = base.variant;
  return platform;
}

/**
 * Completes a declared platform from the image config, as manifest-tool does: a variant, os.version or
 * os.features the spec leaves out is taken from the config, so Windows nodes can pick by os.version and an
 * arm/v6 image declared as linux/arm is not listed as (default) v7.
 */
function completePlatform(declared: Platform, config: Platform | undefined): Platform {
  if (config === undefined || contradicts(declared, config)) return declared;
  const out: Platform = { ...declared };
  if (out.variant === undefined && config.variant !== undefined) out.variant = config.variant;
  if (out['os.version'] === undefined && config['os.version'] !== undefined) out['os.version'] = config['os.version'];
  if (out['os.features'] === undefined && config['os.features'] !== undefined) out['os.features'] = config['os.features'];
  return normalizePlatform(out);
}

/** Tells whether the config could add to a declared platform (a Windows os.version, an arm or arm64 variant). */
function isCompletable(platform: Platform): boolean {
  return (platform.os === 'windows' && platform['os.version'] === undefined)
    || ((platform.architecture === 'arm' || platform.architecture === 'arm64') && platform.variant === undefined);
}

/** Resolves one spec entry to the list entries it contributes. */
async function resolveEntry(entry: PushSpecEntry, target: Reference, options: ResolveOptions): Promise<ResolvedEntry[]> {
  const { signal } = options;
  const verify = options.verifyPlatform !== false;
  const source = entry.image;
  if (isArchiveSource(source)) {
    if (options.archives === undefined) throw new ManifestError('USAGE', `${source.original} is a local source, and no archive session was given to open it`);
    const local = await options.archives.open(source, { signal });
    return resolveFrom(entry, local, source.selector ?? '', options);
  }
  const reader = new RegistryRepository(options.client, source);
  // Without a need for the body (a declared, complete, unverified platform in the target repository), a HEAD may do.
  const needBody = verify || entry.platform === undefined || isCompletable(entry.platform) || reader.location !== registryLocation(target);
  if (!needBody) {
    const head = await reader.headManifest(source.identifier, { signal });
    if (head === undefined) throw new ManifestError('NOT_FOUND', `${source.digest === undefined ? 'tag' : 'manifest'} ${source.identifier} not found in ${source.name}`);
    // Anything short of a digest, a type and a plausible size (a proxy may zero Content-Length on HEAD) needs a GET.
    if (head.digest !== undefined && head.size !== undefined && head.size > 0 && head.contentType !== undefined && isImageMediaType(head.contentType)) {
      return [{
        descriptor: { mediaType: head.contentType, digest: head.digest, size: head.size, platform: entry.platform as Platform, ...annotationsOf(entry) },
        reader,
        from: entry,
        attestation: false,
      }];
    }
  }
  return resolveFrom(entry, reader, source.identifier, options);
}

/** Resolves one spec entry from its source's manifest, read by `identifier` (a tag, digest or archive selector). */
async function resolveFrom(entry: PushSpecEntry, reader: ImageReader, identifier: string, options: ResolveOptions): Promise<ResolvedEntry[]> {
  const { signal } = options;
  const verify = options.verifyPlatform !== false;
  const flatten = options.flatten !== false;
  const manifest = parseManifest(await reader.getManifest(identifier, { signal }));
  const base = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };

  if (manifest.kind === 'image') {
    let platform = entry.platform;
    if (platform === undefined || verify || isCompletable(platform)) {
      const fromConfig = await readImagePlatform(reader, manifest.manifest, signal);
      if (platform === undefined && fromConfig === undefined) {
        throw new ManifestError('INVALID_INPUT', `cannot tell the platform of ${manifest.digest}: its config names none; declare it in the spec (platform: {os, architecture})`);
      }
      if (platform === undefined && entry.platformFields !== undefined && fromConfig !== undefined) {
        platform = fillPlatform(entry.platformFields, fromConfig);
        validatePlatform(platform);
      }
      if (platform === undefined) {
        platform = normalizePlatform(fromConfig as Platform);
      } else if (verify && fromConfig !== undefined && contradicts(platform, fromConfig)) {
        const declarer = entry.platformFromName === true ? `its file name (${basename(entry.image.original)})` : 'the spec';
        const fix = entry.platformFromName === true ? 'rename the file' : 'fix the spec';
        throw new ManifestError('INVALID_INPUT', `${declarer} says ${formatPlatform(platform)} but the image's config says ${formatPlatform(fromConfig)}; ${fix}, or push anyway with --no-verify-platform`);
      } else {
        const declared = platform['os.version'];
        const actual = fromConfig?.['os.version'];
        if (declared !== undefined && actual !== undefined && compareOsVersion(declared, actual) === 'revision') {
          (options.logger ?? silentLogger).warn(`${entry.image.original}: the spec's os.version ${declared} differs from the image's ${actual} in the revision only; writing ${declared} (nodes match on the build number)`);
        }
        platform = completePlatform(platform, fromConfig);
      }
    }
    return [{ descriptor: { ...base, platform, ...annotationsOf(entry) }, reader, from: entry, manifest, attestation: false }];
  }

  if (!flatten) {
    return [{
      descriptor: { ...base, ...(entry.platform === undefined ? {} : { platform: entry.platform }), ...annotationsOf(entry) },
      reader,
      from: entry,
      manifest,
      attestation: false,
    }];
  }
  let children = manifest.index.manifests as (Descriptor & { digest: Digest })[];
  if (entry.platform !== undefined) {
    // A declared platform picks that platform's image out of the source list, with the attestations about it.
    const wanted = entry.platform;
    const chosen = children.find((c) => !isAttestationEntry(c) && platformMatches(wanted, c.platform));
    if (chosen === undefined) {
      const have = children.filter((c) => !isAttestationEntry(c)).map((c) => formatPlatform(c.platform)).join(', ') || 'none';
      throw new ManifestError('NOT_FOUND', `the list ${manifest.digest} has no image for ${formatPlatform(wanted)} (it has: ${have})`);
    }
    children = children.filter((c) => c === chosen || (isAttestationEntry(c) && c.annotations?.[ANNOTATION_REFERENCE_DIGEST] === chosen.digest));
  }
  return children.map((child) => {
    const attestation = isAttestationEntry(child);
    const annotations = attestation ? child.annotations : mergeAnnotations(child.annotations, entry.annotations);
    const descriptor: ResolvedEntry['descriptor'] = { mediaType: child.mediaType, digest: child.digest, size: child.size };
    if (child.urls !== undefined) descriptor.urls = child.urls;
    if (annotations !== undefined) descriptor.annotations = annotations;
    if (child.platform !== undefined) descriptor.platform = child.platform;
    if (child.artifactType !== undefined) descriptor.artifactType = child.artifactType;
    return { descriptor, reader, from: entry, attestation };
  });
}

function annotationsOf(entry: PushSpecEntry): { annotations?: Record<string, string> } {
  return entry.annotations === undefined || Object.keys(entry.annotations).length === 0 ? {} : { annotations: entry.annotations };
}

function mergeAnnotations(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> | undefined {
  if (a === undefined || Object.keys(a).length === 0) return b === undefined || Object.keys(b).length === 0 ? undefined : b;
  return { ...a, ...b };
}

/** Throws INVALID_INPUT when two entries serve the same platform (design.md §4 says what counts as the same). */
function checkDuplicates(entries: readonly ResolvedEntry[], file: string | undefined): void {
  const seen = new Map<string, ResolvedEntry>();
  for (const entry of entries) {
    const platform = entry.descriptor.platform;
    if (entry.attestation || platform === undefined) continue;
    const key = platformKey(platform);
    const first = seen.get(key);
    if (first !== undefined) {
      const at = (e: ResolvedEntry): string => (e.from.line === undefined ? '' : `, ${file === undefined ? 'line ' : `${file}:`}${e.from.line}`);
      throw new ManifestError('INVALID_INPUT', `two entries are for ${formatPlatform(platform)}: "${first.from.image.original}" (${first.descriptor.digest}${at(first)}) and "${entry.from.image.original}" (${entry.descriptor.digest}${at(entry)})`);
    }
    seen.set(key, entry);
  }
}

/**
 * Resolves every source of `spec` concurrently (bounded) into list entries, in spec order. A source that cannot be
 * found fails with its context ("resolving linux/arm64 "r/app:arm64": …"), or is skipped with --ignore-missing.
 */
export async function resolveSources(spec: PushSpec, options: ResolveOptions): Promise<ResolveResult> {
  const logger = options.logger ?? silentLogger;
  let resolved = 0;
  const outcomes = await mapWithLimit(spec.manifests, options.concurrency ?? DEFAULT_CONCURRENCY, async (entry): Promise<ResolvedEntry[] | SkippedSource> => {
    try {
      const found = await resolveEntry(entry, spec.target, options);
      options.progress?.({ kind: 'resolved', done: ++resolved, total: spec.manifests.length });
      return found;
    } catch (err) {
      const wrapped = withContext(`resolving ${describe(entry, spec)}`, err);
      if (options.ignoreMissing === true && isManifestError(err) && MISSING_CODES.has(err.code)) {
        logger.warn(`skipping ${entry.image.original}: ${wrapped.message}`);
        return { image: entry.image.original, reason: wrapped.message };
      }
      throw wrapped;
    }
  });
  const entries = outcomes.flatMap((o) => (Array.isArray(o) ? o : []));
  const skipped = outcomes.filter((o): o is SkippedSource => !Array.isArray(o));
  if (entries.length === 0) {
    throw new ManifestError('NOT_FOUND', `nothing to push for ${spec.target.original}: every source was skipped (${skipped.map((s) => s.image).join(', ')})`);
  }
  if (entries.every((e) => e.attestation)) {
    throw new ManifestError('NOT_FOUND', `nothing to push for ${spec.target.original}: only attestations are left`);
  }
  checkDuplicates(entries, spec.source?.file.startsWith('--') === true ? undefined : spec.source?.file);
  return { entries, skipped };
}
