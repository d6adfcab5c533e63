// `manifest pushml` / `push from-spec` / `push from-args` against real registries (Debian's docker-registry 2.8),
// each result checked with skopeo, an independent client: the platforms a tag resolves to, what a node of each
// architecture pulls, mounts across repositories, copies across registries, and bad input pushing nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { EIGHT_PLATFORMS } from '../helpers/platforms.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';
import { registryAvailable, startRegistry, type RegistryMode, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface RawList {
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; platform?: Record<string, unknown>; annotations?: Record<string, string> }[];
  annotations?: Record<string, string>;
}

/** The flags a user passes for each mode: plain HTTP, or the CA plus credentials on stdin. */
function access(registry: TestRegistry): { args: string[]; stdin: string } {
  if (registry.mode === 'plain') return { args: ['--plain-http'], stdin: '' };
  return { args: ['--ca-file', registry.caFile ?? '', '--username', registry.username ?? '', '--password-stdin'], stdin: `${registry.password ?? ''}\n` };
}

/** The layers of the image `skopeo inspect` resolved a list to (its Digest field is the list's own). */
function pulledLayers(stdout: string): string[] {
  return (JSON.parse(stdout) as { Layers: string[] }).Layers;
}

/** Every file of the registry's storage with its size: "unchanged" means this snapshot is equal. */
async function storageSnapshot(registry: TestRegistry): Promise<string[]> {
  const root = join(registry.dir, 'storage');
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[] = [];
    try { names = await readdir(dir); } catch { return; }
    for (const name of names.sort()) {
      const path = join(dir, name);
      const info = await stat(path);
      if (info.isDirectory()) await walk(path);
      else out.push(`${relative(root, path)} ${info.size}`);
    }
  };
  await walk(root);
  return out;
}

function platformOf(p: SeededImage['platform']): string {
  const lines = [`architecture: ${p.architecture}`, `os: ${p.os}`];
  if (p.variant !== undefined) lines.push(`variant: ${p.variant}`);
  if (p['os.version'] !== undefined) lines.push(`osversion: ${p['os.version']}`);
  return `{${lines.join(', ')}}`;
}

/** Writes a spec in manifest-tool's layout. */
function specYaml(target: string, entries: { image: string; platform?: SeededImage['platform'] }[], extra = ''): string {
  return [
    `image: ${target}`,
    extra,
    'manifests:',
    ...entries.flatMap((e) => [`  - image: ${e.image}`, ...(e.platform === undefined ? [] : [`    platform: ${platformOf(e.platform)}`])]),
    '',
  ].filter((l) => l !== '').join('\n');
}


