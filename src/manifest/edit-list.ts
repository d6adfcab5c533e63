/**
 * Edits a list that is already pushed: platforms added or replaced (`manifest index add`, `pushml --append`) or
 * taken out (`manifest index remove`). The current list is read from the target tag, merged here (pure), and the
 * result goes through pushManifestList: the same contract as any push (sources resolved and checked, children
 * copied, the list by digest, then the tags, then the read-back). The list keeps its type and annotations and
 * every other entry byte for byte as a descriptor: digest, size, media type, platform, annotations.
 */
import type { ArchiveSource } from '../archive/source.js';
import type { Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { ANNOTATION_REFERENCE_DIGEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST } from '../media-types.js';
import { defaultVariantOf, formatPlatform, normalizePlatform, platformKey, type Platform } from '../platform.js';
import type { Reference } from '../ref.js';
import { withClient, type RegistryClient } from '../registry/client.js';
import type { PushSpec } from '../spec/types.js';
import type { ImageReader } from '../store/image-store.js';
import { openTargetStore } from '../store/open-static-store.js';
import { isStaticReference } from '../store/static-location.js';
import type { ListType } from './build-list.js';
import { isAttestationEntry, parseManifest, type Manifest } from './parse.js';
import { pushManifestList, type ListEdit, type PushOptions, type PushResult } from './push.js';
import type { ResolvedEntry } from './resolve.js';

/** Options of addToList, removeFromList and appendToList: those of a push, without its own edit. */
export interface EditListOptions extends Omit<PushOptions, 'edit' | 'type'> {
  /** Kind of the edited list; when omitted or undefined, the kind the list has now (a Docker list stays one). */
  type?: ListType | undefined;
}

/** The list a tag holds now, as entries that live in the target repository. */
interface CurrentList {
  digest: Digest;
  type: ListType;
  annotations?: Record<string, string>;
  entries: ResolvedEntry[];
}

function checkTarget(target: Reference): void {
  if (target.tag === undefined) {
    throw new ManifestError('USAGE', `"${target.original}" names a digest; editing a list needs the tag to move, such as ${target.name}:1.0`);
  }
}

/** Reads the list `target` holds now; undefined when the tag does not exist. Throws INVALID_INPUT for an image. */
async function readCurrentList(client: RegistryClient, target: Reference, signal: AbortSignal | undefined): Promise<CurrentList | undefined> {
  // Read where the list is kept: a registry repository, or a static tree (dir:, s3://) that the push writes to.
  const store: ImageReader = openTargetStore(client, target);
  let manifest: Manifest;
  try {
    manifest = parseManifest(await store.getManifest(target.tag ?? '', { signal }));
  } catch (err) {
    if (err instanceof ManifestError && err.code === 'NOT_FOUND') return undefined;
    throw withContext(`reading the list ${target.original}`, err);
  }
  if (manifest.kind !== 'index') {
    throw new ManifestError('INVALID_INPUT', `${target.original} is a single image (${manifest.mediaType}), not a list; push a list first (manifest pushml)`);
  }
  // The entries are in the target repository already: the push copies nothing for them, nor reads them back.
  const reader = store;
  const entries = manifest.index.manifests.map((d): ResolvedEntry => {
    // A static store is addressed by tag only: its entries are named by the list's tag in messages.
    const at = isStaticReference(target) ? target : target.withDigest(d.digest as Digest);
    return { descriptor: { ...d, digest: d.digest as Digest }, reader, from: { image: at }, attestation: isAttestationEntry(d) };
  });
  return {
    digest: manifest.digest,
    type: manifest.mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST ? 'docker' : 'oci',
    ...(manifest.index.annotations === undefined ? {} : { annotations: manifest.index.annotations }),
    entries,
  };
}

/** Returns the attestation entries among `entries` that describe the image `digest`. */
function attestationsOf(entries: readonly ResolvedEntry[], digest: string): ResolvedEntry[] {
  return entries.filter((e) => e.attestation && e.descriptor.annotations?.[ANNOTATION_REFERENCE_DIGEST] === digest);
}

/**
 * Merges `added` into `current`: an added image whose platform the list already has (the duplicate rule of
 * design.md §4) takes the old entry's place, and the attestations of the old image go with it; other added
 * images come after the list's entries, in their order. Attestations of added images follow their image.
 */
export function mergeListEntries(current: readonly ResolvedEntry[], added: readonly ResolvedEntry[]): ResolvedEntry[] {
  const replacing = new Map<number, ResolvedEntry>();
  const appended: ResolvedEntry[] = [];
  for (const entry of added) {
    if (entry.attestation) continue;
    const platform = entry.descriptor.platform;
    const key = platform === undefined ? undefined : platformKey(platform);
    const at = key === undefined ? -1 : current.findIndex((c) => !c.attestation && c.descriptor.platform !== undefined && platformKey(c.descriptor.platform) === key);
    if (at >= 0) replacing.set(at, entry);
    else appended.push(entry);
  }
  const replacedDigests = new Set([...replacing.keys()].map((i) => current[i]?.descriptor.digest));
  const out: ResolvedEntry[] = [];
  const withAttestations = (entry: ResolvedEntry): ResolvedEntry[] => [entry, ...attestationsOf(added, entry.descriptor.digest)];
  current.forEach((entry, i) => {
    const replacement = replacing.get(i);
    if (replacement !== undefined) out.push(...withAttestations(replacement));
    else if (!(entry.attestation && replacedDigests.has(entry.descriptor.annotations?.[ANNOTATION_REFERENCE_DIGEST] as Digest))) out.push(entry);
  });
  for (const entry of appended) out.push(...withAttestations(entry));
  // Attestations whose image is not among the added ones (a source list's loose attestations) are kept at the end.
  const placed = new Set(out);
  out.push(...added.filter((e) => e.attestation && !placed.has(e)));
  return out;
}

/**
 * Tells whether `entry` is the image `wanted` names for removal: os and architecture equal, the variant equal
 * once defaults are filled in (linux/arm is arm/v7, not v6; linux/arm64 is arm64/v8), os.version when named.
 */
function isRemoved(wanted: Platform, entry: Platform | undefined): boolean {
  if (entry === undefined) return false;
  const want = normalizePlatform(wanted);
  const have = normalizePlatform(entry);
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if ((want.variant ?? defaultVariantOf(want.architecture)) !== (have.variant ?? defaultVariantOf(have.architecture))) return false;
  return want['os.version'] === undefined || want['os.version'] === have['os.version'];
}

/**
 * Takes the images of `platforms` out of `current`, with their attestations. Throws NOT_FOUND when the list
 * has no image for one of them, INVALID_INPUT when no image would be left.
 */
export function removeListEntries(current: readonly ResolvedEntry[], platforms: readonly Platform[], name: string): ResolvedEntry[] {
  const removed = new Set<string>();
  for (const wanted of platforms) {
    const matches = current.filter((e) => !e.attestation && isRemoved(wanted, e.descriptor.platform));
    if (matches.length === 0) {
      const have = current.filter((e) => !e.attestation).map((e) => formatPlatform(e.descriptor.platform)).join(', ') || 'none';
      throw new ManifestError('NOT_FOUND', `${name} has no image for ${formatPlatform(wanted)} (it has: ${have})`);
    }
    for (const m of matches) removed.add(m.descriptor.digest);
  }
  const out = current.filter((e) => !removed.has(e.descriptor.digest)
    && !(e.attestation && removed.has(e.descriptor.annotations?.[ANNOTATION_REFERENCE_DIGEST] ?? '')));
  if (out.every((e) => e.attestation)) {
    throw new ManifestError('INVALID_INPUT', `removing ${platforms.map((p) => formatPlatform(p)).join(', ')} would leave ${name} without an image; delete the tag instead`);
  }
  return out;
}

/** Pushes `spec` as an edit of `current`: `merge` makes the entries; type and annotations are the list's own. */
function pushEdit(client: RegistryClient, spec: PushSpec, current: CurrentList, options: EditListOptions, merge: (added: readonly ResolvedEntry[]) => ResolvedEntry[]): Promise<PushResult> {
  const annotations = current.annotations === undefined && spec.annotations === undefined ? undefined : { ...current.annotations, ...spec.annotations };
  const edit = (added: readonly ResolvedEntry[]): ListEdit => ({
    entries: merge(added),
    type: options.type ?? current.type,
    ...(annotations === undefined ? {} : { annotations }),
  });
  return pushManifestList(spec, { ...options, client, edit, type: options.type ?? current.type });
}

/** Reads the current list with the token the push will use (pull and push), unless nothing will be pushed. */
function readForEdit(client: RegistryClient, target: Reference, options: EditListOptions): Promise<CurrentList | undefined> {
  if (options.dryRun !== true) client.willPush(target);
  return readCurrentList(client, target, options.signal);
}

/**
 * Adds the images of `sources` (their platforms read from their configs; a source list gives all its images) to
 * the list `target` holds, replacing the entries of the same platforms. Throws NOT_FOUND when the tag is missing.
 */
export async function addToList(target: Reference, sources: readonly (Reference | ArchiveSource)[], options: EditListOptions = {}): Promise<PushResult> {
  checkTarget(target);
  if (sources.length === 0) throw new ManifestError('USAGE', 'name at least one image to add');
  return withClient(options.client, options.logger === undefined ? {} : { logger: options.logger }, async (client) => {
    const current = await readForEdit(client, target, options);
    if (current === undefined) throw new ManifestError('NOT_FOUND', `tag ${target.tag ?? ''} not found in ${target.name}: there is no list to add to (push one with manifest pushml)`);
    const spec: PushSpec = { target, tags: [], manifests: sources.map((image) => ({ image })) };
    return pushEdit(client, spec, current, options, (added) => mergeListEntries(current.entries, added));
  });
}

/** Takes the images of `platforms` (and their attestations) out of the list `target` holds. */
export async function removeFromList(target: Reference, platforms: readonly Platform[], options: EditListOptions = {}): Promise<PushResult> {
  checkTarget(target);
  if (platforms.length === 0) throw new ManifestError('USAGE', 'name at least one platform to remove');
  return withClient(options.client, options.logger === undefined ? {} : { logger: options.logger }, async (client) => {
    const current = await readForEdit(client, target, options);
    if (current === undefined) throw new ManifestError('NOT_FOUND', `tag ${target.tag ?? ''} not found in ${target.name}: there is no list to remove from`);
    // Checked before anything else is done: a platform the list lacks changes nothing.
    const remaining = removeListEntries(current.entries, platforms, target.original);
    return pushEdit(client, { target, tags: [], manifests: [] }, current, options, () => remaining);
  });
}

/**
 * Pushes `spec` merged into what its target tag holds now: the spec's images replace the entries of their
 * platforms, the other entries stay. When the tag does not exist yet, this is a plain push of the spec.
 */
export async function appendToList(spec: PushSpec, options: EditListOptions = {}): Promise<PushResult> {
  checkTarget(spec.target);
  return withClient(options.client, options.logger === undefined ? {} : { logger: options.logger }, async (client) => {
    const current = await readForEdit(client, spec.target, options);
    if (current === undefined) {
      const { type, ...rest } = options;
      return pushManifestList(spec, { ...rest, client, ...(type === undefined ? {} : { type }) });
    }
    return pushEdit(client, spec, current, options, (added) => mergeListEntries(current.entries, added));
  });
}
