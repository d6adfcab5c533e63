// Static registry targets: how `dir:` and `s3://` targets parse (seed 001's form included), the configuration
// serve-config renders, and the rule that keeps the AWS SDK out of start-up.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ManifestError } from '../../src/errors.js';
import { renderServeConfig, type ServedManifest } from '../../src/manifest/serve-config.js';
import { scanBinaryDir } from '../../src/manifest/static-binaries.js';
import { parseTargetReference } from '../../src/spec/parse-target.js';
import { isStaticReference, parseStaticReference, parseStaticTarget } from '../../src/store/static-location.js';
import { tagsListBytes } from '../../src/store/static-store.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const parses = [
  { name: 'dir with an absolute root', text: 'dir:/srv/www//team/app:1.0', want: { location: { kind: 'dir', root: '/srv/www' }, repository: 'team/app', tag: '1.0' } },
  { name: 'dir at the file system root', text: 'dir:///app:1', want: { location: { kind: 'dir', root: '/' }, repository: 'app', tag: '1' } },
  { name: 'dir, relative, root only', text: 'dir:www', want: { location: { kind: 'dir', root: 'www' } } },
  { name: 'dir, no tag', text: 'dir:www//app', want: { location: { kind: 'dir', root: 'www' }, repository: 'app' } },
  {
    name: 's3 with prefix and every parameter', text: 's3://bucket/pre/fix//team/app:1.0?endpoint=http://127.0.0.1:9000&region=garage&forcePathStyle=true',
    want: { location: { kind: 's3', bucket: 'bucket', prefix: 'pre/fix', endpoint: 'http://127.0.0.1:9000', region: 'garage', forcePathStyle: true }, repository: 'team/app', tag: '1.0' },
  },
  {
    // Seed 001: Go CDK's parameter name, an endpoint without scheme, the store's root alone.
    name: 'seed 001 form', text: 's3://registry.deuxfleurs.org?endpoint=garage.deuxfleurs.fr&region=garage&s3ForcePathStyle=true',
    want: { location: { kind: 's3', bucket: 'registry.deuxfleurs.org', prefix: '', endpoint: 'https://garage.deuxfleurs.fr', region: 'garage', forcePathStyle: true } },
  },
] as const;

for (const c of parses) {
  test(`parseStaticTarget: ${c.name}`, () => {
    assert.deepEqual(parseStaticTarget(c.text), c.want);
  });
}

const refused = [
  ['dir:', 'root'],
  ['dir://app:1', 'root'],
  ['s3://Bad_Bucket//app:1', 'bucket'],
  ['s3://bucket//app:1?colour=blue', 'unknown parameter'],
  ['s3://bucket//app:1?forcePathStyle=maybe', 'true or false'],
  ['s3://bucket//app:1?endpoint=ftp://x', 'http or https'],
  ['s3://bucket//app:1?endpoint=http://user:secret@host', 'credentials'],
  ['dir:/srv//app@sha256:0000', 'digest'],
  ['dir:/srv//app:1\n', 'control'],
] as const;

for (const [text, reason] of refused) {
  test(`parseStaticTarget refuses ${JSON.stringify(text)}`, () => {
    assert.throws(() => parseStaticTarget(text), (err: unknown) => err instanceof ManifestError && err.code === 'INVALID_REFERENCE' && err.message.includes(reason));
  });
}

test('a static push target: name and tag after //, or (seed 001) apart; registry rules for the name', () => {
  const ref = parseTargetReference('dir:/srv/www//team/app:1.0');
  assert.ok(isStaticReference(ref));
  assert.equal(ref.repository, 'team/app');
  assert.equal(ref.tag, '1.0');
  assert.equal(ref.toString(), 'dir:/srv/www//team/app:1.0');
  assert.equal(ref.original, 'dir:/srv/www//team/app:1.0');
  assert.equal(parseStaticReference('dir:/srv//app').tag, 'latest');
  const seed = parseStaticReference('s3://registry.example?endpoint=garage.example&s3ForcePathStyle=true', 'albatest:0.9');
  assert.equal(seed.name, 's3://registry.example//albatest');
  assert.equal(seed.tag, '0.9');
  assert.throws(() => parseTargetReference('dir:/srv//Team/App:1'), (err: unknown) => err instanceof ManifestError && err.code === 'INVALID_REFERENCE');
  assert.throws(() => parseTargetReference('dir:/srv'), /name the repository/);
  assert.throws(() => parseStaticReference('dir:/srv//app:1', 'other:2'), /named twice/);
});

