/**
 * Housekeeping of a static registry (seed 001's next step): list its repositories and tags, remove a tag, and
 * collect what no tag reaches any more. Blobs live per repository in this layout, so one repository's garbage
 * is never another's content. Not safe while a push to the same repository runs (its blobs have no tag yet).
 */
import { isDigest } from '../digest.js';
import { ManifestError } from '../errors.js';
import type { CallOptions } from '../registry/client.js';
import type { StaticBackend, StoredObject } from '../store/static-backend.js';
import { blobKey, compareCodePoints, isTagName, manifestKey, repositoryPrefix, StaticStore } from '../store/static-store.js';
import { parseManifest } from './parse.js';

/** A repository of a static registry and its tags. */
export interface StaticRepository {
  name: string;
  tags: string[];
}

function storeOf(backend: StaticBackend, repository: string): StaticStore {
  return new StaticStore(() => Promise.resolve(backend), backend.description, repository);
}

/** Lists the repositories of a static registry (those with a manifests/ folder) and their tags, sorted. */
export async function listStaticRepositories(backend: StaticBackend, options: CallOptions = {}): Promise<StaticRepository[]> {
  const byName = new Map<string, string[]>();
  for (const object of await backend.list('v2/', options)) {
    const match = /^v2\/(.+)\/manifests\/([^/]+)$/.exec(object.key);
    if (match === null) continue;
    const [, name = '', file = ''] = match;
    const tags = byName.get(name) ?? [];
    if (isTagName(file)) tags.push(file);
    byName.set(name, tags);
  }
  return [...byName.entries()].sort(([a], [b]) => compareCodePoints(a, b)).map(([name, tags]) => ({ name, tags: tags.sort(compareCodePoints) }));
}

/** Removes a tag and rewrites tags/list; throws NOT_FOUND when the tag is not there. Its content stays until gc. */
export async function removeStaticTag(backend: StaticBackend, repository: string, tag: string, options: CallOptions = {}): Promise<void> {
  const key = manifestKey(repository, tag);
  if (await backend.stat(key, options) === undefined) throw new ManifestError('NOT_FOUND', `tag ${tag} not found in ${backend.description}//${repository}`);
  await backend.remove(key, options);
  await storeOf(backend, repository).updateTagsList(options);
}

/** Options of collectStaticGarbage. */
export interface StaticGcOptions extends CallOptions {
  /** Keep only the N most recently written tags, removing the others first; when omitted, every tag is kept. */
  keep?: number;
  /** Say what would be removed, remove nothing; when omitted, false. */
  dryRun?: boolean;
}

/** What a garbage collection removed (or, in a dry run, would remove). */
export interface StaticGcResult {
  repository: string;
  /** Tags removed by `keep`, oldest first. */
  removedTags: string[];
  /** Files removed (tag files, manifests, blobs), with their sizes. */
  removed: StoredObject[];
  /** Bytes of the removed files. */
  freedBytes: number;
  /** Tags kept. */
  keptTags: string[];
}

/**
 * Removes from one repository the manifests and blobs no kept tag reaches (a list's children, their configs and
 * layers), after removing the tags beyond `keep`. Tag files go first, then tags/list, then manifests, then blobs,
 * so a reader never finds a tag whose parts are gone.
 */
export async function collectStaticGarbage(backend: StaticBackend, repository: string, options: StaticGcOptions = {}): Promise<StaticGcResult> {
  if (options.keep !== undefined && (!Number.isSafeInteger(options.keep) || options.keep < 0)) {
    throw new ManifestError('USAGE', `--keep must be a whole number, not ${String(options.keep)}`);
  }
  const call = options.signal === undefined ? {} : { signal: options.signal };
  const prefix = repositoryPrefix(repository);
  const objects = await backend.list(prefix, call);
  if (objects.length === 0) throw new ManifestError('NOT_FOUND', `repository ${repository} not found in ${backend.description}`);
  const manifestsPrefix = `${prefix}manifests/`;
  const tagFiles = objects.filter((o) => o.key.startsWith(manifestsPrefix) && isTagName(o.key.slice(manifestsPrefix.length)) && !o.key.slice(manifestsPrefix.length).includes('/'));
  // Newest first; equal times by name, so the choice is stable.
  tagFiles.sort((a, b) => b.modified.getTime() - a.modified.getTime() || compareCodePoints(b.key, a.key));
  const kept = options.keep === undefined ? tagFiles : tagFiles.slice(0, options.keep);
  const dropped = options.keep === undefined ? [] : tagFiles.slice(options.keep).reverse();
  const tagOf = (o: StoredObject): string => o.key.slice(manifestsPrefix.length);

  // Mark: everything a kept tag reaches.
  const store = storeOf(backend, repository);
  const reachable = new Set<string>();
  const visit = async (identifier: string, depth: number): Promise<void> => {
    if (depth > 8) throw new ManifestError('INVALID_INPUT', `${repository}: manifests nest more than 8 deep`);
    let fetched;
    try {
      fetched = await store.getManifest(identifier, call);
    } catch (err) {
      // A missing child leaves its tag broken already; it must not stop the rest from being kept.
      if (err instanceof ManifestError && err.code === 'NOT_FOUND') return;
      throw err;
    }
    if (reachable.has(manifestKey(repository, fetched.digest))) return;
    reachable.add(manifestKey(repository, fetched.digest));
    const manifest = parseManifest(fetched);
    if (manifest.kind === 'index') {
      for (const child of manifest.index.manifests) {
        if (isDigest(child.digest) && !reachable.has(manifestKey(repository, child.digest))) await visit(child.digest, depth + 1);
      }
    } else {
      for (const blob of [manifest.manifest.config, ...manifest.manifest.layers]) reachable.add(blobKey(repository, blob.digest));
    }
  };
  for (const tag of kept) await visit(tagOf(tag), 0);

  const sweep = objects.filter((o) => {
    const rest = o.key.slice(prefix.length);
    if (rest.startsWith('manifests/') && !isTagName(rest.slice('manifests/'.length))) return !reachable.has(o.key);
    if (rest.startsWith('blobs/')) return !reachable.has(o.key);
    return false;
  }).sort((a, b) => compareCodePoints(a.key, b.key));
  // Manifests before blobs: a manifest never points at a blob that is gone while it is still there.
  sweep.sort((a, b) => Number(a.key.includes('/blobs/')) - Number(b.key.includes('/blobs/')));
  const removed = [...dropped, ...sweep];
  if (options.dryRun !== true) {
    for (const o of dropped) await backend.remove(o.key, call);
    if (dropped.length > 0) await store.updateTagsList(call);
    for (const o of sweep) await backend.remove(o.key, call);
  }
  return {
    repository,
    removedTags: dropped.map(tagOf),
    removed,
    freedBytes: removed.reduce((n, o) => n + o.size, 0),
    keptTags: kept.map(tagOf).sort(compareCodePoints),
  };
}
