/**
 * `check`: do the images of Kubernetes workloads cover the platforms of the nodes they will run on? Joins the pure
 * workload, scheduling and coverage rules of kube/ with the registry: every distinct image is resolved once,
 * concurrently (bounded), to the platforms it offers; each workload needs the platforms of the nodes its
 * nodeSelector, required node affinity and tolerations let it run on (or of the platforms given).
 */
import type { Digest } from '../digest.js';
import { ManifestError, withContext } from '../errors.js';
import { covers, uncoveredPlatforms } from '../kube/coverage.js';
import { PLATFORM_LABEL_KEYS, platformLabels, type KubeNode } from '../kube/nodes.js';
import { canSchedule } from '../kube/scheduling.js';
import type { ContainerType, Workload } from '../kube/workloads.js';
import { mapWithLimit } from '../map-with-limit.js';
import { platformKey, type Platform } from '../platform.js';
import type { ProgressSink } from '../progress.js';
import type { Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import { RegistryRepository } from '../store/registry-repository.js';
import { readImagePlatform } from './image-platform.js';
import { isAttestationEntry, parseManifest } from './parse.js';

/** Most images resolved at once when no limit is given. */
const DEFAULT_CONCURRENCY = 16;

/** Options of checkWorkloads: exactly one of `platforms` and `nodes` says what is needed. */
export interface CheckOptions {
  /** Client for every registry the images name. */
  client: RegistryClient;
  /** Platforms every workload needs (narrowed by a nodeSelector or affinity on os and architecture labels). */
  platforms?: readonly Platform[];
  /** The cluster's nodes: each workload needs the platforms of the nodes it may be scheduled on. */
  nodes?: readonly KubeNode[];
  /** Most images resolved at once; when omitted, 16. */
  concurrency?: number;
  /** Aborts the check; when omitted, it runs to completion. */
  signal?: AbortSignal;
  /** Told as each image is read; when omitted, nothing is told. */
  progress?: ProgressSink;
}

/** What one image offers, or why it could not be read. */
export interface CheckedImage {
  /** The image as the first container naming it wrote it. */
  image: string;
  /** The canonical reference. */
  reference: string;
  /** Whether the reference names a list (one image per platform) or a single image. */
  kind?: 'list' | 'image';
  digest?: Digest;
  /** The platforms it offers (attestations left out); a single image offers its config's one. */
  platforms: Platform[];
  /** Why the image could not be read (not found, refused, unreachable): its code gives the exit code. */
  error?: ManifestError;
}

/** One container of a workload and what its image lacks. */
export interface CheckedContainer {
  name: string;
  type: ContainerType;
  image: string;
  /** 1-based line of the image in its file. */
  line: number;
  /** The canonical reference (the key of its CheckedImage). */
  reference: string;
  /** Platforms the workload needs that the image does not offer; empty when covered or unreadable. */
  missing: Platform[];
  /** Names of the nodes that need a missing platform (with nodes only). */
  nodesAffected: string[];
  /** Why the image could not be read. */
  error?: ManifestError;
}

/** A workload, the platforms it needs, and its containers. */
export interface CheckedWorkload {
  kind: string;
  name: string;
  namespace?: string;
  file: string;
  line: number;
  /** The platforms of the nodes (or given platforms) the workload may run on, in first-seen order. */
  platforms: Platform[];
  /** Names of the nodes it may run on (with nodes only). */
  nodes?: string[];
  containers: CheckedContainer[];
}

/** The outcome of a check. */
export interface CheckResult {
  workloads: CheckedWorkload[];
  /** Every distinct image, in first-use order. */
  images: CheckedImage[];
  /** Containers whose image lacks a needed platform. */
  missing: number;
  /** Containers whose image could not be read. */
  failed: number;
}

interface Needs {
  platforms: Platform[];
  nodes?: KubeNode[];
}

function distinct(platforms: readonly Platform[]): Platform[] {
  const seen = new Map<string, Platform>();
  for (const p of platforms) if (!seen.has(platformKey(p))) seen.set(platformKey(p), p);
  return [...seen.values()];
}

/** Returns what a workload needs: the platforms of the nodes (real or made up from platforms) it may run on. */
function needsOf(workload: Workload, options: CheckOptions): Needs {
  if (options.nodes !== undefined) {
    const nodes = options.nodes.filter((node) => canSchedule(workload.placement, node));
    return { platforms: distinct(nodes.map((n) => n.platform)), nodes };
  }
  // Without nodes only the os, arch and windows-build labels can be judged; other requirements are taken as met.
  const isKnownKey = (key: string): boolean => PLATFORM_LABEL_KEYS.has(key);
  const platforms = (options.platforms ?? []).filter((p) => canSchedule(workload.placement, { labels: platformLabels(p), taints: [] }, { isKnownKey }));
  return { platforms: distinct(platforms) };
}

/** Reads the platforms an image offers: a list's entries, or a single image's config. */
async function resolveImage(client: RegistryClient, image: string, ref: Reference, signal: AbortSignal | undefined): Promise<CheckedImage> {
  const base = { image, reference: ref.toString() };
  const manifest = parseManifest(await client.getManifest(ref, { signal }));
  if (manifest.kind === 'index') {
    const platforms = manifest.index.manifests.filter((d) => !isAttestationEntry(d) && d.platform !== undefined).map((d) => d.platform as Platform);
    return { ...base, kind: 'list', digest: manifest.digest, platforms };
  }
  const platform = await readImagePlatform(new RegistryRepository(client, ref.withDigest(manifest.digest)), manifest.manifest, signal);
  return { ...base, kind: 'image', digest: manifest.digest, platforms: platform === undefined ? [] : [platform] };
}

/**
 * Checks workloads against the platforms they need: each distinct image is read once. An image that cannot be read
 * is kept in the result with its error (the others are still checked); an interrupt throws.
 */
export async function checkWorkloads(workloads: readonly Workload[], options: CheckOptions): Promise<CheckResult> {
  if ((options.platforms === undefined) === (options.nodes === undefined)) {
    throw new ManifestError('USAGE', 'checking workloads needs either the platforms or the nodes, not both');
  }
  const unique = new Map<string, { image: string; ref: Reference }>();
  for (const container of workloads.flatMap((w) => w.containers)) {
    const key = container.reference.toString();
    if (!unique.has(key)) unique.set(key, { image: container.image, ref: container.reference });
  }
  let done = 0;
  const images = await mapWithLimit([...unique.values()], options.concurrency ?? DEFAULT_CONCURRENCY, async ({ image, ref }): Promise<CheckedImage> => {
    try {
      return await resolveImage(options.client, image, ref, options.signal);
    } catch (err) {
      const wrapped = withContext(`reading "${image}"`, err);
      if (wrapped.code === 'ABORTED' || options.signal?.aborted === true) throw wrapped;
      return { image, reference: ref.toString(), platforms: [], error: wrapped };
    } finally {
      options.progress?.({ kind: 'resolved', done: ++done, total: unique.size });
    }
  });
  const byReference = new Map(images.map((i) => [i.reference, i]));
  let missing = 0;
  let failed = 0;
  const checked = workloads.map((workload): CheckedWorkload => {
    const needs = needsOf(workload, options);
    const containers = workload.containers.map((container): CheckedContainer => {
      const reference = container.reference.toString();
      const offered = byReference.get(reference);
      const out: CheckedContainer = { name: container.name, type: container.type, image: container.image, line: container.line, reference, missing: [], nodesAffected: [] };
      if (offered?.error !== undefined) {
        failed += 1;
        return { ...out, error: offered.error };
      }
      out.missing = uncoveredPlatforms(needs.platforms, offered?.platforms ?? []);
      if (needs.nodes !== undefined) {
        out.nodesAffected = needs.nodes.filter((node) => !(offered?.platforms ?? []).some((p) => covers(p, node.platform))).map((node) => node.name);
      }
      if (out.missing.length > 0) missing += 1;
      return out;
    });
    return {
      kind: workload.kind,
      name: workload.name,
      ...(workload.namespace === undefined ? {} : { namespace: workload.namespace }),
      file: workload.file,
      line: workload.line,
      platforms: needs.platforms,
      ...(needs.nodes === undefined ? {} : { nodes: needs.nodes.map((n) => n.name) }),
      containers,
    };
  });
  return { workloads: checked, images, missing, failed };
}
