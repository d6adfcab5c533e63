// `manifest check` against a real registry (Debian's docker-registry 2.8): workloads of Kubernetes YAML checked
// against nodes (nodeSelector, affinity, taints, Windows builds) and platforms, through the CLI as a user runs it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { assertMatchesSchema } from '../helpers/json-schema.js';
import { registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

const linux = (architecture: string, variant?: string): SeededImage['platform'] => ({ os: 'linux', architecture, ...(variant === undefined ? {} : { variant }) });

/** Pushes one image per platform into `repository` and a list of them under `tag`. */
async function seedList(registry: TestRegistry, repository: string, tag: string, platforms: SeededImage['platform'][]): Promise<string> {
  const children: SeededImage[] = [];
  for (const platform of platforms) children.push(await registry.seedImage({ repository, platform }));
  return (await registry.seedIndex({ repository, tag, children })).digest;
}

function node(name: string, os: string, arch: string, taints: { key: string; value?: string; effect: string }[] = [], labels: Record<string, string> = {}): unknown {
  return {
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/os': os, 'kubernetes.io/arch': arch, 'kubernetes.io/hostname': name, ...labels } },
    spec: taints.length === 0 ? {} : { taints },
    status: { nodeInfo: { operatingSystem: os, architecture: arch } },
  };
}

/** A cluster: one untainted amd64 node; arm64 and arm nodes tainted for edge workloads; a tainted Windows 2019 node. */
const NODES = JSON.stringify({
  apiVersion: 'v1',
  kind: 'List',
  items: [
    node('amd-1', 'linux', 'amd64'),
    node('arm64-1', 'linux', 'arm64', [{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }]),
    node('pi-1', 'linux', 'arm', [{ key: 'dedicated', value: 'edge', effect: 'NoExecute' }]),
    node('win-1', 'windows', 'amd64', [{ key: 'os', value: 'windows', effect: 'NoSchedule' }], { 'node.kubernetes.io/windows-build': '10.0.17763' }),
    // PreferNoSchedule does not keep a pod off a node.
    node('amd-2', 'linux', 'amd64', [{ key: 'spare', effect: 'PreferNoSchedule' }]),
  ],
});

interface Row { workload: string; container: string; image: string; missing: string; nodes?: string }

/** Parses the text table into rows (columns are separated by two or more spaces). */
function rows(text: string): Row[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  assert.match(header ?? '', /^WORKLOAD +CONTAINER +IMAGE +MISSING/);
  return lines.map((line) => {
    const [workload = '', container = '', image = '', missing = '', nodes] = line.split(/ {2,}/);
    return { workload, container, image, missing, ...(nodes === undefined ? {} : { nodes }) };
  });
}

describe('check against a real registry', { skip: skipReason, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let host: string;
  let agentDigest: string;

  before(async () => {
    registry = await startRegistry('plain');
    host = registry.host;
    dir = await mkdtemp(join(tmpdir(), 'manifest-check-'));
    agentDigest = await seedList(registry, 'k/agent', '1', [linux('amd64'), linux('arm64', 'v8'), linux('arm', 'v7')]);
    await seedList(registry, 'k/busybox', '1', [linux('amd64'), linux('arm64', 'v8')]);
    await seedList(registry, 'k/multi', '1', [linux('amd64'), linux('arm64')]);
    await seedList(registry, 'k/armv6', '1', [linux('amd64'), linux('arm', 'v6')]);
    await seedList(registry, 'k/armv8', '1', [linux('amd64'), linux('arm', 'v8')]);
    await registry.seedImage({ repository: 'k/api', tag: '1', platform: linux('amd64') });
    await seedList(registry, 'k/win', '2019', [{ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5830' }]);
    await seedList(registry, 'k/win', '2022', [{ os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2461' }]);
    await writeFile(join(dir, 'nodes.json'), NODES);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const check = (args: string[], stdin?: string) => runCli(['--plain-http', 'check', ...args], stdin === undefined ? {} : { stdin });
  const withNodes = async (yaml: string, extra: string[] = []) => {
    const file = join(dir, `w${Math.random().toString(16).slice(2)}.yaml`);
    await writeFile(file, yaml.replaceAll('REG', host));
    return check(['--nodes', join(dir, 'nodes.json'), ...extra, file]);
  };

  test('a DaemonSet tolerating every taint: its container is covered, its initContainer lacks linux/arm on pi-1', async () => {
    const r = await withNodes(`
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  template:
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      tolerations: [{operator: Exists}]
      initContainers:
        - {name: setup, image: REG/k/busybox:1}
      containers:
        - {name: agent, image: REG/k/agent:1}
`);
    assert.equal(r.code, 10, r.stderr);
    assert.deepEqual(rows(r.text), [
      { workload: 'DaemonSet kube-system/agent', container: 'setup (init)', image: `${host}/k/busybox:1`, missing: 'linux/arm', nodes: 'pi-1' },
      { workload: 'DaemonSet kube-system/agent', container: 'agent', image: `${host}/k/agent:1`, missing: 'ok', nodes: '-' },
    ]);
    assert.match(r.stderr, /^manifest: 1 container runs an image that lacks a platform of its nodes\n$/);
  });

  test('taints narrow: an untolerating Deployment runs on amd64 only; tolerating "dedicated=edge" adds arm64 and arm', async () => {
    const plain = await withNodes(`
kind: Deployment
metadata: {name: api}
spec: {template: {spec: {containers: [{name: api, image: REG/k/api:1}]}}}
`);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(rows(plain.text).map((x) => x.missing), ['ok']);
    const json = await withNodes(`
kind: Deployment
metadata: {name: api}
spec: {template: {spec: {containers: [{name: api, image: REG/k/api:1}]}}}
`, ['--json']);
    const doc = JSON.parse(json.text) as { ok: boolean; workloads: { nodes: string[]; platforms: string[] }[] };
    assertMatchesSchema(doc, 'check.schema.json');
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.workloads[0]?.nodes, ['amd-1', 'amd-2']);
    assert.deepEqual(doc.workloads[0]?.platforms, ['linux/amd64']);

    const edge = await withNodes(`
kind: Deployment
metadata: {name: api-edge}
spec:
  template:
    spec:
      tolerations: [{key: dedicated, operator: Equal, value: edge}]
      containers: [{name: api, image: REG/k/api:1}]
`);
    assert.equal(edge.code, 10, edge.stderr);
    assert.deepEqual(rows(edge.text)[0], { workload: 'Deployment api-edge', container: 'api', image: `${host}/k/api:1`, missing: 'linux/arm64,linux/arm', nodes: 'arm64-1,pi-1' });
    // Tolerating only NoSchedule leaves pi-1 (NoExecute) out.
    const noSchedule = await withNodes(`
kind: Deployment
metadata: {name: api-edge}
spec:
  template:
    spec:
      tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
      containers: [{name: api, image: REG/k/multi:1}]
`);
    assert.equal(noSchedule.code, 0, noSchedule.text);
  });

  test('required node affinity narrows: In and NotIn on kubernetes.io/arch', async () => {
    const r = await withNodes(`
apiVersion: v1
kind: List
items:
  - kind: Deployment
    metadata: {name: in-amd64}
    spec:
      template:
        spec:
          tolerations: [{operator: Exists}]
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                  - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}, {key: kubernetes.io/os, operator: In, values: [linux]}]
              preferredDuringSchedulingIgnoredDuringExecution:
                - weight: 1
                  preference: {matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]}
          containers: [{name: c, image: REG/k/api:1}]
  - kind: StatefulSet
    metadata: {name: not-arm}
    spec:
      template:
        spec:
          tolerations: [{operator: Exists}]
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                  - matchExpressions: [{key: kubernetes.io/arch, operator: NotIn, values: [arm]}, {key: kubernetes.io/os, operator: NotIn, values: [windows]}]
          containers: [{name: c, image: REG/k/multi:1}]
  - kind: ReplicaSet
    metadata: {name: everywhere-linux}
    spec:
      template:
        spec:
          tolerations: [{operator: Exists}]
          nodeSelector: {kubernetes.io/os: linux}
          containers: [{name: c, image: REG/k/multi:1}]
`);
    assert.equal(r.code, 10, r.stderr);
    assert.deepEqual(rows(r.text).map((x) => [x.workload, x.missing, x.nodes]), [
      ['Deployment in-amd64', 'ok', '-'],
      ['StatefulSet not-arm', 'ok', '-'],
      ['ReplicaSet everywhere-linux', 'linux/arm', 'pi-1'],
    ]);
  });

  test('arm variants: an arm node (v7) runs v6 images, not v8 ones', async () => {
    const r = await withNodes(`
kind: DaemonSet
metadata: {name: arms}
spec:
  template:
    spec:
      tolerations: [{operator: Exists}]
      nodeSelector: {kubernetes.io/arch: arm}
      containers: [{name: v6, image: REG/k/armv6:1}, {name: v8, image: REG/k/armv8:1}]
`);
    assert.equal(r.code, 10, r.stderr);
    assert.deepEqual(rows(r.text).map((x) => [x.container, x.missing]), [['v6', 'ok'], ['v8', 'linux/arm']]);
  });

  test('Windows nodes: a CronJob needs an image of the node\'s build', async () => {
    const r = await withNodes(`
kind: CronJob
metadata: {name: report-2019}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          nodeSelector: {kubernetes.io/os: windows}
          tolerations: [{key: os, value: windows, effect: NoSchedule}]
          containers: [{name: report, image: REG/k/win:2019}]
---
kind: CronJob
metadata: {name: report-2022}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          nodeSelector: {kubernetes.io/os: windows}
          tolerations: [{key: os, value: windows, effect: NoSchedule}]
          containers: [{name: report, image: REG/k/win:2022}]
`);
    assert.equal(r.code, 10, r.stderr);
    assert.deepEqual(rows(r.text).map((x) => [x.workload, x.missing, x.nodes]), [
      ['CronJob report-2019', 'ok', '-'],
      ['CronJob report-2022', 'windows(10.0.17763)/amd64', 'win-1'],
    ]);
  });

  test('helm template output on stdin, with --platforms: other kinds skipped, a digest-pinned image read by digest', async () => {
    const yaml = `---
# Source: agent/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: agent
---
# Source: agent/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: agent
spec:
  ports: [{port: 80}]
---
# Source: agent/templates/daemonset.yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  template:
    spec:
      containers:
        - name: agent
          image: "${host}/k/agent:1@${agentDigest}"
---
# Source: agent/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      nodeSelector:
        kubernetes.io/arch: arm64
      containers:
        - name: migrate
          image: ${host}/k/api:1
---
# Source: agent/templates/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
    - name: main
      image: ${host}/k/multi:1
  ephemeralContainers:
    - name: shell
      image: ${host}/k/busybox:1
`;
    const r = await check(['--platforms', 'linux/amd64,linux/arm64', '--json', '-'], yaml);
    assert.equal(r.code, 10, r.stderr);
    const doc = JSON.parse(r.text) as {
      ok: boolean; missing: number; needs: { platforms: string[] };
      workloads: { kind: string; name: string; line: number; platforms: string[]; containers: { name: string; type: string; missing: string[] }[] }[];
      images: { reference: string; digest: string; kind: string; platforms: string[] }[];
    };
    assertMatchesSchema(doc, 'check.schema.json');
    assert.equal(doc.ok, false);
    assert.equal(doc.missing, 1);
    assert.deepEqual(doc.needs, { platforms: ['linux/amd64', 'linux/arm64'] });
    assert.deepEqual(doc.workloads.map((w) => [w.kind, w.name, w.platforms, w.containers.map((c) => [c.name, c.type, c.missing])]), [
      ['DaemonSet', 'agent', ['linux/amd64', 'linux/arm64'], [['agent', 'container', []]]],
      ['Job', 'migrate', ['linux/arm64'], [['migrate', 'container', ['linux/arm64']]]],
      ['Pod', 'debug', ['linux/amd64', 'linux/arm64'], [['main', 'container', []], ['shell', 'ephemeralContainer', []]]],
    ]);
    assert.equal(doc.workloads[0]?.line, 17); // the DaemonSet's document starts at its apiVersion
    const pinned = doc.images.find((i) => i.reference.includes('@'));
    assert.equal(pinned?.digest, agentDigest);
    assert.equal(pinned?.kind, 'list');
    // A single-image tag offers its config's one platform.
    assert.deepEqual(doc.images.find((i) => i.reference.endsWith('k/api:1'))?.platforms, ['linux/amd64']);
  });

  test('an image that does not exist: the others are still checked, exit 4 with the registry\'s message', async () => {
    const r = await withNodes(`
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: REG/k/api:1}, {name: sidecar, image: REG/k/nope:1}]
`);
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(rows(r.text).map((x) => [x.container, x.missing]), [['web', 'ok'], ['sidecar', 'error: not found']]);
    assertOneLineError(r, 4, /reading ".*k\/nope:1".*not found/);
    const json = await withNodes(`
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: web, image: REG/k/api:1}, {name: sidecar, image: REG/k/nope:1}]}}}
`, ['--json']);
    assert.equal(json.code, 4);
    const doc = JSON.parse(json.text) as { ok: boolean; failed: number; workloads: { containers: { error?: { code: string; exitCode: number } }[] }[] };
    assertMatchesSchema(doc, 'check.schema.json');
    assert.equal(doc.ok, false);
    assert.equal(doc.failed, 1);
    assert.deepEqual(doc.workloads[0]?.containers.map((c) => c.error?.code), [undefined, 'NOT_FOUND']);
  });

  test('bad input exits 2 before any request: an invalid image, no workload, neither --platforms nor --nodes', async () => {
    const bad = await withNodes(`
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: "REG/k/UPPER:1"}]}
`);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^manifest: .*\.yaml:4: \/spec\/containers\/0\/image: container c: /);
    const none = await check(['--platforms', 'linux/amd64', '-'], 'kind: Service\nmetadata: {name: s}\n');
    assertOneLineError(none, 2, /no workload found .*1 other object skipped/);
    const neither = await check(['-'], 'kind: Pod\n');
    assertOneLineError(neither, 2, /--platforms .* or --nodes/);
    const twice = await check(['--nodes', '-', '-'], 'kind: Pod\n');
    assertOneLineError(twice, 2, /standard input/);
  });

  test('examples/kubernetes: the DaemonSet and the Deployment against examples/kubernetes/nodes.json', async () => {
    await seedList(registry, 'monitoring/node-agent', '2.4.0', [linux('amd64'), linux('arm64', 'v8'), linux('arm', 'v7')]);
    await seedList(registry, 'tools/busybox', '1.36', [linux('amd64'), linux('arm64', 'v8'), linux('arm', 'v6')]);
    await registry.seedImage({ repository: 'shop/web', tag: '1.0.3', platform: linux('arm64', 'v8') });
    const files = [];
    for (const name of ['daemonset.yaml', 'deployment.yaml']) {
      const text = await readFile(join(repoRoot, 'examples', 'kubernetes', name), 'utf8');
      await writeFile(join(dir, name), text.replaceAll('r.example', host));
      files.push(join(dir, name));
    }
    const r = await check(['--nodes', join(repoRoot, 'examples', 'kubernetes', 'nodes.json'), ...files]);
    assert.equal(r.code, 0, `${r.text}${r.stderr}`);
    assert.deepEqual(rows(r.text).map((x) => [x.workload, x.container, x.missing]), [
      ['DaemonSet monitoring/node-agent', 'setup (init)', 'ok'],
      ['DaemonSet monitoring/node-agent', 'agent', 'ok'],
      ['Deployment shop/web', 'web', 'ok'],
    ]);
    // Without the arm64 image of busybox the init container would fail on graviton-1: the example's nodes matter.
    const narrowed = await check(['--json', '--nodes', join(repoRoot, 'examples', 'kubernetes', 'nodes.json'), files[0] ?? '']);
    const doc = JSON.parse(narrowed.text) as { workloads: { nodes: string[] }[] };
    assertMatchesSchema(doc, 'check.schema.json');
    // The control-plane taint is tolerated, the GPU node's is not, the Windows node is not linux.
    assert.deepEqual(doc.workloads[0]?.nodes, ['cp-1', 'amd-1', 'amd-2', 'graviton-1', 'pi-1']);
  });
});
