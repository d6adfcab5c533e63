/**
 * A cluster's nodes as `kubectl get nodes -o json` (or `-o yaml`) prints them: each node's name, labels, taints
 * and the platform its container runtime pulls for. Pure: takes the parsed document, returns data and problems.
 */
import { clipInput, isManifestError } from '../errors.js';
import { normalizePlatform, validatePlatform, type Platform } from '../platform.js';
import type { NodeFacts, Taint } from './scheduling.js';

/** Labels the kubelet sets on every node (https://kubernetes.io/docs/reference/labels-annotations-taints/). */
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_WINDOWS_BUILD = 'node.kubernetes.io/windows-build';
const LABEL_BETA_OS = 'beta.kubernetes.io/os';
const LABEL_BETA_ARCH = 'beta.kubernetes.io/arch';

/** Label keys a node made up from a platform knows: requirements on other keys cannot be judged without nodes. */
export const PLATFORM_LABEL_KEYS: ReadonlySet<string> = new Set([LABEL_OS, LABEL_ARCH, LABEL_WINDOWS_BUILD, LABEL_BETA_OS, LABEL_BETA_ARCH]);

/** A node of the cluster and the platform it needs images for. */
export interface KubeNode extends NodeFacts {
  name: string;
  /**
   * The platform its runtime pulls: os and architecture from the labels (or status.nodeInfo), and for Windows the
   * build (node.kubernetes.io/windows-build, such as 10.0.17763) as os.version.
   */
  platform: Platform;
}

/** What readNodes found. */
export interface ReadNodesResult {
  nodes: KubeNode[];
  /** Problems, each naming the node ("node pi-1: no kubernetes.io/arch label …"). */
  problems: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!isRecord(value)) return out;
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

function readTaints(spec: unknown): Taint[] {
  if (!isRecord(spec) || !Array.isArray(spec.taints)) return [];
  return spec.taints.filter(isRecord).flatMap((t) => {
    if (typeof t.key !== 'string' || typeof t.effect !== 'string') return [];
    return [{ key: t.key, effect: t.effect, ...(typeof t.value === 'string' ? { value: t.value } : {}) }];
  });
}

/** Returns the labels a node made up from a platform has (for --platforms, where there are no nodes to read). */
export function platformLabels(platform: Platform): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_OS]: platform.os, [LABEL_ARCH]: platform.architecture, [LABEL_BETA_OS]: platform.os, [LABEL_BETA_ARCH]: platform.architecture };
  const build = platform['os.version'];
  if (build !== undefined) labels[LABEL_WINDOWS_BUILD] = build.split('.').slice(0, 3).join('.');
  return labels;
}

function readNode(item: Record<string, unknown>, index: number, out: ReadNodesResult): void {
  const metadata = isRecord(item.metadata) ? item.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? clipInput(metadata.name, 253) : `#${index + 1}`;
  const labels = stringMap(metadata.labels);
  const status = isRecord(item.status) ? item.status : {};
  const info = isRecord(status.nodeInfo) ? status.nodeInfo : {};
  const os = labels[LABEL_OS] ?? labels[LABEL_BETA_OS] ?? (typeof info.operatingSystem === 'string' ? info.operatingSystem : undefined);
  const architecture = labels[LABEL_ARCH] ?? labels[LABEL_BETA_ARCH] ?? (typeof info.architecture === 'string' ? info.architecture : undefined);
  if (os === undefined || architecture === undefined || os === '' || architecture === '') {
    out.problems.push(`node ${name}: no ${LABEL_OS} and ${LABEL_ARCH} labels (nor status.nodeInfo) to tell its platform`);
    return;
  }
  const platform: Platform = normalizePlatform({ os: os.toLowerCase(), architecture: architecture.toLowerCase() });
  const build = labels[LABEL_WINDOWS_BUILD];
  if (platform.os === 'windows' && build !== undefined && /^[0-9]{1,9}(?:\.[0-9]{1,9}){0,3}$/.test(build)) platform['os.version'] = build;
  try {
    validatePlatform(platform);
  } catch (err) {
    if (!isManifestError(err)) throw err;
    out.problems.push(`node ${name}: ${err.message}`);
    return;
  }
  out.nodes.push({ name, labels, taints: readTaints(item.spec), platform });
}

/**
 * Reads the nodes of `kubectl get nodes -o json` output (a List of Nodes), or of one Node, in their order. A node
 * whose platform cannot be told is a problem; so is input that holds no Node at all.
 */
export function readNodes(value: unknown): ReadNodesResult {
  const out: ReadNodesResult = { nodes: [], problems: [] };
  const items = isRecord(value) && Array.isArray(value.items) ? value.items : isRecord(value) && value.kind === 'Node' ? [value] : undefined;
  if (items === undefined) {
    out.problems.push('expected the output of "kubectl get nodes -o json": a List of Nodes, or one Node');
    return out;
  }
  items.forEach((item, index) => {
    if (!isRecord(item) || (item.kind !== undefined && item.kind !== 'Node')) {
      out.problems.push(`item ${index + 1} is not a Node${isRecord(item) && typeof item.kind === 'string' ? ` (kind ${item.kind.slice(0, 40)})` : ''}`);
      return;
    }
    readNode(item, index, out);
  });
  if (out.nodes.length === 0 && out.problems.length === 0) out.problems.push('the list holds no nodes');
  return out;
}
