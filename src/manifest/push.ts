/**
 * Pushes a multi-platform list, keeping the push contract of design.md §4: sources resolved and checked first;
 * every child made present in the target repository (mounted across repositories, streamed across registries);
 * then the list by digest; only then the tags. A failure before the first tag leaves every tag as it was; a
 * failure among tags is PARTIAL (exit 7) naming the tags done and not done. Then the tags are read back.
 */
import type { ArchiveSession } from '../archive/session.js';
import { isArchiveSource } from '../archive/source.js';
import type { Digest } from '../digest.js';
import { deadlineText, isDeadline, isManifestError, ManifestError, withContext } from '../errors.js';
import { createLimiter, type Limiter } from '../limiter.js';
import { silentLogger, type Logger } from '../log.js';
import { graceSignal, sharedSignal } from '../shared-signal.js';
import { mapWithLimit } from '../map-with-limit.js';
import type { ProgressSink } from '../progress.js';
import { isForeignLayerMediaType } from '../media-types.js';
import { formatPlatform, type Platform } from '../platform.js';
import { withClient, type BlobCopyOutcome, type BlobRef, type RegistryClient } from '../registry/client.js';
import type { ImageReader, ImageTarget } from '../store/image-store.js';
import { openTargetStore } from '../store/open-static-store.js';
import type { PushSpec } from '../spec/types.js';
import type { Descriptor } from '../types/oci.js';
import { buildManifestList, type ListType } from './build-list.js';
import { parseManifest, type Manifest } from './parse.js';
import { DEFAULT_CONCURRENCY, resolveSources, type ResolvedEntry, type SkippedSource } from './resolve.js';

/** Options of pushManifestList. */
export interface PushOptions {
  /** Client for every registry involved; when omitted, an anonymous https client, closed afterwards. */
  client?: RegistryClient;
  /** Docker list, OCI index, or 'auto' (see buildManifestList); when omitted, 'auto'. */
  type?: ListType;
  /** Check declared platforms against image configs; when omitted, true. */
  verifyPlatform?: boolean;
  /** Replace source lists by their children; when omitted, true. */
  flatten?: boolean;
  /** Skip unreachable sources with a warning; when omitted, they fail the push. */
  ignoreMissing?: boolean;
  /** Push the list and every tag even when a tag already points at the same digest; when omitted, false. */
  force?: boolean;
  /** Read the tags back after the push and check every entry resolves; when omitted, true. */
  verify?: boolean;
  /** Resolve and build only, push nothing; when omitted, false. */
  dryRun?: boolean;
  /** Most requests of one kind in flight (sources, children, blobs, tags); when omitted, 16. */
  concurrency?: number;
  /** Aborts the push; the contract still holds (tags unchanged, or PARTIAL). When omitted, it runs to completion. */
  signal?: AbortSignal;
  /**
   * Milliseconds the tag PUTs in flight may still take once `signal` aborts (they are not retried then); tags
   * unanswered by then fail the push as PARTIAL, or as the abort when none was set. When omitted, 5 000.
   */
  tagGraceMs?: number;
  /** Warnings and debug lines; when omitted, nothing is logged. */
  logger?: Logger;
  /**
   * Edits an existing list instead of building one from the spec alone (manifest index add/remove, pushml
   * --append): given the spec's resolved entries (none are resolved when the spec has no sources), returns the
   * list's entries, type and annotations. When omitted, the list is the spec's entries with its annotations.
   */
  edit?: (entries: readonly ResolvedEntry[]) => ListEdit;
  /** Told as sources resolve and blobs are made present; when omitted, nothing is told. */
  progress?: ProgressSink;
  /** Opens local sources (docker-archive:, oci:, oci-archive:); when omitted, one is made and its files removed afterwards. */
  archives?: ArchiveSession;
}

/** What an edit makes of a list: its entries in order, its type and its annotations. */
export interface ListEdit {
  entries: ResolvedEntry[];
  /** Kind of list; when omitted, the push's `type`. */
  type?: ListType;
  /** Annotations of the list itself; when omitted, none. */
  annotations?: Record<string, string>;
}

