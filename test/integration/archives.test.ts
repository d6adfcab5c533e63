// `manifest push archives`, archive sources in a spec, and `manifest export`, against a real registry (Debian's
// docker-registry 2.8), checked with skopeo: archives skopeo writes (docker-archive:, oci:, oci-archive:) and a
// nix-style gzip docker archive with uncompressed layers become one multi-platform tag that every platform pulls;
// a second push gives the same digest and uploads nothing; an export round-trips through skopeo and back.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface RawList {
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }[];
}

/** Packs members into a tar, in memory (the test's archives are small). */
async function tarOf(members: readonly { name: string; body: Uint8Array }[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => { tar.on('end', resolve); tar.on('error', reject); });
  for (const m of members) tar.entry({ name: m.name, size: m.body.length, mtime: new Date(0) }, Buffer.from(m.body));
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Writes a docker archive as nix's dockerTools.buildImage does: a gzip-compressed tar holding `<id>/layer.tar`
 * (uncompressed layer tars), `<config-hex>.json` and manifest.json. Each layer holds one file of `layerBytes`
 * random bytes. Returns the diff_ids.
 */
async function writeNixArchive(path: string, platform: { os: string; architecture: string; variant?: string }, layers: number, layerBytes: number, gzip = true): Promise<string[]> {
  const layerTars: Buffer[] = [];
  for (let i = 0; i < layers; i++) layerTars.push(await tarOf([{ name: `data/file-${i}`, body: randomBytes(layerBytes) }]));
  const diffIds = layerTars.map((t) => sha256(t));
  const config = Buffer.from(JSON.stringify({ ...platform, created: '1970-01-01T00:00:01Z', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configName = `${sha256(config).slice(7)}.json`;
  const layerNames = diffIds.map((d) => `${d.slice(7, 71)}/layer.tar`);
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['app:nix'], Layers: layerNames }]));
  const outer = await tarOf([...layerTars.map((body, i) => ({ name: layerNames[i] as string, body })), { name: configName, body: config }, { name: 'manifest.json', body: manifest }]);
  await writeFile(path, gzip ? gzipSync(outer) : outer);
  return diffIds;
}

