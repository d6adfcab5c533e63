// Archive sources without a registry: parsing `docker-archive:`/`oci:`/`oci-archive:`, platforms from file
// names, deterministic gzip, the tar index (pax headers, long names, links, a gzip outer tar), docker archives
// read as images, and temporary files removed.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { OciLayoutTarget } from '../../src/archive/oci-layout.js';
import { ArchiveSession } from '../../src/archive/session.js';
import { parseArchiveSource } from '../../src/archive/source.js';
import { deterministicGzip } from '../../src/archive/gzip.js';
import { TarFile } from '../../src/archive/tar-file.js';
import { Workspace } from '../../src/archive/workspace.js';
import { isManifestError } from '../../src/errors.js';
import { platformOfArchiveName } from '../../src/spec/from-archives.js';
import { parseSpecText } from '../../src/spec/load.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function tarOf(members: readonly (Partial<Header> & { name: string; body?: Uint8Array })[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => { tar.on('end', resolve); tar.on('error', reject); });
  for (const { body, ...header } of members) tar.entry({ mtime: new Date(0), ...header, ...(body === undefined ? {} : { size: body.length }) }, Buffer.from(body ?? []));
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function gzipOf(bytes: Uint8Array, chunk: number): Promise<Buffer> {
  const [gzip, fix] = deterministicGzip();
  const out: Buffer[] = [];
  const parts = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk));
  Readable.from(parts).pipe(gzip).pipe(fix);
  for await (const c of fix) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('archive sources are parsed like skopeo names them', () => {
  const cases: { text: string; kind?: string; path?: string; selector?: string; error?: boolean }[] = [
    { text: 'docker-archive:build/linux.amd64.tar.gz', kind: 'docker-archive', path: 'build/linux.amd64.tar.gz' },
    { text: 'docker-archive:a.tar:app:1.0', kind: 'docker-archive', path: 'a.tar', selector: 'app:1.0' },
    { text: 'oci:layout', kind: 'oci', path: 'layout' },
    { text: 'oci:layout:v1', kind: 'oci', path: 'layout', selector: 'v1' },
    { text: 'oci-archive:x.tar:v1', kind: 'oci-archive', path: 'x.tar', selector: 'v1' },
    { text: 'r.example/app:1' },
    { text: 'ocifoo:1' },
    { text: 'oci:', error: true },
    { text: 'oci:dir:', error: true },
    { text: 'docker-archive:a\nb.tar', error: true },
  ];
  for (const c of cases) {
    test(c.text.replace('\n', '\\n'), () => {
      if (c.error === true) {
        assert.throws(() => parseArchiveSource(c.text), (err: unknown) => isManifestError(err) && err.code === 'INVALID_REFERENCE');
        return;
      }
      const source = parseArchiveSource(c.text);
      if (c.kind === undefined) return assert.equal(source, undefined);
      assert.equal(source?.kind, c.kind);
      assert.equal(source?.path, c.path);
      assert.equal(source?.selector, c.selector);
      assert.equal(source?.toString(), c.text);
    });
  }

  test('a spec entry may name a local source; the target may not', () => {
    const [spec] = parseSpecText('image: r.example/app:1\nmanifests:\n  - image: docker-archive:linux.amd64.tar\n  - image: r.example/app:amd64\n', { file: 's.yaml' });
    assert.equal(spec?.manifests[0]?.image.toString(), 'docker-archive:linux.amd64.tar');
    assert.equal(spec?.manifests[1]?.image.toString(), 'r.example/app:amd64');
    assert.throws(() => parseSpecText('image: oci:dir\nmanifests:\n  - image: r.example/app:amd64\n', { file: 's.yaml' }));
  });
});

describe('file names declare platforms', () => {
  const cases: [string, string | undefined][] = [
    ['linux.amd64.tar', 'linux/amd64'],
    ['docker/linux.arm64.tar.gz', 'linux/arm64'],
    ['linux.arm.v7.tar.gz', 'linux/arm/v7'],
    ['windows.amd64.tgz', 'windows/amd64'],
    ['app.tar', undefined],
    ['my.app.tar', undefined],
    ['linux.amd64.zip', undefined],
  ];
  for (const [name, want] of cases) {
    test(name, () => {
      const p = platformOfArchiveName(name);
      assert.equal(p === undefined ? undefined : [p.os, p.architecture, p.variant].filter((x) => x !== undefined).join('/'), want);
    });
  }
});

