// `manifest index add`, `index remove` and `pushml --append` against a real registry (Debian's docker-registry
// 2.8), each result read back with skopeo: the other platforms keep their digests, the list keeps its type and
// annotations, and a failure before the tag leaves the tag as it was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { registryAvailable, startRegistry, type RegistryMode, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const ANNOTATIONS = { 'org.opencontainers.image.source': 'https://example.com/app', 'org.opencontainers.image.version': '1.0' };

interface RawEntry { mediaType: string; digest: string; size: number; platform?: { architecture: string; os: string; variant?: string }; annotations?: Record<string, string> }
interface RawList { mediaType: string; manifests: RawEntry[]; annotations?: Record<string, string> }

/** The flags a user passes for each mode: plain HTTP, or the CA plus credentials on stdin. */
function access(registry: TestRegistry): { args: string[]; stdin: string } {
  if (registry.mode === 'plain') return { args: ['--plain-http'], stdin: '' };
  return { args: ['--ca-file', registry.caFile ?? '', '--username', registry.username ?? '', '--password-stdin'], stdin: `${registry.password ?? ''}\n` };
}

/** What a tag holds now, as skopeo reads it: the raw bytes' digest and the parsed list. */
async function readList(registry: TestRegistry, tag: string): Promise<{ digest: string; list: RawList }> {
  const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/edit/app:${tag}`]);
  assert.equal(raw.code, 0, raw.stderr);
  return { digest: sha256(raw.stdout), list: JSON.parse(raw.stdout) as RawList };
}

function digestLine(r: CliResult): string {
  assert.equal(r.code, 0, r.stderr);
  const match = /^Digest: (sha256:[0-9a-f]{64}) [0-9]+\n$/.exec(r.text);
  assert.ok(match, `one Digest line: ${r.text}`);
  return match[1] ?? '';
}

for (const mode of ['plain', 'token'] as RegistryMode[]) {
  describe(`index add and remove keep the rest of the list (${mode})`, { skip: skipReason, timeout: 300_000 }, () => {
    let registry: TestRegistry;
    let images: Record<string, SeededImage>;
    let cli: (args: string[]) => Promise<CliResult>;

    before(async () => {
      registry = await startRegistry(mode);
      const oci = (repository: string, tag: string, architecture: string, variant?: string): Promise<SeededImage> =>
        registry.seedImage({ repository, tag, format: 'oci', platform: { os: 'linux', architecture, ...(variant === undefined ? {} : { variant }) } });
      images = {
        amd64: await oci('edit/app', 'amd64', 'amd64'),
        arm64: await oci('edit/app', 'arm64', 'arm64', 'v8'),
        riscv64: await oci('other/app', 'riscv64', 'riscv64'),
        arm64new: await oci('other/app', 'arm64-new', 'arm64', 'v8'),
      };
      await registry.seedIndex({ repository: 'edit/app', tag: 'v1', format: 'oci', children: [images.amd64 as SeededImage, images.arm64 as SeededImage], annotations: ANNOTATIONS });
      const a = access(registry);
      cli = (args) => runCli([...a.args, ...args], { stdin: a.stdin });
    });
    after(async () => { await registry?.stop(); });

    test('add a platform from another repository, replace one, remove one: the other entries and the annotations stay', async () => {
      const start = await readList(registry, 'v1');
      const [amd64Entry, arm64Entry] = start.list.manifests;
      assert.ok(amd64Entry && arm64Entry);

      const added = digestLine(await cli(['index', 'add', `${registry.host}/edit/app:v1`, `${registry.host}/other/app:riscv64`]));
      const one = await readList(registry, 'v1');
      assert.equal(one.digest, added);
      assert.equal(one.list.mediaType, OCI_INDEX);
      assert.deepEqual(one.list.annotations, ANNOTATIONS);
      assert.deepEqual(one.list.manifests.slice(0, 2), [amd64Entry, arm64Entry]);
      assert.equal(one.list.manifests[2]?.digest, images.riscv64?.digest);
      assert.deepEqual(one.list.manifests[2]?.platform, { architecture: 'riscv64', os: 'linux' });
      const pulled = await registry.skopeo('inspect', [`docker://${registry.host}/edit/app:v1`], ['--override-arch', 'riscv64', '--override-os', 'linux']);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.deepEqual((JSON.parse(pulled.stdout) as { Layers: string[] }).Layers, images.riscv64?.layers.map((l) => l.digest));

      // The same platform again replaces the entry in its place.
      digestLine(await cli(['index', 'add', `${registry.host}/edit/app:v1`, `${registry.host}/other/app:arm64-new`]));
      const two = await readList(registry, 'v1');
      assert.deepEqual(two.list.manifests.map((m) => m.digest), [images.amd64?.digest, images.arm64new?.digest, images.riscv64?.digest]);
      assert.deepEqual(two.list.manifests[0], amd64Entry);
      assert.deepEqual(two.list.annotations, ANNOTATIONS);

      // Adding what is already there changes nothing: same digest, no tag moved.
      const again = await cli(['index', 'add', '--json', `${registry.host}/edit/app:v1`, `${registry.host}/other/app:arm64-new`]);
      assert.equal(again.code, 0, again.stderr);
      const doc = JSON.parse(again.text) as { digest: string; pushedTags: string[]; unchangedTags: string[] };
      assert.deepEqual({ digest: doc.digest, pushed: doc.pushedTags, unchanged: doc.unchangedTags }, { digest: two.digest, pushed: [], unchanged: ['v1'] });

      digestLine(await cli(['index', 'remove', `${registry.host}/edit/app:v1`, '--platform', 'linux/arm64']));
      const three = await readList(registry, 'v1');
      assert.deepEqual(three.list.manifests, [amd64Entry, two.list.manifests[2]]);
      assert.deepEqual(three.list.annotations, ANNOTATIONS);
      assert.equal(three.list.mediaType, OCI_INDEX);

      // A platform the list lacks, or removing every image: refused, the tag unchanged.
      assertOneLineError(await cli(['index', 'remove', `${registry.host}/edit/app:v1`, '--platform', 'linux/s390x']), 4, /has no image for linux\/s390x \(it has: linux\/amd64, linux\/riscv64\)/);
      assertOneLineError(await cli(['index', 'remove', `${registry.host}/edit/app:v1`, '--platform', 'linux/amd64', '--platform', 'linux/riscv64']), 2, /without an image/);
      assert.equal((await readList(registry, 'v1')).digest, three.digest);
    });
  });
}