/** Lists what is left in a directory (temporary files must not be). */
async function leftIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('push archives and export against a real registry (plain)', { skip: skipReason, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let temp: string;
  let images: SeededImage[];
  let cli: (args: string[]) => Promise<CliResult>;
  let pushed: { digest: string; size: number };

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-archives-'));
    temp = join(dir, 'tmp');
    await mkdir(temp);
    images = [];
    for (const [tag, platform] of [['amd64', { os: 'linux', architecture: 'amd64' }], ['arm64', { os: 'linux', architecture: 'arm64' }], ['armv7', { os: 'linux', architecture: 'arm', variant: 'v7' }]] as const) {
      images.push(await registry.seedImage({ repository: 'src/app', tag, platform, layers: 2 }));
    }
    // The CLI's temporary files go to `temp`, which the tests check is left empty.
    cli = (args) => runCli(['--plain-http', ...args], { env: { TMPDIR: temp }, timeoutMs: 120_000 });
    const host = registry.host;
    await mkdir(join(dir, 'docker'));
    const copies: [string, string][] = [
      [`docker://${host}/src/app:amd64`, `docker-archive:${join(dir, 'docker', 'linux.amd64.tar')}:app:amd64`],
      [`docker://${host}/src/app:arm64`, `oci:${join(dir, 'layout')}:arm64`],
      [`docker://${host}/src/app:armv7`, `oci-archive:${join(dir, 'linux.arm.v7.tar')}:armv7`],
    ];
    for (const [from, to] of copies) {
      const r = await registry.skopeo('copy', [from, to]);
      assert.equal(r.code, 0, r.stderr);
    }
    await writeNixArchive(join(dir, 'docker', 'linux.s390x.tar.gz'), { os: 'linux', architecture: 's390x' }, 3, 4096);
    // streamLayeredImage's output, saved as it streams: the same layout in a plain tar.
    await writeNixArchive(join(dir, 'docker', 'linux.ppc64le.tar'), { os: 'linux', architecture: 'ppc64le' }, 2, 4096, false);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('docker, OCI layout, OCI archive and nix archives become one tag that every platform pulls', async () => {
    const target = `${registry.host}/dst/app:1`;
    const digestFile = join(dir, 'app.digest');
    const r = await cli(['push', 'archives', '--target', target, '--tags', 'latest', '--digest-file', digestFile, join(dir, 'docker'), `oci:${join(dir, 'layout')}`, `oci-archive:${join(dir, 'linux.arm.v7.tar')}`]);
    assert.equal(r.code, 0, r.stderr);
    const match = /^Digest: (sha256:[0-9a-f]{64}) ([0-9]+)\n$/.exec(r.text);
    assert.ok(match, `one Digest line: ${r.text}`);
    pushed = { digest: match[1] as string, size: Number(match[2]) };
    assert.equal(await readFile(digestFile, 'utf8'), `${pushed.digest}\n`);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${target}`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(raw.stdout), pushed.digest);
    const list = JSON.parse(raw.stdout) as RawList;
    // The directory's archives in name order (amd64, ppc64le, s390x), then the layout and the OCI archive.
    assert.deepEqual(list.manifests.map((m) => m.platform), [
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'ppc64le', os: 'linux' },
      { architecture: 's390x', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
      { architecture: 'arm', os: 'linux', variant: 'v7' },
    ]);
    await mkdir(join(dir, 'pulled'));
    for (const [arch, variant] of [['amd64', ''], ['ppc64le', ''], ['s390x', ''], ['arm64', ''], ['arm', 'v7']] as const) {
      const flags = ['--override-os', 'linux', '--override-arch', arch, ...(variant === '' ? [] : ['--override-variant', variant])];
      const pulled = await registry.skopeo('copy', [`docker://${target}`, `dir:${join(dir, 'pulled', arch)}`], flags);
      assert.equal(pulled.code, 0, `${arch}: ${pulled.stderr}`);
    }
    // A layout keeps the layers as they are (skopeo wrote them to it as the seed pushed them, gzip).
    const arm64 = JSON.parse(await readFile(join(dir, 'pulled', 'arm64', 'manifest.json'), 'utf8')) as { layers: { digest: string }[] };
    assert.deepEqual(arm64.layers.map((l) => l.digest), images[1]?.layers.map((l) => l.digest));
    // A docker archive's layers (skopeo stored them uncompressed) are compressed again: two layers, new digests.
    const amd64 = JSON.parse(await readFile(join(dir, 'pulled', 'amd64', 'manifest.json'), 'utf8')) as { layers: { digest: string; mediaType: string }[] };
    assert.equal(amd64.layers.length, 2);
    assert.ok(amd64.layers.every((l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
    assert.deepEqual(await leftIn(temp), [], 'no temporary file is left');
  });

  test('a second push of the same archives gives the same digest and uploads no blob', async () => {
    const r = await cli(['push', 'archives', '--json', '--force', '--target', `${registry.host}/dst/app:1`, '--tags', 'latest', join(dir, 'docker'), `oci:${join(dir, 'layout')}`, `oci-archive:${join(dir, 'linux.arm.v7.tar')}`]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.text) as { digest: string; blobs: { present: number; mounted: number; copied: number }; copiedManifests: number };
    assert.equal(doc.digest, pushed.digest);
    assert.equal(doc.blobs.copied, 0);
    assert.equal(doc.copiedManifests, 0);
    const dry = await cli(['push', 'archives', '--dry-run', '--quiet', '--target', `${registry.host}/dst/app:1`, '--tags', 'latest', join(dir, 'docker'), `oci:${join(dir, 'layout')}`, `oci-archive:${join(dir, 'linux.arm.v7.tar')}`]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.text, `${pushed.digest}\n`);
    assert.deepEqual(await leftIn(temp), []);
  });

  test('a file named for another platform than its config is exit 2, and nothing is pushed', async () => {
    const wrong = join(dir, 'wrong');
    await mkdir(wrong);
    await copyFile(join(dir, 'docker', 'linux.amd64.tar'), join(wrong, 'linux.arm64.tar'));
    const r = await cli(['push', 'archives', '--target', `${registry.host}/dst/wrong:1`, wrong]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^manifest: resolving linux\/arm64 ".*linux\.arm64\.tar".*: its file name \(linux\.arm64\.tar\) says linux\/arm64 but the image's config says linux\/amd64; rename the file/);
    const head = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/dst/wrong:1`]);
    assert.notEqual(head.code, 0);
    const missing = await cli(['push', 'archives', '--target', `${registry.host}/dst/wrong:1`, join(dir, 'nothing-here.tar')]);
    assert.equal(missing.code, 4, missing.stderr);
    assert.deepEqual(await leftIn(temp), []);
  });

  test('a spec mixes registry and local sources', async () => {
    const spec = join(dir, 'mixed.yaml');
    await writeFile(spec, [
      `image: ${registry.host}/dst/mixed:1`,
      'manifests:',
      `  - image: docker-archive:${join(dir, 'docker', 'linux.amd64.tar')}`,
      `  - image: oci:${join(dir, 'layout')}:arm64`,
      `  - image: ${registry.host}/src/app:armv7`,
      '',
    ].join('\n'));
    const r = await cli(['pushml', spec]);
    assert.equal(r.code, 0, r.stderr);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/dst/mixed:1`]);
    const list = JSON.parse(raw.stdout) as RawList;
    assert.deepEqual(list.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64', 'arm']);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, `image: ${registry.host}/dst/mixed:2\nmanifests:\n  - image: "oci:"\n`);
    const refused = await cli(['pushml', bad]);
    assert.equal(refused.code, 2, refused.stderr);
  });

  test('export writes a layout skopeo reads and push archives pushes back to the same digest', async () => {
    const layout = join(dir, 'exported');
    const r = await cli(['export', `${registry.host}/dst/app:1`, '--oci-layout', layout]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.text, `Digest: ${pushed.digest} ${pushed.size}\n`);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.deepEqual(index.manifests.map((m) => [m.digest, m.annotations['org.opencontainers.image.ref.name']]), [[pushed.digest, '1']]);
    const raw = await registry.skopeo('inspect', ['--raw', `oci:${layout}:1`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(raw.stdout), pushed.digest);
    const copied = await registry.skopeo('copy', [`oci:${layout}:1`, `dir:${join(dir, 'from-layout')}`], ['--override-os', 'linux', '--override-arch', 's390x']);
    assert.equal(copied.code, 0, copied.stderr);

    const back = await cli(['push', 'archives', '--quiet', '--target', `${registry.host}/round/trip:1`, layout]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.text, `${pushed.digest}\n`);

    // A layout whose index.json names each platform's image directly (no list blob) is read as that list.
    const flat = join(dir, 'flat');
    await cp(layout, flat, { recursive: true });
    const listed = JSON.parse(raw.stdout) as RawList;
    await writeFile(join(flat, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: listed.manifests }));
    const flatBack = await cli(['push', 'archives', '--quiet', '--target', `${registry.host}/round/flat:1`, `oci:${flat}`]);
    assert.equal(flatBack.code, 0, flatBack.stderr);
    assert.equal(flatBack.text, `${pushed.digest}\n`);

    const archive = join(dir, 'exported.tar');
    const some = await cli(['export', `${registry.host}/dst/app:1`, '--oci-archive', archive, '--platform', 'linux/amd64,linux/arm/v7']);
    assert.equal(some.code, 0, some.stderr);
    const subset = await registry.skopeo('inspect', ['--raw', `oci-archive:${archive}:1`]);
    assert.equal(subset.code, 0, subset.stderr);
    assert.deepEqual((JSON.parse(subset.stdout) as RawList).manifests.map((m) => m.platform?.architecture), ['amd64', 'arm']);
    const pulled = await registry.skopeo('copy', [`oci-archive:${archive}:1`, `dir:${join(dir, 'from-archive')}`], ['--override-os', 'linux', '--override-arch', 'arm', '--override-variant', 'v7']);
    assert.equal(pulled.code, 0, pulled.stderr);
    const again = await cli(['push', 'archives', '--quiet', '--target', `${registry.host}/round/subset:1`, archive]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.text, `${sha256(subset.stdout)}\n`);

    const absent = await cli(['export', `${registry.host}/dst/app:1`, '--oci-layout', join(dir, 'none'), '--platform', 'linux/riscv64']);
    assert.equal(absent.code, 4, absent.stderr);
    const unnamed = await cli(['export', `${registry.host}/dst/app@${pushed.digest}`, '--oci-layout', join(dir, 'none')]);
    assert.equal(unnamed.code, 2, unnamed.stderr);
    // An archive whose directory does not exist: one line, exit 2, not an unhandled error.
    const nowhere = await cli(['export', `${registry.host}/dst/app@${pushed.digest}`, '--name', 'pinned', '--oci-archive', join(dir, 'absent', 'a.tar')]);
    assertOneLineError(nowhere, 2, /its directory .* does not exist/);
    const named = await cli(['export', `${registry.host}/dst/app@${pushed.digest}`, '--oci-layout', layout, '--name', 'pinned']);
    assert.equal(named.code, 0, named.stderr);
    const both = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    assert.deepEqual(both.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']), ['1', 'pinned']);
    assert.deepEqual(await leftIn(temp), []);
  });

  test('index add takes an archive: a platform built later joins a pushed list', async () => {
    const target = `${registry.host}/dst/edit:1`;
    const first = await cli(['push', 'archives', '--target', target, `oci-archive:${join(dir, 'linux.arm.v7.tar')}`]);
    assert.equal(first.code, 0, first.stderr);
    await writeNixArchive(join(dir, 'riscv64.tar'), { os: 'linux', architecture: 'riscv64' }, 1, 4096);
    const added = await cli(['index', 'add', target, `docker-archive:${join(dir, 'riscv64.tar')}`]);
    assert.equal(added.code, 0, added.stderr);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${target}`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(`Digest: ${sha256(raw.stdout)} ${Buffer.byteLength(raw.stdout)}\n`, added.text);
    const list = JSON.parse(raw.stdout) as RawList;
    assert.deepEqual(list.manifests.map((m) => m.platform), [{ architecture: 'arm', os: 'linux', variant: 'v7' }, { architecture: 'riscv64', os: 'linux' }]);
    const pulled = await registry.skopeo('copy', [`docker://${target}`, `dir:${join(dir, 'pulled-riscv64')}`], ['--override-os', 'linux', '--override-arch', 'riscv64']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(await leftIn(temp), [], 'no temporary file is left');
  });

  test('an interrupted push of a large archive leaves no temporary file', async () => {
    const big = join(dir, 'big');
    await mkdir(big);
    await writeNixArchive(join(big, 'linux.amd64.tar'), { os: 'linux', architecture: 'amd64' }, 2, 24 * 1024 * 1024, false);
    // Interrupted once it has started (its first debug line), while the layers are being compressed.
    const r = await runCli(['--plain-http', '--debug', 'push', 'archives', '--target', `${registry.host}/dst/big:1`, big], {
      env: { TMPDIR: temp },
      timeoutMs: 120_000,
      onSpawn: (child) => { child.stderr?.once('data', () => { child.kill('SIGINT'); }); },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /manifest: interrupted\n$/);
    assert.deepEqual(await leftIn(temp), []);
  });
});