for (const mode of ['plain', 'basic', 'token'] as RegistryMode[]) {
  describe(`push against a real registry (${mode})`, { skip: skipReason, timeout: 240_000 }, () => {
    let registry: TestRegistry;
    let dir: string;
    let images: SeededImage[];
    let cli: (args: string[]) => Promise<CliResult>;

    before(async () => {
      registry = await startRegistry(mode);
      dir = await mkdtemp(join(tmpdir(), 'manifest-push-'));
      images = [];
      for (const [i, platform] of EIGHT_PLATFORMS.slice(0, 3).entries()) {
        images.push(await registry.seedImage({ repository: 'prom/prometheus', tag: `v1-${i}`, platform }));
      }
      const a = access(registry);
      cli = (args) => runCli([...a.args, ...args], { stdin: a.stdin });
    });
    after(async () => {
      await registry?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    test('pushml pushes the list; skopeo sees each platform; a second run changes nothing and prints the same digest', async () => {
      const file = join(dir, 'prometheus.yaml');
      await writeFile(file, specYaml(`${registry.host}/prom/prometheus:v1`, images.map((img) => ({ image: `${registry.host}/prom/prometheus:${img.tag ?? ''}`, platform: img.platform })), 'tags: [latest]'));
      const first = await cli(['pushml', file]);
      assert.equal(first.code, 0, first.stderr);
      const match = /^Digest: (sha256:[0-9a-f]{64}) ([0-9]+)\n$/.exec(first.text);
      assert.ok(match, `one Digest line: ${first.text}`);
      const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/prom/prometheus:v1`]);
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(sha256(raw.stdout), match[1]);
      assert.equal(Buffer.byteLength(raw.stdout), Number(match[2]));
      const list = JSON.parse(raw.stdout) as RawList;
      assert.equal(list.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
      assert.deepEqual(list.manifests.map((m) => m.digest), images.map((img) => img.digest));
      const latest = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/prom/prometheus:latest`]);
      assert.equal(sha256(latest.stdout), match[1]);
      const arm = await registry.skopeo('inspect', [`docker://${registry.host}/prom/prometheus:v1`], ['--override-arch', 'arm', '--override-variant', 'v7', '--override-os', 'linux']);
      assert.equal(arm.code, 0, arm.stderr);
      assert.deepEqual(pulledLayers(arm.stdout), images[2]?.layers.map((l) => l.digest));

      const before = await storageSnapshot(registry);
      const again = await cli(['pushml', '--json', file]);
      assert.equal(again.code, 0, again.stderr);
      const doc = JSON.parse(again.text) as { digest: string; pushedTags: string[]; unchangedTags: string[]; verified: boolean };
      assert.equal(doc.digest, match[1]);
      assert.deepEqual(doc.pushedTags, []);
      assert.deepEqual(doc.unchangedTags, ['v1', 'latest']);
      assert.equal(doc.verified, true);
      assert.deepEqual(await storageSnapshot(registry), before, 'a re-run writes nothing');
    });

    test('push from-args substitutes OS, ARCH and VARIANT; a template naming a missing image is exit 4', async () => {
      for (const [tag, platform] of [['linux-amd64', EIGHT_PLATFORMS[0]], ['linux-armv7', EIGHT_PLATFORMS[2]]] as const) {
        await registry.seedImage({ repository: 'args/app', tag: `2.0-${tag}`, platform: platform ?? { os: 'linux', architecture: 'amd64' } });
      }
      const r = await cli(['push', 'from-args', '--platforms', 'linux/amd64,linux/arm/v7', '--template', `${registry.host}/args/app:2.0-OS-ARCHVARIANT`, '--target', `${registry.host}/args/app:2.0`, '--tags', 'latest', '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/args/app:latest`]);
      assert.equal(`${sha256(raw.stdout)}\n`, r.text);
      assert.deepEqual((JSON.parse(raw.stdout) as RawList).manifests.map((m) => m.platform), [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm', os: 'linux', variant: 'v7' }]);

      const missing = await cli(['push', 'from-args', '--platforms', 'linux/amd64,linux/arm64', '--template', `${registry.host}/args/app:2.0-OS-ARCH`, '--target', `${registry.host}/args/app:3.0`]);
      assert.equal(missing.code, 4, missing.stderr);
      assert.match(missing.stderr, /^manifest: resolving linux\/arm64 .*2\.0-linux-arm64.*not found/);
    });

    test('sources in another repository are mounted with a token (or credentials) for both repositories', async () => {
      const file = join(dir, 'mount.yaml');
      await writeFile(file, specYaml(`${registry.host}/release/prometheus:v1`, images.map((img) => ({ image: `${registry.host}/prom/prometheus:${img.tag ?? ''}` }))));
      const r = await cli(['pushml', '--json', file]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.text) as { digest: string; blobs: { mounted: number; copied: number }; copiedManifests: number };
      assert.deepEqual({ ...doc.blobs, manifests: doc.copiedManifests }, { present: 0, mounted: images.length * 2, copied: 0, manifests: images.length });
      const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/release/prometheus:v1`]);
      assert.equal(sha256(raw.stdout), doc.digest);
    });
  });
}

/** Bad specs: each is refused with exit 2 and a `file:line:` message before anything is sent to the registry. */
const BAD_SPECS: { name: string; yaml: string; message: RegExp }[] = [
  { name: 'YAML syntax', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: [unclosed\n', message: /bad\.yaml:\d+(:\d+)?: / },
  { name: 'tab indentation', yaml: 'image: HOST/a/b:1\nmanifests:\n\t- image: HOST/a/b:x\n', message: /bad\.yaml:3/ },
  { name: 'missing image', yaml: 'manifests:\n  - image: HOST/a/b:x\n', message: /bad\.yaml:1: .*image/ },
  { name: 'missing manifests', yaml: 'image: HOST/a/b:1\n', message: /bad\.yaml:1: .*manifests/ },
  { name: 'empty manifests', yaml: 'image: HOST/a/b:1\nmanifests: []\n', message: /bad\.yaml:2: \/manifests: / },
  { name: 'manifests not a list', yaml: 'image: HOST/a/b:1\nmanifests: HOST/a/b:x\n', message: /bad\.yaml:2: \/manifests: / },
  { name: 'entry without image', yaml: 'image: HOST/a/b:1\nmanifests:\n  - platform: {os: linux, architecture: amd64}\n', message: /bad\.yaml:3: \/manifests\/0: .*image/ },
  { name: 'a partial platform the config contradicts', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform:\n      architecture: arm64\n', message: /\(bad\.yaml:3\): the spec says linux\/arm64 but the image's config says linux\/amd64/ },
  { name: 'unknown top-level key', yaml: 'image: HOST/a/b:1\ntag: [x]\nmanifests:\n  - image: HOST/a/b:x\n', message: /bad\.yaml:2: .*tag.*did you mean 'tags'/ },
  { name: 'misspelt platform', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platfrom: {os: linux, architecture: amd64}\n', message: /bad\.yaml:4: .*did you mean 'platform'/ },
  { name: 'misspelt platform key', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform: {os: linux, architecture: amd64, varaint: v2}\n', message: /bad\.yaml:4: .*did you mean 'variant'/ },
  { name: 'unknown architecture', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform: {os: linux, architecture: amd46}\n', message: /bad\.yaml:4: .*amd46/ },
  { name: 'unknown os', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform: {os: linnux, architecture: amd64}\n', message: /bad\.yaml:4: .*linnux/ },
  { name: 'arm variant v9', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform: {os: linux, architecture: arm, variant: v9}\n', message: /bad\.yaml:4: .*v9/ },
  { name: 'arm64 variant v7', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform: {os: linux, architecture: arm64, variant: v7}\n', message: /bad\.yaml:4: .*v7/ },
  { name: 'duplicate platform', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/b:x\n    platform: {os: linux, architecture: armhf}\n  - image: HOST/a/b:y\n    platform: {os: linux, architecture: arm, variant: v7}\n', message: /bad\.yaml:6: .*linux\/arm\/v7 is declared twice/ },
  { name: 'bad source reference', yaml: 'image: HOST/a/b:1\nmanifests:\n  - image: HOST/a/B:x\n', message: /bad\.yaml:3: .*HOST\/a\/B:x|bad\.yaml:3: .*invalid reference/ },
  { name: 'target with a digest', yaml: `image: HOST/a/b@sha256:${'a'.repeat(64)}\nmanifests:\n  - image: HOST/a/b:x\n`, message: /bad\.yaml:1: / },
  { name: 'invalid tag', yaml: 'image: HOST/a/b:1\ntags: [".bad"]\nmanifests:\n  - image: HOST/a/b:x\n', message: /bad\.yaml:2: / },
  { name: 'tags not a list', yaml: 'image: HOST/a/b:1\ntags: {a: b}\nmanifests:\n  - image: HOST/a/b:x\n', message: /bad\.yaml:2: \/tags: / },
  { name: 'annotations not a map', yaml: 'image: HOST/a/b:1\nannotations: [a]\nmanifests:\n  - image: HOST/a/b:x\n', message: /bad\.yaml:2: \/annotations: / },
  { name: 'billion laughs', yaml: `image: HOST/a/b:1\na: &a ["x","x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`).join('\n')}\nmanifests:\n  - image: HOST/a/b:x\n`, message: /bad\.yaml/ },
  { name: 'a scalar document', yaml: 'just a string\n', message: /bad\.yaml:1: / },
];

describe('push: a bad spec changes nothing in the registry (exit 2, file:line)', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let snapshot: string[];

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-bad-'));
    await registry.seedImage({ repository: 'a/b', tag: 'x', platform: { os: 'linux', architecture: 'amd64' } });
    await registry.seedImage({ repository: 'a/b', tag: 'y', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
    snapshot = await storageSnapshot(registry);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test(`there are at least 20 cases (${BAD_SPECS.length})`, () => assert.ok(BAD_SPECS.length >= 20));

  for (const c of BAD_SPECS) {
    test(c.name, async () => {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, c.yaml.replaceAll('HOST', registry.host));
      const r = await runCli(['--plain-http', 'pushml', 'bad.yaml'], { cwd: dir });
      assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr.split('\n')[0] ?? '', /^manifest: /);
      assert.match(r.stderr.replaceAll(registry.host, 'HOST'), c.message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.text, '', 'nothing on stdout');
      assert.deepEqual(await storageSnapshot(registry), snapshot, 'the registry is unchanged');
    });
  }
});

describe('push: mounts, copies, flattening, outputs (plain registry)', { skip: skipReason, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let second: TestRegistry;
  let proxy: TestProxy;
  let dir: string;
  let eight: SeededImage[];
  const cli = (args: string[]): Promise<CliResult> => runCli(['--plain-http', ...args]);
  const write = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  before(async () => {
    [registry, second] = await Promise.all([startRegistry('plain'), startRegistry('plain')]);
    proxy = await startProxy(registry.url);
    dir = await mkdtemp(join(tmpdir(), 'manifest-push-'));
    eight = [];
    for (const [i, platform] of EIGHT_PLATFORMS.entries()) {
      eight.push(await registry.seedImage({ repository: 'build/app', tag: `1-${i}`, platform, layers: 2 }));
    }
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([registry?.stop(), second?.stop()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('8 platforms from another repository: blobs are mounted, not uploaded; skopeo sees exactly those platforms', async () => {
    const spec = await write('eight.yaml', specYaml(`${proxy.host}/release/app:1`, eight.map((img) => ({ image: `${proxy.host}/build/app:${img.tag ?? ''}`, platform: img.platform }))));
    proxy.requests.length = 0;
    const r = await cli(['pushml', '--json', spec]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.text) as { digest: string; blobs: { mounted: number; copied: number }; copiedManifests: number };
    assert.equal(doc.copiedManifests, 8);
    assert.equal(doc.blobs.mounted, 8 * 3, 'config and two layers of each image are mounted');
    assert.equal(doc.blobs.copied, 0);
    const mounts = proxy.requests.filter((q) => q.method === 'POST' && q.url.includes('mount='));
    assert.equal(mounts.length, 24);
    assert.equal(proxy.requests.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && q.url.includes('/blobs/uploads/'))).length, 0, 'no blob uploads');

    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/release/app:1`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(raw.stdout), doc.digest);
    const list = JSON.parse(raw.stdout) as RawList;
    const platforms = list.manifests.map((m) => m.platform);
    assert.deepEqual(platforms, EIGHT_PLATFORMS.map((p) => {
      const out: Record<string, unknown> = { architecture: p.architecture, os: p.os };
      if (p['os.version'] !== undefined) out['os.version'] = p['os.version'];
      if (p.variant !== undefined) out.variant = p.variant; // arm64/v8 stays v8, as the config says
      return out;
    }));
    for (const [arch, variant, index] of [['arm', 'v7', 2], ['arm', 'v6', 3], ['arm64', '', 1], ['386', '', 4], ['s390x', '', 6]] as const) {
      const flags = ['--override-os', 'linux', '--override-arch', arch, ...(variant === '' ? [] : ['--override-variant', variant])];
      const got = await registry.skopeo('inspect', [`docker://${registry.host}/release/app:1`], flags);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(pulledLayers(got.stdout), eight[index]?.layers.map((l) => l.digest), `${arch}${variant}`);
    }
  });

  test('sources on another registry are copied (streamed) with their blobs, then the list is pushed', async () => {
    const spec = await write('cross.yaml', specYaml(`${second.host}/mirror/app:1`, eight.slice(0, 3).map((img) => ({ image: `${registry.host}/build/app:${img.tag ?? ''}` }))));
    const r = await cli(['pushml', '--json', spec]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.text) as { digest: string; blobs: { copied: number; mounted: number }; copiedManifests: number };
    assert.equal(doc.copiedManifests, 3);
    assert.equal(doc.blobs.copied, 9);
    const raw = await second.skopeo('inspect', ['--raw', `docker://${second.host}/mirror/app:1`]);
    assert.equal(sha256(raw.stdout), doc.digest);
    // skopeo copies every blob out of the target registry: they are all there and hash right.
    const out = join(dir, 'copied');
    const copied = await second.skopeo('copy', ['--all', `docker://${second.host}/mirror/app:1`, `dir:${out}`]);
    assert.equal(copied.code, 0, copied.stderr);
  });

  test('a source that is itself a list is flattened into its children', async () => {
    const list = await registry.seedIndex({ repository: 'build/app', tag: 'list', children: eight.slice(0, 2) });
    const spec = await write('flatten.yaml', specYaml(`${registry.host}/build/app:flat`, [
      { image: `${registry.host}/build/app:list` },
      { image: `${registry.host}/build/app:${eight[6]?.tag ?? ''}` },
    ]));
    const r = await cli(['pushml', '--quiet', spec]);
    assert.equal(r.code, 0, r.stderr);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/build/app:flat`]);
    assert.deepEqual((JSON.parse(raw.stdout) as RawList).manifests.map((m) => m.digest), [eight[0]?.digest, eight[1]?.digest, eight[6]?.digest]);
    assert.equal(r.text, `${sha256(raw.stdout)}\n`);
    assert.notEqual(list.digest, sha256(raw.stdout));

    const nested = await write('nested.yaml', specYaml(`${registry.host}/build/app:nested`, [{ image: `${registry.host}/build/app:list` }]));
    const n = await cli(['pushml', '--no-flatten', '--type', 'oci', '--quiet', nested]);
    assert.equal(n.code, 0, n.stderr);
    const nestedRaw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/build/app:nested`]);
    assert.deepEqual((JSON.parse(nestedRaw.stdout) as RawList).manifests.map((m) => m.digest), [list.digest]);
  });

  test('a declared platform that contradicts the image config is refused (exit 2) unless --no-verify-platform', async () => {
    const spec = await write('liar.yaml', specYaml(`${registry.host}/build/app:liar`, [
      { image: `${registry.host}/build/app:${eight[0]?.tag ?? ''}`, platform: { os: 'linux', architecture: 'arm64' } },
    ]));
    const before = await storageSnapshot(registry);
    const r = await cli(['pushml', spec]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^manifest: .*the spec says linux\/arm64 but the image's config says linux\/amd64/);
    assert.deepEqual(await storageSnapshot(registry), before);
    const forced = await cli(['pushml', '--no-verify-platform', '--quiet', spec]);
    assert.equal(forced.code, 0, forced.stderr);
  });

  test('two sources of one platform (from their configs) are a duplicate: exit 2, nothing pushed', async () => {
    const again = await registry.seedImage({ repository: 'build/app', tag: 'amd64-again', platform: { os: 'linux', architecture: 'amd64' } });
    const spec = await write('dup.yaml', specYaml(`${registry.host}/build/app:dup`, [
      { image: `${registry.host}/build/app:${eight[0]?.tag ?? ''}` },
      { image: `${registry.host}/build/app:${again.tag ?? ''}` },
    ]));
    const before = await storageSnapshot(registry);
    const r = await cli(['pushml', spec]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /two entries are for linux\/amd64/);
    assert.deepEqual(await storageSnapshot(registry), before);
  });

  test('--dry-run prints the list and pushes nothing; --ignore-missing skips a missing source', async () => {
    const spec = await write('missing.yaml', specYaml(`${registry.host}/build/app:partial`, [
      { image: `${registry.host}/build/app:${eight[0]?.tag ?? ''}` },
      { image: `${registry.host}/build/app:no-such-tag`, platform: { os: 'linux', architecture: 'riscv64' } },
    ]));
    const before = await storageSnapshot(registry);
    const dry = await cli(['pushml', '--dry-run', '--ignore-missing', spec]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /warning: skipping .*no-such-tag/);
    const list = JSON.parse(dry.text) as RawList;
    assert.deepEqual(list.manifests.map((m) => m.digest), [eight[0]?.digest]);
    assert.deepEqual(await storageSnapshot(registry), before, 'a dry run writes nothing');
    const strict = await cli(['pushml', spec]);
    assert.equal(strict.code, 4, strict.stderr);
    assert.match(strict.stderr, /no-such-tag/);
    assert.deepEqual(await storageSnapshot(registry), before, 'a missing source pushes nothing');
  });

  test('annotations make an OCI index; --type docker with annotations is a usage error', async () => {
    const spec = await write('annotated.yaml', specYaml(`${registry.host}/build/app:annotated`, [
      { image: `${registry.host}/build/app:${eight[0]?.tag ?? ''}` },
    ], 'annotations: {org.opencontainers.image.version: "1.10"}'));
    const r = await cli(['pushml', '--quiet', spec]);
    assert.equal(r.code, 0, r.stderr);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/build/app:annotated`]);
    const index = JSON.parse(raw.stdout) as RawList;
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.annotations, { 'org.opencontainers.image.version': '1.10' });
    const docker = await cli(['pushml', '--type', 'docker', spec]);
    assert.equal(docker.code, 2, docker.stderr);
    assert.match(docker.stderr, /cannot carry annotations/);
  });

  test('a batch pushes every good spec, reports each in order and exits with the first failure\'s code', async () => {
    const good = await write('good.yaml', specYaml(`${registry.host}/batch/app:1`, [{ image: `${registry.host}/build/app:${eight[0]?.tag ?? ''}` }]));
    const bad = await write('bad.yaml', specYaml(`${registry.host}/batch/app:2`, [{ image: `${registry.host}/build/app:gone`, platform: { os: 'linux', architecture: 'amd64' } }]));
    const r = await cli(['pushml', bad, good]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.text, new RegExp(`^Digest: sha256:[0-9a-f]{64} [0-9]+ ${registry.host}/batch/app:1\\n$`));
    assert.match(r.stderr, new RegExp(`^manifest: ${registry.host}/batch/app:2: `));
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/batch/app:1`]);
    assert.equal(raw.code, 0);
  });

  test('windows entries declared without osversion are told apart by their configs\' os.version', async () => {
    const ltsc2022 = await registry.seedImage({ repository: 'build/app', tag: 'ltsc2022', platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2461' } });
    const spec = await write('windows.yaml', specYaml(`${registry.host}/build/app:win`, [
      { image: `${registry.host}/build/app:${eight[7]?.tag ?? ''}`, platform: { os: 'windows', architecture: 'amd64' } },
      { image: `${registry.host}/build/app:${ltsc2022.tag ?? ''}`, platform: { os: 'windows', architecture: 'amd64' } },
    ]));
    const r = await cli(['pushml', '--quiet', spec]);
    assert.equal(r.code, 0, r.stderr);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/build/app:win`]);
    assert.deepEqual((JSON.parse(raw.stdout) as RawList).manifests.map((m) => m.platform?.['os.version']), ['10.0.17763.1879', '10.0.20348.2461']);
  });

  test('a tag that fails after another was set is exit 7: the Digest line, the tags done and not done', async () => {
    const failing = await startProxy(registry.url, (req) => (req.method === 'PUT' && req.url?.endsWith('/manifests/broken') === true
      ? { respond: { status: 500, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNKNOWN","message":"disk full"}]}' } }
      : undefined));
    try {
      const spec = await write('partial.yaml', specYaml(`${failing.host}/partial/app:good`, [{ image: `${failing.host}/build/app:${eight[0]?.tag ?? ''}` }], 'tags: [broken]'));
      const r = await cli(['pushml', spec]);
      assert.equal(r.code, 7, r.stderr);
      const digest = /^Digest: (sha256:[0-9a-f]{64}) [0-9]+\n$/.exec(r.text)?.[1];
      assert.ok(digest, `a Digest line for the list that is in the registry: ${r.text}`);
      assert.match(r.stderr, new RegExp(`^manifest: pushed ${digest} [0-9]+ as good but not as broken: pushing tag broken: .*500`));
      const good = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/partial/app:good`]);
      assert.equal(sha256(good.stdout), digest);
      const json = await cli(['pushml', '--json', '--force', spec]);
      assert.equal(json.code, 7, json.stderr);
      const doc = JSON.parse(json.text) as { digest: string; pushedTags: string[]; failedTags: string[]; error: { code: string; exitCode: number } };
      assert.deepEqual({ digest: doc.digest, pushed: doc.pushedTags, failed: doc.failedTags, code: doc.error.code, exit: doc.error.exitCode }, { digest, pushed: ['good'], failed: ['broken'], code: 'PARTIAL', exit: 7 });
    } finally {
      await failing.stop();
    }
  });

  test('--json reports a failed single spec as a document too', async () => {
    const spec = await write('gone.yaml', specYaml(`${registry.host}/gone/app:1`, [{ image: `${registry.host}/build/app:gone`, platform: { os: 'linux', architecture: 'amd64' } }]));
    const r = await cli(['pushml', '--json', spec]);
    assert.equal(r.code, 4, r.stderr);
    const doc = JSON.parse(r.text) as { name: string; error: { code: string; exitCode: number; message: string } };
    assert.equal(doc.error.code, 'NOT_FOUND');
    assert.equal(doc.error.exitCode, 4);
    assert.match(doc.error.message, /gone\.yaml:\d+/);
  });

  test('--digest-file writes the digest alone; the library API pushes the same bytes', async () => {
    const spec = await write('lib.yaml', specYaml(`${registry.host}/lib/app:1`, eight.slice(0, 2).map((img) => ({ image: `${registry.host}/build/app:${img.tag ?? ''}`, platform: img.platform }))));
    const digestFile = join(dir, 'digest.txt');
    const r = await cli(['pushml', '--digest-file', digestFile, spec]);
    assert.equal(r.code, 0, r.stderr);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    assert.match(r.text, new RegExp(`^Digest: ${digest} `));

    const lib = await import('../../src/index.js');
    const client = new lib.RegistryClient({ transport: new lib.Transport({ plainHttpHosts: [registry.host] }) });
    try {
      const result = await lib.pushManifestList({
        target: lib.parseReference(`${registry.host}/lib/app:2`),
        tags: [],
        manifests: eight.slice(0, 2).map((img) => ({ image: lib.parseReference(`${registry.host}/build/app:${img.tag ?? ''}`), platform: lib.normalizePlatform(img.platform) })),
      }, { client });
      assert.equal(result.digest, digest, 'the same spec gives the same bytes through the CLI and the library');
      assert.deepEqual(result.pushedTags, ['2']);
    } finally {
      await client.close();
    }
  });
});