describe('index editing: list types, --append, failures before the tag (plain)', { skip: skipReason, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let images: Record<string, SeededImage>;
  const cli = (args: string[]): Promise<CliResult> => runCli(['--plain-http', ...args]);

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-edit-'));
    const seed = (tag: string, architecture: string, format: 'docker' | 'oci' = 'docker', variant?: string): Promise<SeededImage> =>
      registry.seedImage({ repository: 'edit/app', tag, format, platform: { os: 'linux', architecture, ...(variant === undefined ? {} : { variant }) } });
    images = {
      amd64: await seed('amd64', 'amd64'),
      arm64: await seed('arm64', 'arm64', 'docker', 'v8'),
      armv7: await seed('armv7', 'arm', 'docker', 'v7'),
      s390x: await seed('s390x', 's390x'),
      amd64new: await seed('amd64-new', 'amd64'),
      ppc64le: await seed('ppc64le', 'ppc64le', 'oci'),
    };
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const seedList = async (tag: string, names: string[]): Promise<string> =>
    (await registry.seedIndex({ repository: 'edit/app', tag, children: names.map((n) => images[n] as SeededImage) })).digest;

  test('a Docker list stays one; an OCI image cannot join it unless --type oci is given', async () => {
    await seedList('d1', ['amd64', 'arm64']);
    digestLine(await cli(['index', 'add', `${registry.host}/edit/app:d1`, `${registry.host}/edit/app:s390x`]));
    const added = await readList(registry, 'd1');
    assert.equal(added.list.mediaType, DOCKER_LIST);
    assert.deepEqual(added.list.manifests.map((m) => m.digest), [images.amd64?.digest, images.arm64?.digest, images.s390x?.digest]);

    assertOneLineError(await cli(['index', 'add', `${registry.host}/edit/app:d1`, `${registry.host}/edit/app:ppc64le`]), 2, /Docker manifest list holds Docker v2/);
    assert.equal((await readList(registry, 'd1')).digest, added.digest);

    digestLine(await cli(['index', 'add', '--type', 'oci', `${registry.host}/edit/app:d1`, `${registry.host}/edit/app:ppc64le`]));
    const oci = await readList(registry, 'd1');
    assert.equal(oci.list.mediaType, OCI_INDEX);
    assert.deepEqual(oci.list.manifests.map((m) => m.digest), [...added.list.manifests.map((m) => m.digest), images.ppc64le?.digest]);

    // linux/arm names arm/v7; the dry run prints the list and changes nothing.
    await seedList('d2', ['amd64', 'armv7']);
    const dry = await cli(['index', 'remove', '--dry-run', `${registry.host}/edit/app:d2`, '--platform', 'linux/arm']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual((JSON.parse(dry.text) as RawList).manifests.map((m) => m.digest), [images.amd64?.digest]);
    assert.equal((await readList(registry, 'd2')).list.manifests.length, 2);
  });

  test('pushml --append merges the spec into the tag: a platform replaced in place, one added, the rest kept', async () => {
    const before = await seedList('a1', ['amd64', 'arm64', 'armv7']);
    const file = join(dir, 'append.yaml');
    await writeFile(file, [
      `image: ${registry.host}/edit/app:a1`,
      'manifests:',
      `  - image: ${registry.host}/edit/app:s390x`,
      `  - image: ${registry.host}/edit/app:amd64-new`,
      '    platform: {os: linux, architecture: amd64}',
      '',
    ].join('\n'));
    const old = await readList(registry, 'a1');
    assert.equal(old.digest, before);
    const digest = digestLine(await cli(['pushml', '--append', file]));
    const merged = await readList(registry, 'a1');
    assert.equal(merged.digest, digest);
    assert.equal(merged.list.mediaType, DOCKER_LIST);
    assert.deepEqual(merged.list.manifests.map((m) => m.digest), [images.amd64new?.digest, images.arm64?.digest, images.armv7?.digest, images.s390x?.digest]);
    assert.deepEqual(merged.list.manifests.slice(1, 3), old.list.manifests.slice(1, 3));

    // Without a list at the tag yet, --append is a plain push of the spec.
    await writeFile(file, [`image: ${registry.host}/edit/app:fresh`, 'manifests:', `  - image: ${registry.host}/edit/app:s390x`, ''].join('\n'));
    digestLine(await cli(['pushml', '--append', file]));
    assert.deepEqual((await readList(registry, 'fresh')).list.manifests.map((m) => m.digest), [images.s390x?.digest]);
  });

  test('a failure before the tag leaves it as it was: a missing source, a refused list PUT, a tag holding an image', async () => {
    const start = await seedList('f1', ['amd64', 'arm64']);
    assertOneLineError(await cli(['index', 'add', `${registry.host}/edit/app:f1`, `${registry.host}/edit/app:missing`]), 4, /not found/);
    assert.equal((await readList(registry, 'f1')).digest, start);

    // The registry refuses the new list (pushed by digest, before any tag): the tag still holds the old one.
    const refusing = await startProxy(registry.url, (req) => (req.method === 'PUT' && /\/manifests\/sha256:/.test(req.url ?? '')
      ? { respond: { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }] }) } }
      : undefined));
    try {
      const r = await runCli(['--plain-http', 'index', 'add', `${refusing.host}/edit/app:f1`, `${refusing.host}/edit/app:s390x`]);
      assertOneLineError(r, 5, /pushing the list sha256:[0-9a-f]{64} to/);
      assert.ok(!refusing.requests.some((q) => q.method === 'PUT' && q.url.endsWith('/manifests/f1')), 'no tag PUT');
    } finally {
      await refusing.stop();
    }
    assert.equal((await readList(registry, 'f1')).digest, start);

    assertOneLineError(await cli(['index', 'add', `${registry.host}/edit/app:amd64`, `${registry.host}/edit/app:s390x`]), 2, /single image/);
    assertOneLineError(await cli(['index', 'add', `${registry.host}/edit/app:nothing`, `${registry.host}/edit/app:s390x`]), 4, /no list to add to/);
    assertOneLineError(await cli(['index', 'remove', `${registry.host}/edit/app:f1`, '--platform', 'linux/bogus']), 2, /unknown architecture/);
    assertOneLineError(await cli(['index', 'add', `${registry.host}/edit/app@${start}`, `${registry.host}/edit/app:s390x`]), 2, /names a digest/);
  });
});
