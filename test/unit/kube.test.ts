// kube/: workloads, nodes, scheduling and coverage rules, as tables of cases (no network).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { covers, uncoveredPlatforms } from '../../src/kube/coverage.js';
import { platformLabels, PLATFORM_LABEL_KEYS, readNodes } from '../../src/kube/nodes.js';
import { canSchedule, tolerates, untoleratedTaints, type PodPlacement, type Taint, type Toleration } from '../../src/kube/scheduling.js';
import { readWorkloads } from '../../src/kube/workloads.js';
import { parsePlatform } from '../../src/platform.js';
import { parseYamlDocuments } from '../../src/spec/parse-yaml.js';

const p = parsePlatform;

describe('covers: which image platform runs on which node platform', () => {
  const cases: [image: string, node: string, expected: boolean][] = [
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/arm/v7', 'linux/arm', true],
    ['linux/arm/v6', 'linux/arm', true],
    ['linux/arm/v8', 'linux/arm', false],
    ['linux/arm', 'linux/arm/v6', false],
    ['linux/arm/v5', 'linux/arm/v6', true],
    ['linux/amd64/v3', 'linux/amd64', true],
    ['linux/amd64/v3', 'linux/amd64/v2', false],
    ['linux/amd64', 'linux/amd64/v2', true],
    ['windows(10.0.17763.5830)/amd64', 'windows(10.0.17763)/amd64', true],
    ['windows(10.0.20348.2461)/amd64', 'windows(10.0.17763)/amd64', false],
    ['windows/amd64', 'windows(10.0.17763)/amd64', true],
    ['windows(10.0.17763.1)/amd64', 'windows/amd64', true],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/riscv64', 'linux/riscv64', true],
  ];
  for (const [image, node, expected] of cases) {
    test(`${image} on a ${node} node: ${expected ? 'runs' : 'does not'}`, () => assert.equal(covers(p(image), p(node)), expected));
  }

  test('uncoveredPlatforms keeps the order of the needed platforms', () => {
    const needed = ['linux/amd64', 'linux/arm', 'linux/arm64', 'linux/s390x'].map(p);
    assert.deepEqual(uncoveredPlatforms(needed, [p('linux/arm64/v8'), p('linux/amd64')]), [p('linux/arm'), p('linux/s390x')]);
  });
});

