/**
 * Kubernetes workloads read from YAML documents (`kubectl` manifests, `helm template`, `kustomize build`): for each
 * DaemonSet, Deployment, StatefulSet, ReplicaSet, ReplicationController, Job, CronJob, Pod and PodTemplate, the
 * images of its containers and what decides where its pods may run (nodeSelector, required node affinity,
 * tolerations). Pure: takes parsed documents, returns data and the problems found, each with its place.
 */
import { isManifestError } from '../errors.js';
import { parseReference, type Reference } from '../ref.js';
import { parseYamlDocuments, type YamlDocument } from '../spec/parse-yaml.js';
import { SpecError, type SpecIssue } from '../spec/spec-error.js';
import type { NodeSelectorTerm, PodPlacement, Requirement, Toleration } from './scheduling.js';

/** Where a container sits in the pod spec. */
export type ContainerType = 'container' | 'initContainer' | 'ephemeralContainer';

/** One container of a workload and the image it runs. */
export interface WorkloadContainer {
  name: string;
  type: ContainerType;
  /** The image as written in the YAML. */
  image: string;
  /** The image, parsed (docker's defaults: nginx is docker.io/library/nginx:latest). */
  reference: Reference;
  /** 1-based line of the image in its file. */
  line: number;
}

/** A workload and the pod spec it creates pods from. */
export interface Workload {
  kind: string;
  name: string;
  /** metadata.namespace when the YAML names one. */
  namespace?: string;
  /** The input the workload came from ("daemonset.yaml", "<stdin>"). */
  file: string;
  /** 1-based line where the workload's document (or List item) starts. */
  line: number;
  placement: PodPlacement;
  containers: WorkloadContainer[];
}

/** What readWorkloads found: the workloads in input order, the other kinds skipped, and problems. */
export interface ReadWorkloadsResult {
  workloads: Workload[];
  /** How many objects were not workloads (Services, ConfigMaps, CRDs …). */
  skipped: number;
  issues: SpecIssue[];
}

/** Where each kind keeps its pod spec, as a path of keys from the object. */
const POD_SPEC_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['DaemonSet', ['spec', 'template', 'spec']],
  ['Deployment', ['spec', 'template', 'spec']],
  ['StatefulSet', ['spec', 'template', 'spec']],
  ['ReplicaSet', ['spec', 'template', 'spec']],
  ['ReplicationController', ['spec', 'template', 'spec']],
  ['Job', ['spec', 'template', 'spec']],
  ['CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
  ['Pod', ['spec']],
  ['PodTemplate', ['template', 'spec']],
]);

