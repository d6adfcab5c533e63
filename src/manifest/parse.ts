/**
 * Manifest bytes from a registry turned into checked structures. Everything is validated field by field: a
 * registry answer is hostile until checked (design.md §5). Schema 1 and unknown types are refused clearly.
 */
import { isDigest, type Digest } from '../digest.js';
import { ManifestError } from '../errors.js';
import {
  ANNOTATION_REFERENCE_TYPE, REFERENCE_TYPE_ATTESTATION, MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST,
  isImageMediaType, isIndexMediaType, isSchema1MediaType,
} from '../media-types.js';
import type { Platform } from '../platform.js';
import type { FetchedManifest } from '../registry/client.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../types/oci.js';

/** A manifest with its bytes, verified digest, effective media type and parsed content, kept together. */
export type Manifest = FetchedManifest & (
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'image'; mediaType: string; manifest: ImageManifest }
);

function invalid(message: string): never {
  throw new ManifestError('INVALID_RESPONSE', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkStringMap(value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) invalid(`${path} must be an object of strings`);
  return value as Record<string, string>;
}

function checkStringList(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) invalid(`${path} must be a list of strings`);
  return value;
}

/** Platform values are short identifiers (GOOS, GOARCH, "v7", "10.0.17763.1", "win32k"): anything else is refused. */
const PLATFORM_VALUE = /^[A-Za-z0-9._+-]{0,128}$/;

function checkPlatformValue(value: unknown, path: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || !PLATFORM_VALUE.test(value) || (required && value === '')) {
    invalid(`${path} must be a short identifier (letters, digits, ".", "_", "+", "-")`);
  }
}

function checkPlatform(value: unknown, path: string): Platform | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) invalid(`${path} must be an object`);
  checkPlatformValue(value.os, `${path}.os`, true);
  checkPlatformValue(value.architecture, `${path}.architecture`, true);
  checkPlatformValue(value.variant, `${path}.variant`, false);
  checkPlatformValue(value['os.version'], `${path}["os.version"]`, false);
  for (const key of ['os.features', 'features'] as const) {
    checkStringList(value[key], `${path}["${key}"]`)?.forEach((f, i) => checkPlatformValue(f, `${path}["${key}"][${i}]`, true));
  }
  return value as unknown as Platform;
}

function checkDescriptor(value: unknown, path: string): Descriptor {
  if (!isRecord(value)) invalid(`${path} must be an object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') invalid(`${path}.mediaType must be a non-empty string`);
  if (typeof digest !== 'string' || !isDigest(digest)) invalid(`${path}.digest is not a valid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`${path}.size must be a non-negative integer`);
  checkStringList(value.urls, `${path}.urls`);
  if (value.artifactType !== undefined && typeof value.artifactType !== 'string') invalid(`${path}.artifactType must be a string`);
  checkStringMap(value.annotations, `${path}.annotations`);
  checkPlatform(value.platform, `${path}.platform`);
  return value as unknown as Descriptor;
}

/** Returns the media type a manifest really has: its own `mediaType` field, else the Content-Type, else its shape. */
function effectiveMediaType(body: Record<string, unknown>, contentType: string): string {
  if (typeof body.mediaType === 'string' && body.mediaType !== '') return body.mediaType;
  if (isIndexMediaType(contentType) || isImageMediaType(contentType) || isSchema1MediaType(contentType)) return contentType;
  // OCI allows omitting mediaType; tell the two OCI kinds apart by their fields.
  if (Array.isArray(body.manifests)) return MEDIA_TYPE_OCI_INDEX;
  if (isRecord(body.config) && Array.isArray(body.layers)) return MEDIA_TYPE_OCI_MANIFEST;
  return contentType;
}