describe('tolerations against taints', () => {
  const cases: [name: string, toleration: Toleration, taint: Taint, expected: boolean][] = [
    ['Exists without a key tolerates everything', { operator: 'Exists' }, { key: 'a', value: 'b', effect: 'NoExecute' }, true],
    ['no key and no operator (Equal) tolerates nothing', {}, { key: 'a', effect: 'NoSchedule' }, false],
    ['key and value equal', { key: 'a', value: 'b' }, { key: 'a', value: 'b', effect: 'NoSchedule' }, true],
    ['value differs', { key: 'a', value: 'c' }, { key: 'a', value: 'b', effect: 'NoSchedule' }, false],
    ['Equal with no value matches a taint with no value', { key: 'a', operator: 'Equal' }, { key: 'a', effect: 'NoSchedule' }, true],
    ['Exists on the key, any value', { key: 'a', operator: 'Exists' }, { key: 'a', value: 'x', effect: 'NoSchedule' }, true],
    ['effect must match when named', { key: 'a', operator: 'Exists', effect: 'NoSchedule' }, { key: 'a', effect: 'NoExecute' }, false],
    ['an empty effect matches every effect', { key: 'a', operator: 'Exists', effect: '' }, { key: 'a', effect: 'NoExecute' }, true],
    ['another key', { key: 'b', operator: 'Exists' }, { key: 'a', effect: 'NoSchedule' }, false],
  ];
  for (const [name, toleration, taint, expected] of cases) test(name, () => assert.equal(tolerates(toleration, taint), expected));

  test('PreferNoSchedule never keeps a pod off; a DaemonSet tolerates unschedulable and not-ready nodes by itself', () => {
    const node = { labels: {}, taints: [
      { key: 'spare', effect: 'PreferNoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
    ] };
    const placement: PodPlacement = { nodeSelector: {}, tolerations: [], daemonSet: false };
    assert.deepEqual(untoleratedTaints(placement, node).map((t) => t.key), ['node.kubernetes.io/unschedulable', 'node.kubernetes.io/not-ready']);
    assert.deepEqual(untoleratedTaints({ ...placement, daemonSet: true }, node), []);
  });
});

describe('canSchedule: nodeSelector and required node affinity', () => {
  const amd = { name: 'amd-1', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', zone: 'a', cores: '16' }, taints: [] };
  const base: PodPlacement = { nodeSelector: {}, tolerations: [], daemonSet: false };
  const term = (matchExpressions: { key: string; operator: string; values?: string[] }[], matchFields: { key: string; operator: string; values?: string[] }[] = []) => ({
    matchExpressions: matchExpressions.map((e) => ({ values: [], ...e })),
    matchFields: matchFields.map((e) => ({ values: [], ...e })),
  });
  const cases: [name: string, placement: PodPlacement, expected: boolean][] = [
    ['no constraints', base, true],
    ['nodeSelector matches', { ...base, nodeSelector: { 'kubernetes.io/arch': 'amd64' } }, true],
    ['nodeSelector differs', { ...base, nodeSelector: { 'kubernetes.io/arch': 'arm64' } }, false],
    ['nodeSelector on a label the node lacks', { ...base, nodeSelector: { gpu: 'yes' } }, false],
    ['In', { ...base, nodeSelectorTerms: [term([{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64', 'amd64'] }])] }, true],
    ['NotIn', { ...base, nodeSelectorTerms: [term([{ key: 'kubernetes.io/arch', operator: 'NotIn', values: ['amd64'] }])] }, false],
    ['NotIn on an absent label holds', { ...base, nodeSelectorTerms: [term([{ key: 'gpu', operator: 'NotIn', values: ['yes'] }])] }, true],
    ['Exists', { ...base, nodeSelectorTerms: [term([{ key: 'zone', operator: 'Exists' }])] }, true],
    ['DoesNotExist', { ...base, nodeSelectorTerms: [term([{ key: 'zone', operator: 'DoesNotExist' }])] }, false],
    ['Gt', { ...base, nodeSelectorTerms: [term([{ key: 'cores', operator: 'Gt', values: ['8'] }])] }, true],
    ['Lt', { ...base, nodeSelectorTerms: [term([{ key: 'cores', operator: 'Lt', values: ['8'] }])] }, false],
    ['terms are ORed', { ...base, nodeSelectorTerms: [term([{ key: 'zone', operator: 'In', values: ['b'] }]), term([{ key: 'zone', operator: 'In', values: ['a'] }])] }, true],
    ['expressions of a term are ANDed', { ...base, nodeSelectorTerms: [term([{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }])] }, false],
    ['an empty term matches no node', { ...base, nodeSelectorTerms: [term([])] }, false],
    ['matchFields on metadata.name', { ...base, nodeSelectorTerms: [term([], [{ key: 'metadata.name', operator: 'In', values: ['amd-1'] }])] }, true],
    ['an unknown operator matches nothing', { ...base, nodeSelectorTerms: [term([{ key: 'zone', operator: 'Like', values: ['a'] }])] }, false],
  ];
  for (const [name, placement, expected] of cases) test(name, () => assert.equal(canSchedule(placement, amd), expected));

  test('a node made up from a platform judges only its platform labels', () => {
    const node = { labels: platformLabels(p('linux/arm64')), taints: [] };
    const isKnownKey = (key: string): boolean => PLATFORM_LABEL_KEYS.has(key);
    assert.equal(canSchedule({ ...base, nodeSelector: { 'kubernetes.io/arch': 'arm64', pool: 'edge' } }, node, { isKnownKey }), true);
    assert.equal(canSchedule({ ...base, nodeSelector: { 'kubernetes.io/arch': 'amd64' } }, node, { isKnownKey }), false);
    assert.equal(canSchedule({ ...base, nodeSelectorTerms: [term([{ key: 'pool', operator: 'In', values: ['x'] }])] }, node, { isKnownKey }), true);
  });
});

describe('readWorkloads', () => {
  const read = (yaml: string) => {
    const parsed = parseYamlDocuments(yaml, 'w.yaml');
    assert.deepEqual(parsed.issues, []);
    return readWorkloads(parsed.documents, 'w.yaml');
  };

  test('every kind keeps its pod spec where Kubernetes does; other kinds are skipped', () => {
    const pod = '{containers: [{name: c, image: app}]}';
    const out = read(`
kind: Pod
metadata: {name: a}
spec: ${pod}
---
kind: CronJob
metadata: {name: b, namespace: ns}
spec: {jobTemplate: {spec: {template: {spec: ${pod}}}}}
---
kind: PodTemplate
metadata: {name: c}
template: {spec: ${pod}}
---
kind: ConfigMap
metadata: {name: d}
---
kind: List
items:
  - {kind: Job, metadata: {name: e}, spec: {template: {spec: ${pod}}}}
  - {kind: Secret, metadata: {name: f}}
`);
    assert.deepEqual(out.workloads.map((w) => [w.kind, w.namespace ?? '', w.name, w.line]), [
      ['Pod', '', 'a', 2], ['CronJob', 'ns', 'b', 6], ['PodTemplate', '', 'c', 10], ['Job', '', 'e', 19],
    ]);
    assert.equal(out.skipped, 2);
    assert.equal(out.workloads[0]?.containers[0]?.reference.toString(), 'docker.io/library/app:latest');
  });

  test('init, regular and ephemeral containers, with the line of each image; placement read', () => {
    const out = read(`kind: DaemonSet
metadata: {name: ds}
spec:
  template:
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      tolerations: [{key: a, operator: Exists, effect: NoSchedule}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}]}]
      containers:
        - name: main
          image: r.example/app:1
      initContainers:
        - name: init
          image: r.example/init:1
      ephemeralContainers:
        - name: debug
          image: busybox
`);
    const [ds] = out.workloads;
    assert.deepEqual(ds?.containers.map((c) => [c.type, c.name, c.line]), [['initContainer', 'init', 17], ['container', 'main', 14], ['ephemeralContainer', 'debug', 20]]);
    assert.equal(ds?.placement.daemonSet, true);
    assert.deepEqual({ ...ds?.placement.nodeSelector }, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(ds?.placement.tolerations, [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(ds?.placement.nodeSelectorTerms?.[0]?.matchExpressions, [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }]);
  });

  test('problems carry file, line and path: no pod spec, no image, an invalid image', () => {
    const out = read(`kind: Deployment
metadata: {name: d}
spec: {}
---
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: a
    - name: b
      image: "Bad:Ref:x"
`);
    assert.deepEqual(out.issues.map((i) => [i.line, i.path]), [[1, '/spec/template/spec'], [9, '/spec/containers/0'], [11, '/spec/containers/1/image']]);
    assert.match(out.issues[2]?.message ?? '', /^container b: invalid reference/);
  });
});

describe('readNodes', () => {
  test('labels first, then status.nodeInfo; Windows builds; taints', () => {
    const out = readNodes({ kind: 'List', items: [
      { kind: 'Node', metadata: { name: 'a', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' } }, spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } },
      { kind: 'Node', metadata: { name: 'b' }, status: { nodeInfo: { operatingSystem: 'linux', architecture: 'arm' } } },
      { kind: 'Node', metadata: { name: 'w', labels: { 'kubernetes.io/os': 'windows', 'kubernetes.io/arch': 'amd64', 'node.kubernetes.io/windows-build': '10.0.20348' } } },
    ] });
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.nodes.map((n) => [n.name, n.platform, n.taints]), [
      ['a', { os: 'linux', architecture: 'arm64' }, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]],
      ['b', { os: 'linux', architecture: 'arm' }, []],
      ['w', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348' }, []],
    ]);
  });

  const bad: [name: string, input: unknown, pattern: RegExp][] = [
    ['not a list', { kind: 'Pod' }, /kubectl get nodes -o json/],
    ['an empty list', { kind: 'List', items: [] }, /holds no nodes/],
    ['a Pod among the nodes', { items: [{ kind: 'Pod' }] }, /item 1 is not a Node \(kind Pod\)/],
    ['a node without platform', { items: [{ kind: 'Node', metadata: { name: 'x' } }] }, /node x: no kubernetes.io\/os/],
    ['a node with an unknown architecture', { items: [{ kind: 'Node', metadata: { name: 'x', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'z80' } } }] }, /node x: invalid platform/],
  ];
  for (const [name, input, pattern] of bad) test(`refused: ${name}`, () => assert.match(readNodes(input).problems[0] ?? '', pattern));
});
