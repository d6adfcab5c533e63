/**
 * Where the scheduler may put a pod: its nodeSelector, its required node affinity and the taints it tolerates,
 * evaluated against a node's labels and taints with Kubernetes' rules
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/ and taint-and-toleration/). Pure.
 */

/** One requirement of a node selector term: `key operator values`. */
export interface Requirement {
  key: string;
  /** In, NotIn, Exists, DoesNotExist, Gt or Lt. */
  operator: string;
  values: string[];
}

/** A term of required node affinity: every expression (on labels) and field (metadata.name) must hold. */
export interface NodeSelectorTerm {
  matchExpressions: Requirement[];
  matchFields: Requirement[];
}

/** A toleration of a pod; an omitted field matches as Kubernetes says (no key with Exists matches every taint). */
export interface Toleration {
  key?: string;
  /** Equal (the default) or Exists. */
  operator?: string;
  value?: string;
  /** NoSchedule, PreferNoSchedule or NoExecute; omitted matches every effect. */
  effect?: string;
}

/** A taint of a node. */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** What decides where a workload's pods may run. */
export interface PodPlacement {
  /** Labels a node must have, with these values. */
  nodeSelector: Record<string, string>;
  /** Required node affinity: a node must match one term. Undefined when the pod has none. */
  nodeSelectorTerms?: NodeSelectorTerm[];
  tolerations: Toleration[];
  /** Whether the pods come from a DaemonSet, whose controller adds tolerations of its own. */
  daemonSet: boolean;
}

/** What placement is checked against: a node's name, labels and taints. */
export interface NodeFacts {
  name?: string;
  labels: Readonly<Record<string, string>>;
  taints: readonly Taint[];
}

/** Options of canSchedule. */
export interface CanScheduleOptions {
  /**
   * Tells whether a label key is known for the node; a requirement on an unknown key is taken as met. When
   * omitted, every key is known (a real node: a label it lacks is absent). A node made up from a platform
   * (`--platforms`) knows only its os and architecture labels.
   */
  isKnownKey?: (key: string) => boolean;
}

/**
 * Tolerations the DaemonSet controller adds to its pods (pkg/controller/daemon/util): they run on nodes that are
 * not ready, unreachable, under pressure or cordoned.
 */
export const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** Effects that keep a pod off a node; PreferNoSchedule only discourages. */
const BINDING_EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'NoExecute']);

const INTEGER = /^-?[0-9]{1,18}$/;

/** Tells whether one requirement holds for a value (undefined: the label is absent). */
function requirementHolds(requirement: Requirement, value: string | undefined): boolean {
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && requirement.values.includes(value);
    case 'NotIn':
      return value === undefined || !requirement.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const bound = requirement.values[0];
      if (value === undefined || bound === undefined || !INTEGER.test(value) || !INTEGER.test(bound)) return false;
      return requirement.operator === 'Gt' ? BigInt(value) > BigInt(bound) : BigInt(value) < BigInt(bound);
    }
    default:
      // The API server refuses other operators; a manifest that has one would not be scheduled anywhere.
      return false;
  }
}

function labelOf(node: NodeFacts, key: string): string | undefined {
  return Object.hasOwn(node.labels, key) ? node.labels[key] : undefined;
}

/** Tells whether a node matches one term of required node affinity (an empty term matches no node). */
export function termMatches(term: NodeSelectorTerm, node: NodeFacts, options: CanScheduleOptions = {}): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  const known = options.isKnownKey ?? (() => true);
  const labelsHold = term.matchExpressions.every((r) => !known(r.key) || requirementHolds(r, labelOf(node, r.key)));
  // metadata.name is the only field the scheduler supports; a made-up node has no name to compare.
  const fieldsHold = term.matchFields.every((r) => node.name === undefined || r.key !== 'metadata.name' || requirementHolds(r, node.name));
  return labelsHold && fieldsHold;
}

/** Tells whether a toleration tolerates a taint (Kubernetes' ToleratesTaint). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== '' && toleration.effect !== taint.effect) return false;
  const operator = toleration.operator === undefined || toleration.operator === '' ? 'Equal' : toleration.operator;
  if (toleration.key === undefined || toleration.key === '') return operator === 'Exists';
  if (toleration.key !== taint.key) return false;
  if (operator === 'Exists') return true;
  return operator === 'Equal' && (toleration.value ?? '') === (taint.value ?? '');
}

/** Returns the node's NoSchedule and NoExecute taints that no toleration of the placement tolerates. */
export function untoleratedTaints(placement: PodPlacement, node: NodeFacts): Taint[] {
  const all = placement.daemonSet ? [...placement.tolerations, ...DAEMONSET_TOLERATIONS] : placement.tolerations;
  return node.taints.filter((taint) => BINDING_EFFECTS.has(taint.effect) && !all.some((t) => tolerates(t, taint)));
}

/**
 * Tells whether the scheduler may put a pod with this placement on the node: every nodeSelector label matches,
 * one term of required node affinity matches (when there are terms), and every binding taint is tolerated.
 */
export function canSchedule(placement: PodPlacement, node: NodeFacts, options: CanScheduleOptions = {}): boolean {
  const known = options.isKnownKey ?? (() => true);
  for (const [key, value] of Object.entries(placement.nodeSelector)) {
    if (known(key) && labelOf(node, key) !== value) return false;
  }
  const terms = placement.nodeSelectorTerms;
  if (terms !== undefined && !terms.some((term) => termMatches(term, node, options))) return false;
  return untoleratedTaints(placement, node).length === 0;
}