/** One entry of the pushed list. */
export interface PushedEntry {
  /** The source it came from, as the spec wrote it. */
  image: string;
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  /** Whether this is an attestation entry. */
  attestation: boolean;
}

/** Blobs made present in the target repository, by how. */
export interface BlobCounts {
  present: number;
  mounted: number;
  copied: number;
}

/** What a push did. */
export interface PushResult {
  /** The target as the spec named it. */
  name: string;
  /** The canonical target reference (first tag). */
  reference: string;
  digest: Digest;
  size: number;
  mediaType: string;
  /** The list's bytes, exactly as pushed. */
  bytes: Uint8Array;
  /** Every tag asked for, in order. */
  tags: string[];
  /** Tags this push set. */
  pushedTags: string[];
  /** Tags that already pointed at this digest and were left alone. */
  unchangedTags: string[];
  entries: PushedEntry[];
  /** Sources left out by ignoreMissing. */
  skipped: SkippedSource[];
  /** Child manifests copied into the target repository. */
  copiedManifests: number;
  blobs: BlobCounts;
  dryRun: boolean;
  /** Whether the tags were read back and checked. */
  verified: boolean;
}

/**
 * The list was pushed and some tags were set, but not all (code PARTIAL, exit 7). `result` says what is in the
 * registry: the digest, the tags set and those left alone; `failedTags` the tags still as they were.
 */
export class PartialPushError extends ManifestError {
  override readonly name: string = 'PartialPushError';

  constructor(readonly result: PushResult, readonly failedTags: readonly string[], cause: ManifestError) {
    const done = [...result.unchangedTags, ...result.pushedTags];
    super('PARTIAL', `pushed ${result.digest} ${result.size} as ${done.join(', ')} but not as ${failedTags.join(', ')}: ${cause.message}`, {
      cause,
      details: cause.details,
    });
  }
}

/** Tells whether `value` is a PartialPushError. */
export function isPartialPushError(value: unknown): value is PartialPushError {
  return value instanceof PartialPushError;
}

/** How long tag PUTs in flight may run on after an interrupt or the deadline. */
const DEFAULT_TAG_GRACE_MS = 5_000;

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Returns `promise`, marked as handled: work started early whose failure matters only if it is awaited later. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function pushedEntry(entry: ResolvedEntry): PushedEntry {
  const d = entry.descriptor;
  return {
    image: entry.from.image.original,
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.platform === undefined ? {} : { platform: d.platform }),
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
    attestation: entry.attestation,
  };
}

/** Copies child manifests (and their blobs) into the target, each blob once, within the limits. */
export class ChildCopier {
  readonly blobs: BlobCounts = { present: 0, mounted: 0, copied: 0 };
  copiedManifests = 0;
  private readonly blobCopies = new Map<string, Promise<BlobCopyOutcome>>();
  private readonly blobLimiter: Limiter;

  private readonly controller = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly target: ImageTarget,
    private readonly concurrency: number,
    signal: AbortSignal | undefined,
    private readonly progress?: ProgressSink,
  ) {
    this.blobLimiter = createLimiter(concurrency);
    this.signal = sharedSignal(signal, this.controller.signal) ?? this.controller.signal;
  }

  /** Stops every copy still queued or running: one failure fails the push, so the rest is wasted work. */
  stop(): void {
    this.controller.abort();
  }

  /** Makes the manifest `digest` of `source` present in the target, with what it references. */
  async ensure(source: ImageReader, digest: Digest, known: Manifest | undefined): Promise<void> {
    if (await this.target.headManifest(digest, { signal: this.signal }) !== undefined) return;
    const manifest = known ?? parseManifest(await source.getManifest(digest, { signal: this.signal }));
    if (manifest.kind === 'image') {
      const blobs = [manifest.manifest.config, ...manifest.manifest.layers].filter((b) => !isForeignLayerMediaType(b.mediaType));
      await Promise.all(blobs.map((b) => this.copyBlob(source, b)));
    } else {
      await mapWithLimit(manifest.index.manifests, this.concurrency, (child) => this.ensure(source, child.digest as Digest, undefined));
    }
    await this.target.putManifest(digest, { bytes: manifest.bytes, digest: manifest.digest, mediaType: manifest.mediaType }, { signal: this.signal });
    this.copiedManifests++;
  }

  private copyBlob(source: ImageReader, blob: Descriptor): Promise<BlobCopyOutcome> {
    let copy = this.blobCopies.get(blob.digest);
    if (copy === undefined) {
      const ref: BlobRef = { digest: blob.digest as Digest, size: blob.size };
      copy = this.blobLimiter.run(() => this.target.copyBlob(source, ref, { signal: this.signal }));
      copy.then((outcome) => {
        this.blobs[outcome]++;
        this.progress?.({ kind: 'blob', outcome, bytes: outcome === 'copied' ? blob.size : 0 });
      }, () => { this.stop(); });
      this.blobCopies.set(blob.digest, copy);
    }
    return copy;
  }
}