const CONTAINER_LISTS: readonly [string, ContainerType][] = [
  ['initContainers', 'initContainer'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

/** Kinds that hold other objects under `items` (`kubectl get … -o yaml` gives a List). */
const LIST_KINDS: ReadonlySet<string> = new Set(['List', 'DaemonSetList', 'DeploymentList', 'StatefulSetList', 'ReplicaSetList', 'JobList', 'CronJobList', 'PodList']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!isRecord(value)) return out;
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

function requirements(value: unknown): Requirement[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((r) => ({
    key: stringOf(r.key) ?? '',
    operator: stringOf(r.operator) ?? '',
    values: Array.isArray(r.values) ? r.values.filter((v): v is string => typeof v === 'string') : [],
  }));
}

/** Reads spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution's terms (preferences do not bind). */
function requiredTerms(podSpec: Record<string, unknown>): NodeSelectorTerm[] | undefined {
  const affinity = podSpec.affinity;
  const nodeAffinity = isRecord(affinity) ? affinity.nodeAffinity : undefined;
  const required = isRecord(nodeAffinity) ? nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution : undefined;
  if (!isRecord(required) || !Array.isArray(required.nodeSelectorTerms)) return undefined;
  return required.nodeSelectorTerms.filter(isRecord).map((term) => ({
    matchExpressions: requirements(term.matchExpressions),
    matchFields: requirements(term.matchFields),
  }));
}

function tolerations(podSpec: Record<string, unknown>): Toleration[] {
  if (!Array.isArray(podSpec.tolerations)) return [];
  return podSpec.tolerations.filter(isRecord).map((t) => {
    const out: Toleration = {};
    for (const key of ['key', 'operator', 'value', 'effect'] as const) {
      const v = stringOf(t[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  });
}

/** Reads one object (a document, or an item of a List) at JSON pointer `pointer`. */
function readObject(value: unknown, pointer: string, document: YamlDocument, file: string, out: ReadWorkloadsResult, depth: number): void {
  if (!isRecord(value)) return;
  const kind = stringOf(value.kind);
  if (kind !== undefined && LIST_KINDS.has(kind) && Array.isArray(value.items) && depth === 0) {
    value.items.forEach((item, i) => readObject(item, `${pointer}/items/${i}`, document, file, out, depth + 1));
    return;
  }
  const path = kind === undefined ? undefined : POD_SPEC_PATHS.get(kind);
  if (kind === undefined || path === undefined) {
    out.skipped += 1;
    return;
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const name = stringOf(metadata.name) ?? stringOf(metadata.generateName) ?? '';
  const namespace = stringOf(metadata.namespace);
  const line = document.lineOf(pointer);
  let podSpec: unknown = value;
  for (const key of path) podSpec = isRecord(podSpec) ? podSpec[key] : undefined;
  const specPointer = `${pointer}/${path.join('/')}`;
  if (!isRecord(podSpec)) {
    out.issues.push({ file, line, path: specPointer, message: `${kind} ${name || '(unnamed)'} has no pod spec here` });
    return;
  }
  const containers: WorkloadContainer[] = [];
  for (const [list, type] of CONTAINER_LISTS) {
    const items = podSpec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((container, i) => {
      if (!isRecord(container)) return;
      const at = `${specPointer}/${list}/${i}`;
      const image = stringOf(container.image);
      const containerName = stringOf(container.name) ?? `#${i + 1}`;
      if (image === undefined || image.trim() === '') {
        // An ephemeral container may be declared without an image only in a broken manifest; say where.
        out.issues.push({ file, line: document.lineOf(at), path: at, message: `${kind} ${name || '(unnamed)'}: container ${containerName} names no image` });
        return;
      }
      const imageLine = document.lineOf(`${at}/image`);
      let reference: Reference;
      try {
        reference = parseReference(image.trim());
      } catch (err) {
        if (!isManifestError(err)) throw err;
        out.issues.push({ file, line: imageLine, path: `${at}/image`, message: `container ${containerName}: ${err.message}` });
        return;
      }
      containers.push({ name: containerName, type, image: image.trim(), reference, line: imageLine });
    });
  }
  const terms = requiredTerms(podSpec);
  out.workloads.push({
    kind,
    name,
    ...(namespace === undefined ? {} : { namespace }),
    file,
    line,
    placement: {
      nodeSelector: stringMap(podSpec.nodeSelector),
      ...(terms === undefined ? {} : { nodeSelectorTerms: terms }),
      tolerations: tolerations(podSpec),
      // The DaemonSet controller adds tolerations of its own to every pod it creates.
      daemonSet: kind === 'DaemonSet',
    },
    containers,
  });
}

/**
 * Reads the workloads of parsed YAML documents, in document order (a List's items in their order). Objects of
 * other kinds are counted as skipped; a workload without a pod spec, or a container without an image or with an
 * invalid one, is an issue (the container is left out).
 */
export function readWorkloads(documents: readonly YamlDocument[], file: string): ReadWorkloadsResult {
  const out: ReadWorkloadsResult = { workloads: [], skipped: 0, issues: [] };
  for (const document of documents) readObject(document.value, '', document, file, out, 0);
  return out;
}

/** Formats a workload as `kubectl` names it: "DaemonSet kube-system/node-agent". */
export function workloadName(workload: Pick<Workload, 'kind' | 'name' | 'namespace'>): string {
  return `${workload.kind} ${workload.namespace === undefined ? '' : `${workload.namespace}/`}${workload.name}`;
}

/** Most values one YAML document of workloads may expand to: CRDs in `helm template` output are large, alias bombs larger. */
export const MAX_WORKLOAD_YAML_NODES = 200_000;

/** One YAML text to read workloads from. */
export interface WorkloadInput {
  /** How messages name it ("daemonset.yaml", "<stdin>"). */
  file: string;
  text: string;
}

/**
 * Parses YAML texts and reads their workloads, in input order. Throws a SpecError (INVALID_INPUT) listing every
 * problem of every input (YAML syntax and limits, workloads without a pod spec, containers without a valid image).
 */
export function loadWorkloads(inputs: readonly WorkloadInput[]): { workloads: Workload[]; skipped: number } {
  const workloads: Workload[] = [];
  const issues: SpecIssue[] = [];
  let skipped = 0;
  for (const { file, text } of inputs) {
    const parsed = parseYamlDocuments(text, file, { maxNodes: MAX_WORKLOAD_YAML_NODES });
    issues.push(...parsed.issues);
    const found = readWorkloads(parsed.documents, file);
    workloads.push(...found.workloads);
    issues.push(...found.issues);
    skipped += found.skipped;
  }
  if (issues.length > 0) throw new SpecError(issues);
  return { workloads, skipped };
}