/** Parses and checks fetched manifest bytes; throws UNSUPPORTED for schema 1 and unknown types, INVALID_RESPONSE for malformed ones. */
export function parseManifest(fetched: FetchedManifest): Manifest {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fetched.bytes));
  } catch {
    const looksHtml = /^\s*</.test(Buffer.from(fetched.bytes.subarray(0, 64)).toString('latin1'));
    invalid(`the manifest is not valid JSON${looksHtml ? ' (the server sent an HTML page)' : ''}`);
  }
  if (!isRecord(body)) invalid('the manifest is not a JSON object');
  const mediaType = effectiveMediaType(body, fetched.contentType);
  if (body.schemaVersion === 1 || isSchema1MediaType(mediaType)) {
    throw new ManifestError('UNSUPPORTED', 'Docker schema 1 manifests are not supported (deprecated since 2019): push the image again with a current tool');
  }
  if (body.schemaVersion !== 2) invalid(`unsupported schemaVersion ${JSON.stringify(body.schemaVersion)?.slice(0, 20) ?? 'missing'}`);
  checkStringMap(body.annotations, 'annotations');
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(body.manifests)) invalid('the index has no "manifests" list');
    body.manifests.forEach((entry, i) => checkDescriptor(entry, `manifests[${i}]`));
    return { ...fetched, kind: 'index', mediaType, index: body as unknown as ImageIndex };
  }
  if (isImageMediaType(mediaType)) {
    checkDescriptor(body.config, 'config');
    if (!Array.isArray(body.layers)) invalid('the manifest has no "layers" list');
    body.layers.forEach((layer, i) => checkDescriptor(layer, `layers[${i}]`));
    return { ...fetched, kind: 'image', mediaType, manifest: body as unknown as ImageManifest };
  }
  const shown = mediaType === '' ? 'no media type' : `"${mediaType.slice(0, 100)}"`;
  throw new ManifestError('UNSUPPORTED', `unsupported manifest type ${shown} (expected ${[MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_MANIFEST].join(', ')})`);
}

/** Parses an image config blob, keeping only the platform fields; a malformed config is INVALID_RESPONSE. */
export function parseImageConfig(bytes: Uint8Array, digest: Digest): ImageConfig {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    invalid(`image config ${digest} is not valid JSON`);
  }
  if (!isRecord(body)) invalid(`image config ${digest} is not a JSON object`);
  const config: ImageConfig = {};
  for (const key of ['architecture', 'os', 'variant', 'os.version', 'created'] as const) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') invalid(`image config ${digest}: "${key}" must be a string`);
    config[key] = value;
  }
  const features = checkStringList(body['os.features'] ?? undefined, `image config ${digest}: "os.features"`);
  if (features !== undefined) config['os.features'] = features;
  return config;
}

/** What `inspect --expand-config` shows of an image config (the fields manifest-tool's expanded view shows). */
export interface ImageConfigDetails {
  created?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  labels?: Record<string, string>;
  'os.version'?: string;
}

/** Parses an image config blob for its details (creation time, entrypoint, command, environment, labels); malformed ones are INVALID_RESPONSE. */
export function parseImageConfigDetails(bytes: Uint8Array, digest: Digest): ImageConfigDetails {
  const base = parseImageConfig(bytes, digest);
  const body = JSON.parse(new TextDecoder('utf-8').decode(bytes)) as Record<string, unknown>;
  const details: ImageConfigDetails = {};
  if (base.created !== undefined) details.created = base.created;
  const run = isRecord(body['config']) ? body['config'] : undefined;
  if (run === undefined && body['config'] !== undefined && body['config'] !== null) invalid(`image config ${digest}: "config" must be an object`);
  const lists = [['Entrypoint', 'entrypoint'], ['Cmd', 'cmd'], ['Env', 'env']] as const;
  for (const [key, field] of lists) {
    const value = checkStringList(run?.[key] ?? undefined, `image config ${digest}: "config.${key}"`);
    if (value !== undefined) details[field] = value;
  }
  const labels = checkStringMap(run?.['Labels'] ?? undefined, `image config ${digest}: "config.Labels"`);
  if (labels !== undefined) details.labels = labels;
  if (base['os.version'] !== undefined && base['os.version'] !== '') details['os.version'] = base['os.version'];
  return details;
}

/** Returns the platform an image config declares, or undefined when it names no os and architecture. */
export function platformOfConfig(config: ImageConfig): Platform | undefined {
  if (config.os === undefined || config.architecture === undefined) return undefined;
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant !== undefined && config.variant !== '') platform.variant = config.variant;
  if (config['os.version'] !== undefined && config['os.version'] !== '') platform['os.version'] = config['os.version'];
  if (config['os.features'] !== undefined && config['os.features'].length > 0) platform['os.features'] = config['os.features'];
  return platform;
}

/** Tells whether a list entry is an attestation (buildx's provenance or SBOM manifest), not an image for a platform. */
export function isAttestationEntry(entry: Descriptor): boolean {
  return entry.annotations?.[ANNOTATION_REFERENCE_TYPE] === REFERENCE_TYPE_ATTESTATION;
}