/** Returns the digest a tag points at, undefined when it does not exist. */
async function tagDigest(target: ImageReader, tag: string, signal: AbortSignal | undefined): Promise<Digest | undefined> {
  const head = await target.headManifest(tag, { signal });
  // Some registries send no Docker-Content-Digest on HEAD: read the bytes and hash them instead.
  return head === undefined ? undefined : head.digest ?? (await target.getManifest(tag, { signal })).digest;
}

/** Read-back failures that say nothing about the push, only that the registry did not answer. */
const UNANSWERED: ReadonlySet<string> = new Set(['UNAVAILABLE', 'TIMEOUT', 'TLS']);

function isUnanswered(err: unknown): err is ManifestError {
  return isManifestError(err) && UNANSWERED.has(err.code);
}

/**
 * Reads the push back in one round of concurrent HEADs: each tag must resolve to the list's digest, and each entry
 * brought from elsewhere must now be in the target (entries resolved from the target itself were read from it
 * moments ago).
 */
async function verifyPush(target: ImageTarget, tags: readonly string[], digest: Digest, entries: readonly ResolvedEntry[], copied: boolean, concurrency: number, signal: AbortSignal | undefined): Promise<void> {
  const checkTag = async (tag: string): Promise<void> => {
    const actual = await tagDigest(target, tag, signal);
    if (actual === digest) return;
    // The tag names another manifest while ours is still there by digest: a concurrent push moved the tag after
    // ours (the registry keeps the last PUT). That is a race between writers, not a registry that lost our bytes.
    // Whether ours is still there only tells which of the two it is: a registry that cannot say leaves the tag wrong.
    const oursThere = actual === undefined ? undefined : await target.headManifest(digest, { signal }).catch(() => undefined);
    if (oursThere !== undefined) {
      throw new ManifestError('CONFLICT', `post-push check: tag ${tag} of ${target.name} now points at ${actual}, pushed by someone else after us (this push set ${digest})`);
    }
    throw new ManifestError('DIGEST_MISMATCH', `post-push check: ${target.name}:${tag} resolves to ${actual ?? 'nothing'}, not ${digest}`);
  };
  const checkEntry = async (entry: ResolvedEntry): Promise<void> => {
    const head = await target.headManifest(entry.descriptor.digest, { signal });
    if (head === undefined) {
      throw new ManifestError('INVALID_RESPONSE', `post-push check: the ${formatPlatform(entry.descriptor.platform)} entry ${entry.descriptor.digest} is missing from ${target.name}`, {
        // Entries are copied only when a tag moves: one deleted after an earlier push stays missing on a re-run.
        details: copied ? {} : { repairableByForce: true },
      });
    }
  };
  const checks = [
    ...tags.map((tag) => () => checkTag(tag)),
    ...entries.filter((e) => !e.attestation && e.reader.location !== target.location).map((entry) => () => checkEntry(entry)),
  ];
  // Every check runs to its end: a registry that stops answering one HEAD must not hide what another found wrong.
  const failures = (await mapWithLimit(checks, concurrency, (check) => check().then(() => undefined, (err: unknown) => (err instanceof Error ? err : new Error(String(err))))))
    .filter((err) => err !== undefined);
  const [first] = failures;
  const found = failures.find((err) => !isUnanswered(err)) ?? first;
  if (found !== undefined) throw found;
}