test('gzip of the same bytes is the same however they are chunked, with a fixed header', async () => {
  const data = Buffer.concat([randomBytes(200_000), Buffer.alloc(300_000, 7)]);
  const a = await gzipOf(data, 65_536);
  const b = await gzipOf(data, 1_000);
  assert.deepEqual(a, b);
  assert.deepEqual([...a.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  assert.deepEqual(gunzipSync(a), data);
});

describe('tar files and docker archives', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'manifest-archive-unit-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('members are found past pax headers and long names, through links, in a gzip tar too', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const bodies = [randomBytes(1000), randomBytes(5000), randomBytes(10)];
    const tar = await tarOf([
      { name: 'a', body: bodies[0] as Buffer },
      { name: long, body: bodies[1] as Buffer },
      { name: './b', body: bodies[2] as Buffer, pax: { comment: 'x'.repeat(600) } },
      { name: 'dir/link', type: 'symlink', linkname: '../a' },
      { name: 'hard', type: 'link', linkname: 'b' },
    ]);
    for (const [file, bytes] of [['plain.tar', tar], ['outer.tar.gz', gzipSync(tar)]] as const) {
      await writeFile(join(dir, file), bytes);
      const workspace = new Workspace(dir);
      const opened = await TarFile.open(join(dir, file), { workspace });
      for (const [name, body] of [['a', bodies[0]], [long, bodies[1]], ['b', bodies[2]], ['dir/link', bodies[0]], ['hard', bodies[2]]] as const) {
        assert.deepEqual(await opened.read(name, 1 << 20), body, `${file}: ${name}`);
      }
      await workspace.dispose();
    }
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('manifest-')), [], 'the workspace is removed');
  });

  test('a docker archive with uncompressed layers gives the same manifest twice, and checks diff_ids', async () => {
    const layer = await tarOf([{ name: 'etc/hello', body: randomBytes(70_000) }]);
    const config = (diffId: string): Buffer => Buffer.from(JSON.stringify({ os: 'linux', architecture: 'arm64', rootfs: { type: 'layers', diff_ids: [diffId] } }));
    const write = async (file: string, diffId: string): Promise<void> => {
      const c = config(diffId);
      await writeFile(join(dir, file), await tarOf([
        { name: 'manifest.json', body: Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['app:1'], Layers: ['l/layer.tar'] }])) },
        { name: 'c.json', body: c },
        { name: 'l/layer.tar', body: layer },
      ]));
    };
    await write('good.tar', sha256(layer));
    const digests: string[] = [];
    for (let i = 0; i < 2; i++) {
      const session = new ArchiveSession({ tempDir: dir });
      const reader = await session.open(parseArchiveSource(`docker-archive:${join(dir, 'good.tar')}:app:1`) ?? assert.fail());
      const manifest = await reader.getManifest('app:1');
      digests.push(manifest.digest);
      const parsed = JSON.parse(Buffer.from(manifest.bytes).toString('utf8')) as { layers: { digest: `sha256:${string}`; size: number }[] };
      const blob = parsed.layers[0] ?? assert.fail();
      const chunks: Buffer[] = [];
      for await (const c of await reader.openBlob(blob)) chunks.push(c as Buffer);
      assert.equal(sha256(Buffer.concat(chunks)), blob.digest);
      assert.deepEqual(gunzipSync(Buffer.concat(chunks)), layer);
      await assert.rejects(reader.getManifest('other:1'), (err: unknown) => isManifestError(err) && err.code === 'NOT_FOUND');
      await session.close();
    }
    assert.equal(digests[0], digests[1]);

    await write('bad.tar', sha256(Buffer.from('something else')));
    const session = new ArchiveSession({ tempDir: dir });
    const reader = await session.open(parseArchiveSource(`docker-archive:${join(dir, 'bad.tar')}`) ?? assert.fail());
    await assert.rejects(reader.getManifest(''), (err: unknown) => isManifestError(err) && err.code === 'DIGEST_MISMATCH');
    await session.close();
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('manifest-')), []);
  });

  test('what is not an archive is refused with one clear error', async () => {
    await writeFile(join(dir, 'junk.tar'), randomBytes(3000));
    await writeFile(join(dir, 'empty.tar'), await tarOf([{ name: 'x', body: Buffer.from('y') }]));
    // Cut inside a member's data (tar-stream fails that member's stream too, which once went unhandled).
    await writeFile(join(dir, 'cut.tar'), (await tarOf([{ name: 'manifest.json', body: randomBytes(4000) }])).subarray(0, 1000));
    const session = new ArchiveSession({ tempDir: dir });
    for (const [text, code] of [[join(dir, 'junk.tar'), 'INVALID_INPUT'], [join(dir, 'empty.tar'), 'INVALID_INPUT'], [join(dir, 'cut.tar'), 'INVALID_INPUT'], [join(dir, 'absent.tar'), 'NOT_FOUND'], [`oci:${dir}`, 'INVALID_INPUT']] as const) {
      const source = parseArchiveSource(text) ?? parseArchiveSource(`docker-archive:${text}`) ?? assert.fail();
      await assert.rejects(session.open(source).then((r) => r.getManifest('')), (err: unknown) => isManifestError(err) && err.code === code, text);
    }
    // An export's layout named by a file is refused before anything is written.
    await assert.rejects(OciLayoutTarget.create(join(dir, 'junk.tar')), (err: unknown) => isManifestError(err) && err.code === 'INVALID_INPUT' && /junk\.tar is a file: an OCI layout is a directory/.test(err.message));
    // In words about the file the user named, not the tar parser's (and not a gzip's decompressed temporary file).
    await writeFile(join(dir, 'junk.tar.gz'), gzipSync(randomBytes(3000)));
    await assert.rejects(session.open(parseArchiveSource(`docker-archive:${join(dir, 'junk.tar.gz')}`) ?? assert.fail()).then((r) => r.getManifest('')),
      (err: unknown) => isManifestError(err) && err.message.includes(`${join(dir, 'junk.tar.gz')} is not a tar archive`));
    await assert.rejects(session.open(parseArchiveSource(`docker-archive:${join(dir, 'junk.tar')}`) ?? assert.fail()).then((r) => r.getManifest('')),
      /junk\.tar is not a tar archive \(what docker save or an OCI archive is\)/);
    await session.close();
  });
});