test('tags/list is sorted by code point, as distribution sorts it', () => {
  assert.equal(new TextDecoder().decode(tagsListBytes('app', ['0.9', 'latest', '0.10', '1.0'])), '{"name":"app","tags":["0.10","0.9","1.0","latest"]}\n');
});

const manifests: ServedManifest[] = [
  { path: '/v2/team/app/manifests/1.0', mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${'a'.repeat(64)}` },
  { path: `/v2/team/app/manifests/sha256:${'b'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'b'.repeat(64)}` },
];

test('serve-config: every server names each manifest with its media type and digest', () => {
  for (const server of ['nginx', 'apache', 'caddy'] as const) {
    const text = renderServeConfig(manifests, { server, location: { kind: 'dir', root: '/srv/www' }, root: '/srv/www', listen: '127.0.0.1:8080' });
    for (const m of manifests) {
      assert.ok(text.includes(m.path), `${server}: ${m.path}`);
      assert.ok(text.includes(m.mediaType), `${server}: ${m.mediaType}`);
      assert.ok(text.includes(m.digest), `${server}: ${m.digest}`);
    }
    assert.match(text, /MANIFEST_UNKNOWN/);
    assert.match(text, /BLOB_UNKNOWN/);
    assert.match(text, /Docker-Distribution-API-Version/);
    assert.match(text, /127\.0\.0\.1:8080/);
  }
});

test('serve-config refuses what it cannot quote, and s3 for servers other than nginx', () => {
  const dir = { kind: 'dir', root: '/srv/www' } as const;
  assert.throws(() => renderServeConfig([{ ...manifests[0] as ServedManifest, path: '/v2/app/manifests/1;evil' }], { server: 'nginx', location: dir, root: '/srv/www' }), /cannot serve/);
  assert.throws(() => renderServeConfig([], { server: 'nginx', location: dir, root: '/srv/www"; evil' }), /cannot quote/);
  assert.throws(() => renderServeConfig([], { server: 'nginx', location: dir, root: '/srv/www', listen: '0.0.0.0:80; evil' }), /--listen/);
  assert.throws(() => renderServeConfig([], { server: 'caddy', location: { kind: 's3', bucket: 'b', prefix: '', forcePathStyle: true } }), (err: unknown) => err instanceof ManifestError && err.code === 'UNSUPPORTED');
});

test('only store/s3-backend.ts loads the AWS SDK, and only with import() or as types (start-up stays light)', () => {
  const src = join(root, 'src');
  const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
  const offenders: string[] = [];
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    const eager = /^\s*import\s+(?!type\b)[^'"]*from\s+['"]@aws-sdk\//m.test(text);
    const any = /['"]@aws-sdk\//.test(text);
    if (eager || (any && relative(src, file) !== join('store', 's3-backend.ts'))) offenders.push(relative(src, file));
  }
  assert.deepEqual(offenders, []);
});

test('static push reads os/arch[/variant]/FILE and refuses what is not a platform, naming the folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'manifest-binaries-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const put = async (path: string): Promise<void> => {
    await mkdir(join(dir, dirname(path)), { recursive: true });
    await writeFile(join(dir, path), 'bin');
  };
  await put('linux/amd64/tool');
  await put('linux/arm/v7/tool');
  await put('darwin/arm64/tool');
  await put('windows/amd64/tool.exe');
  const flavors = await scanBinaryDir(dir);
  assert.deepEqual(flavors.map((f) => [f.platform.os, f.platform.architecture, f.platform.variant ?? ''].join('/')).sort(),
    ['darwin/arm64/', 'linux/amd64/', 'linux/arm/v7', 'windows/amd64/']);
  const cases: readonly (readonly [readonly string[], RegExp])[] = [
    [['linuz/amd64/tool'], /unknown os "linuz"/],
    [['linux/amd46/tool'], /unknown architecture "amd46"/],
    [['linux/arm/v9/tool'], /variant "v9" is not one of/],
    [['linux/x86_64/tool'], /name the folder linux\/amd64, as images name that platform/],
    [['linux/arm64/tool', 'linux/arm64/v8/tool'], /the same platform as .*linux\/arm64; keep one/],
  ];
  for (const [paths, reason] of cases) {
    const bad = join(dir, 'bad');
    await rm(bad, { recursive: true, force: true });
    for (const path of paths) {
      await mkdir(join(bad, dirname(path)), { recursive: true });
      await writeFile(join(bad, path), 'bin');
    }
    const path = paths[paths.length - 1] ?? '';
    await assert.rejects(scanBinaryDir(bad), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.equal(err.code, 'INVALID_INPUT');
      assert.ok(err.message.startsWith(`${join(bad, dirname(path))}: `), err.message);
      assert.match(err.message, reason);
      return true;
    });
  }
});