/**
 * Resolves the sources of `spec`, builds the list and pushes it with its tags, keeping the push contract.
 * Errors carry codes (design.md §3): bad input INVALID_INPUT/USAGE, missing sources NOT_FOUND, a partial tag
 * update PARTIAL (its message names the digest and the tags done and not done).
 */
export async function pushManifestList(spec: PushSpec, options: PushOptions = {}): Promise<PushResult> {
  return withClient(options.client, options.logger === undefined ? {} : { logger: options.logger }, async (client) => {
    // The archive readers (tar, zlib, temporary files) are loaded only for a spec that names a local source.
    if (options.archives !== undefined || !spec.manifests.some((m) => isArchiveSource(m.image))) return pushWith(client, options.archives, spec, options);
    const { withArchives } = await import('../archive/session.js');
    return withArchives(undefined, options.concurrency === undefined ? {} : { concurrency: options.concurrency }, (archives) => pushWith(client, archives, spec, options));
  });
}

async function pushWith(client: RegistryClient, archives: ArchiveSession | undefined, spec: PushSpec, options: PushOptions): Promise<PushResult> {
  const signal = sharedSignal(options.signal);
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new ManifestError('USAGE', `concurrency must be a whole number of at least 1, not ${String(concurrency)}`);
  }
  const target = spec.target;
  const dryRun = options.dryRun === true;
  if (!dryRun) client.willPush(target);
  // The target's scheme picks the store: a registry repository, or a static tree (dir:, s3://).
  const store: ImageTarget = openTargetStore(client, target);
  const tags = [target.tag ?? 'latest', ...spec.tags.filter((t) => t !== target.tag)];
  // What the tags point at now is read while the sources resolve: one round trip fewer on a slow link.
  const current = dryRun ? undefined : settled(mapWithLimit(tags, concurrency, async (tag) => (await store.headManifest(tag, { signal }))?.digest));

  const resolved = spec.manifests.length === 0 && options.edit !== undefined ? { entries: [], skipped: [] } : await resolveSources(spec, {
    client,
    ...(archives === undefined ? {} : { archives }),
    concurrency,
    logger,
    ...(signal === undefined ? {} : { signal }),
    ...(options.verifyPlatform === undefined ? {} : { verifyPlatform: options.verifyPlatform }),
    ...(options.flatten === undefined ? {} : { flatten: options.flatten }),
    ...(options.ignoreMissing === undefined ? {} : { ignoreMissing: options.ignoreMissing }),
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
  const { skipped } = resolved;
  const edit: ListEdit = options.edit?.(resolved.entries) ?? { entries: resolved.entries, ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }) };
  const { entries } = edit;
  const type = edit.type ?? options.type;
  const list = buildManifestList(entries.map((e) => e.descriptor), {
    ...(type === undefined ? {} : { type }),
    ...(edit.annotations === undefined ? {} : { annotations: edit.annotations }),
  });
  const result: PushResult = {
    name: target.original,
    reference: target.toString(),
    digest: list.digest,
    size: list.size,
    mediaType: list.mediaType,
    bytes: list.bytes,
    tags,
    pushedTags: [],
    unchangedTags: [],
    entries: entries.map(pushedEntry),
    skipped,
    copiedManifests: 0,
    blobs: { present: 0, mounted: 0, copied: 0 },
    dryRun,
    verified: false,
  };
  if (current === undefined) return result;

  const digests = await current.catch((err: unknown) => { throw withContext(`reading the current tags of ${target.name}`, err); });
  const seemUnchanged = options.force === true ? [] : tags.filter((_, i) => digests[i] === list.digest);
  // Those reads are as old as the resolution that ran beside them: another writer may have moved a tag since.
  // A tag is left alone only if it still points at the list now (a re-run pays this one round, a first push not).
  const stillUnchanged = await mapWithLimit(seemUnchanged, concurrency, async (tag) => await tagDigest(store, tag, signal) === list.digest)
    .catch((err: unknown) => { throw withContext(`reading the current tags of ${target.name}`, err); });
  result.unchangedTags = seemUnchanged.filter((_, i) => stillUnchanged[i] === true);
  for (const tag of seemUnchanged.filter((t) => !result.unchangedTags.includes(t))) {
    logger.debug(`tag ${tag} of ${target.name} was moved by another writer during the push; setting it again`);
  }
  const toPush = tags.filter((t) => !result.unchangedTags.includes(t));

  const copies = toPush.length > 0 && result.unchangedTags.length === 0;
  if (copies) {
    // A tag already at this digest proves the list and its children are in the repository.
    const copier = new ChildCopier(store, concurrency, signal, options.progress);
    const failures: ManifestError[] = [];
    await mapWithLimit(entries.filter((e) => e.reader.location !== store.location), concurrency, async (entry) => {
      try {
        await copier.ensure(entry.reader, entry.descriptor.digest, entry.manifest);
      } catch (err) {
        failures.push(withContext(`copying ${formatPlatform(entry.descriptor.platform)} "${entry.from.image.original}" to ${target.name}`, err));
        copier.stop();
      }
    });
    // Report what went wrong, not the aborts it caused in the copies running beside it.
    const failure = failures.find((f) => f.code !== 'ABORTED') ?? failures[0];
    if (failure !== undefined) throw failure;
    result.blobs = copier.blobs;
    result.copiedManifests = copier.copiedManifests;
    await store.putManifest(list.digest, list, { signal })
      .catch((err: unknown) => { throw withContext(`pushing the list ${list.digest} to ${target.name}`, err); });
  }

  // Tag PUTs are small and outlive an interrupt or the deadline by a short grace period: stopping half-way through
  // them would turn an interrupt into a partial update the user then has to repair. After the abort nothing is
  // retried, and what is still unanswered when the grace ends is reported as not done.
  const graceMs = options.tagGraceMs ?? DEFAULT_TAG_GRACE_MS;
  const grace = graceSignal(signal, graceMs);
  const tagFailures: { tag: string; error: unknown }[] = [];
  try {
    await mapWithLimit(toPush, concurrency, async (tag) => {
      try {
        await store.putManifest(tag, list, { signal: grace.signal, retrySignal: signal });
        result.pushedTags.push(tag);
      } catch (error) {
        tagFailures.push({ tag, error });
      }
    });
  } finally {
    grace.dispose();
  }
  result.pushedTags.sort((a, b) => tags.indexOf(a) - tags.indexOf(b));
  if (tagFailures.length > 0) {
    tagFailures.sort((a, b) => tags.indexOf(a.tag) - tags.indexOf(b.tag));
    const first = tagFailures[0] as { tag: string; error: unknown };
    const late = grace.signal.aborted ? ` (still unanswered ${formatSeconds(graceMs)} after the push was stopped)` : '';
    const cause = withContext(`pushing tag ${first.tag}${late}`, first.error);
    // No tag moved: every tag is as it was, which is a plain failure, not a partial one.
    if (result.pushedTags.length === 0) throw cause;
    throw new PartialPushError(result, tagFailures.map((f) => f.tag), cause);
  }
  if (signal?.aborted === true) {
    // Every tag is set: the push is whole. Reading it back would only turn a finished push into a failure.
    const why = isDeadline(signal.reason) ? deadlineText(signal.reason) : 'interrupted';
    logger.warn(`${why} after every tag of ${target.name} was set to ${list.digest}; not verified`);
  } else if (options.verify !== false) {
    try {
      await verifyPush(store, tags, list.digest, entries, copies, concurrency, signal);
      result.verified = true;
    } catch (err) {
      // Every tag is set (the registry said so to each PUT): a registry that stops answering, its retries spent,
      // cannot undo that, and reporting the finished push as failed would tell CI that nothing changed. What the
      // read-back found wrong (a tag moved, a missing entry) still fails the push.
      if (!isUnanswered(err)) throw err;
      logger.warn(`every tag of ${target.name} was set to ${list.digest}, but reading them back failed (${err.message}); not verified`);
    }
  }
  logger.debug(`pushed ${list.digest} as ${tags.join(', ')} (${result.pushedTags.length} tag(s) set, ${result.unchangedTags.length} unchanged)`);
  return result;
}
