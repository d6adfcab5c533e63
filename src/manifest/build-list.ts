/**
 * Builds a manifest list or OCI index from entries: pure and deterministic (design.md §4). Entries keep their
 * order, every object is written with the key order of the specs' Go types and 2-space indentation, annotation
 * keys are sorted (as Go's encoder does), and the digest is computed once from the final bytes, which are pushed.
 */
import { digestOf, type Digest } from '../digest.js';
import { ManifestError } from '../errors.js';
import {
  MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_INDEX,
} from '../media-types.js';
import { formatPlatform, type Platform } from '../platform.js';
import type { Descriptor } from '../types/oci.js';

/** Which kind of list to build: a Docker manifest list, an OCI index, or whichever the entries allow. */
export type ListType = 'docker' | 'oci' | 'auto';

/** Options of buildManifestList. */
export interface BuildManifestListOptions {
  /**
   * Kind of list; when omitted, 'auto': a Docker list when every entry is a Docker v2 schema 2 image and nothing
   * carries annotations, else an OCI index.
   */
  type?: ListType;
  /** Annotations of the list itself (OCI only); when omitted, none. */
  annotations?: Record<string, string>;
}

/** A built list: the exact bytes to push, their digest and media type. */
export interface BuiltManifestList {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
  size: number;
}

function sortedMap(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(map).sort()) out[key] = map[key] as string;
  return out;
}

/** Writes a platform with the key order of the OCI and Docker specs' Go structs. */
function platformJson(p: Platform): Record<string, unknown> {
  return {
    architecture: p.architecture,
    os: p.os,
    ...(p['os.version'] === undefined ? {} : { 'os.version': p['os.version'] }),
    ...(p['os.features'] === undefined ? {} : { 'os.features': p['os.features'] }),
    ...(p.variant === undefined || p.variant === '' ? {} : { variant: p.variant }),
    ...(p.features === undefined ? {} : { features: p.features }),
  };
}

function hasAnnotations(map: Record<string, string> | undefined): boolean {
  return map !== undefined && Object.keys(map).length > 0;
}

/** Decides the list's media type, or says why the asked-for type cannot hold these entries. */
function listMediaType(entries: readonly Descriptor[], options: BuildManifestListOptions): string {
  const type = options.type ?? 'auto';
  const annotated = hasAnnotations(options.annotations) || entries.some((e) => hasAnnotations(e.annotations));
  const nonDocker = entries.find((e) => e.mediaType !== MEDIA_TYPE_DOCKER_MANIFEST);
  if (type === 'oci') return MEDIA_TYPE_OCI_INDEX;
  if (type === 'docker') {
    if (annotated) {
      throw new ManifestError('USAGE', 'a Docker manifest list cannot carry annotations: make an OCI index (--type oci) or remove the annotations');
    }
    if (nonDocker !== undefined) {
      throw new ManifestError('USAGE', `a Docker manifest list holds Docker v2 schema 2 images only, but the ${formatPlatform(nonDocker.platform)} entry ${nonDocker.digest} is ${nonDocker.mediaType}: make an OCI index (--type oci), which holds both kinds`);
    }
    return MEDIA_TYPE_DOCKER_MANIFEST_LIST;
  }
  return annotated || nonDocker !== undefined ? MEDIA_TYPE_OCI_INDEX : MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

/**
 * Builds the list's bytes from its entries, in their order. Throws USAGE when `type` is 'docker' and an entry
 * is not a Docker image or something carries annotations; INVALID_INPUT when there is no entry.
 */
export function buildManifestList(entries: readonly Descriptor[], options: BuildManifestListOptions = {}): BuiltManifestList {
  if (entries.length === 0) throw new ManifestError('INVALID_INPUT', 'a list needs at least one entry');
  const mediaType = listMediaType(entries, options);
  const docker = mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
  const manifests = entries.map((e) => {
    const platform = e.platform === undefined ? {} : { platform: platformJson(e.platform) };
    const annotations = hasAnnotations(e.annotations) ? { annotations: sortedMap(e.annotations ?? {}) } : {};
    const urls = e.urls === undefined || e.urls.length === 0 ? {} : { urls: e.urls };
    // The field order of the Go types registries and peer tools use: Docker's ManifestDescriptor (size before
    // digest), and image-spec's Descriptor (digest, size, urls, annotations, platform, artifactType).
    return docker
      ? { mediaType: e.mediaType, size: e.size, digest: e.digest, ...urls, ...platform }
      : {
        mediaType: e.mediaType, digest: e.digest, size: e.size, ...urls, ...annotations, ...platform,
        ...(e.artifactType === undefined ? {} : { artifactType: e.artifactType }),
      };
  });
  const list = {
    schemaVersion: 2,
    mediaType,
    manifests,
    ...(!docker && hasAnnotations(options.annotations) ? { annotations: sortedMap(options.annotations ?? {}) } : {}),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(list, null, 2));
  return { bytes, digest: digestOf(bytes), mediaType, size: bytes.length };
}
