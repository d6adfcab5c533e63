// Static registries in an S3 bucket: pushed through the AWS SDK to a real S3-compatible server (s3rver), served by a
// real nginx proxying /v2/ to the bucket with the configuration `static serve-config` generates, pulled by skopeo.
// Objects carry their media types; a re-push uploads nothing; large blobs go up in parts, bad bytes never land.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { request } from 'undici';
import type { Digest } from '../../src/digest.js';
import { ManifestError } from '../../src/errors.js';
import type { ImageReader } from '../../src/store/image-store.js';
import { openStaticStore } from '../../src/store/open-static-store.js';
import { parseStaticTarget } from '../../src/store/static-location.js';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { assertAnswersLikeRegistry, nginxAvailable, startNginx, type TestNginx } from '../helpers/nginx.js';
import { EIGHT_PLATFORMS } from '../helpers/platforms.js';
import { findFreePort, registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { SEED_ARCHITECTURES, SEED_FLAVORS } from '../helpers/seed-binaries.js';

const missing = [...(registryAvailable() ? [] : ['docker-registry or skopeo']), ...(nginxAvailable() ? [] : ['nginx'])];
const skipReason = missing.length === 0 ? false : `${missing.join(' and ')} not installed (npm test installs them as root)`;
if (skipReason !== false && process.env.CI) throw new Error(`CI needs these tools: ${skipReason}`);
const sha256 = (bytes: Uint8Array | string): Digest => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const PLATFORMS = EIGHT_PLATFORMS.slice(0, 3);

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.text}\nstderr: ${r.stderr}`);
  return r;
}

/** A source whose one blob is `bytes` (or, when `lie` is set, other bytes than its digest names). */
function memorySource(bytes: Buffer): ImageReader {
  const fail = (): never => { throw new ManifestError('NOT_FOUND', 'no manifests here'); };
  return {
    name: 'memory',
    location: 'memory:',
    headManifest: () => Promise.resolve(undefined),
    getManifest: () => Promise.resolve(fail()),
    getBlob: () => Promise.resolve(fail()),
    // Small chunks, as a network stream gives them.
    openBlob: () => Promise.resolve(Readable.from((function* chunks() { for (let i = 0; i < bytes.length; i += 256 * 1024) yield bytes.subarray(i, i + 256 * 1024); })())),
  };
}

describe('static registry in an S3 bucket, served through nginx', { skip: skipReason, timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let s3: TestS3Server;
  let nginx: TestNginx;
  let client: S3Client;
  let work: string;
  let store: string;
  let target: string;
  let digest = '';
  const images: SeededImage[] = [];

  before(async () => {
    registry = await startRegistry('plain');
    s3 = await startS3Server();
    // The library's own calls below take the SDK's default credential chain, as a user's script would.
    Object.assign(process.env, s3.env);
    work = await mkdtemp(join(tmpdir(), 'manifest-static-s3-'));
    store = `s3://${s3.bucket}/mirror?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&forcePathStyle=true`;
    target = `s3://${s3.bucket}/mirror//team/app:1.0?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&forcePathStyle=true`;
    client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    for (const [i, platform] of PLATFORMS.entries()) {
      images.push(await registry.seedImage({ repository: 'src/app', tag: `1.0-${['amd64', 'arm64v8', 'armv7'][i] ?? ''}`, platform }));
    }
  });

  after(async () => {
    client?.destroy();
    await nginx?.stop();
    await s3?.stop();
    await registry?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  const contentType = async (key: string): Promise<string | undefined> =>
    (await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `mirror/${key}` }))).ContentType;

  test('push to s3:// writes the layout as objects, each with its media type', async () => {
    const r = ok(await runCli(['push', 'from-args', '--plain-http', '--platforms', 'linux/amd64,linux/arm64/v8,linux/arm/v7',
      '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`, '--target', target], { env: s3.env }));
    digest = /^Digest: (sha256:[0-9a-f]{64}) /m.exec(r.text)?.[1] ?? '';
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'mirror/v2/team/app/manifests/1.0' }));
    assert.equal(sha256(await got.Body?.transformToByteArray() ?? new Uint8Array()), digest);
    assert.equal(got.ContentType, DOCKER_LIST);
    assert.equal(await contentType(`v2/team/app/manifests/${digest}`), DOCKER_LIST);
    assert.equal(await contentType(`v2/team/app/manifests/${images[0]?.digest ?? ''}`), DOCKER_MANIFEST);
    assert.equal(await contentType(`v2/team/app/blobs/${images[0]?.layers[0]?.digest ?? ''}`), 'application/octet-stream');
    assert.equal(await contentType('v2/team/app/tags/list'), 'application/json');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'mirror/' }));
    assert.equal(listed.KeyCount, 1 + 1 + 1 + 1 + 3 + 6, (listed.Contents ?? []).map((o) => o.Key).join('\n'));
  });

  test('nginx proxying to the bucket serves pulls of every platform', async () => {
    nginx = await startNginx(async (listen) => {
      const r = ok(await runCli(['static', 'serve-config', store, '--nginx', '--listen', listen], { env: s3.env }));
      const file = join(work, 'nginx-s3.conf');
      await writeFile(file, r.text);
      return file;
    });
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${nginx.host}/team/app:1.0`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(raw.stdout), digest);
    for (const [i, platform] of PLATFORMS.entries()) {
      const dest = join(work, `pulled-${i}`);
      const copied = await registry.skopeo('copy', [`docker://${nginx.host}/team/app:1.0`, `dir:${dest}`],
        ['--override-os', platform.os, '--override-arch', platform.architecture, ...(platform.variant === undefined ? [] : ['--override-variant', platform.variant])]);
      assert.equal(copied.code, 0, copied.stderr);
      assert.equal(sha256(await readFile(join(dest, 'manifest.json'))), images[i]?.digest);
    }
    await assertAnswersLikeRegistry(nginx.url, { repository: 'team/app', tag: '1.0', mediaType: DOCKER_LIST, digest, missingBlob: true });
  });

  test('a re-push uploads nothing; static ls lists the tag; inspect reads the bucket', async () => {
    const r = ok(await runCli(['push', 'from-args', '--plain-http', '--json', '--force', '--platforms', 'linux/amd64,linux/arm64/v8,linux/arm/v7',
      '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`, '--target', target], { env: s3.env }));
    const pushed = JSON.parse(r.text) as { digest: string; blobs: { copied: number }; copiedManifests: number };
    assert.equal(pushed.digest, digest);
    assert.equal(pushed.blobs.copied, 0);
    assert.equal(pushed.copiedManifests, 0);
    assert.equal(ok(await runCli(['static', 'ls', store], { env: s3.env })).text, 'team/app:1.0\n');
    const inspected = JSON.parse(ok(await runCli(['inspect', '--json', target], { env: s3.env })).text) as { digest: string; manifests: { platform: { architecture: string } }[] };
    assert.equal(inspected.digest, digest);
    assert.deepEqual(inspected.manifests.map((m) => m.platform.architecture), ['amd64', 'arm64', 'arm']);
  });

  test('a large blob goes up in parts and arrives whole; bytes that do not match their digest never land', async () => {
    const location = parseStaticTarget(store).location;
    const repository = openStaticStore(location, 'team/big');
    const big = randomBytes(19 * 1024 * 1024 + 12345);
    const blob = { digest: sha256(big), size: big.length };
    assert.equal(await repository.copyBlob(memorySource(big), blob), 'copied');
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `mirror/v2/team/big/blobs/${blob.digest}` }));
    assert.equal(got.ContentLength, big.length);
    assert.equal(got.ContentType, 'application/octet-stream');
    assert.equal(sha256(await got.Body?.transformToByteArray() ?? new Uint8Array()), blob.digest);
    assert.equal(await repository.copyBlob(memorySource(big), blob), 'present');

    for (const size of [1000, 17 * 1024 * 1024]) {
      const bytes = randomBytes(size);
      const claimed = { digest: sha256(randomBytes(8)), size };
      await assert.rejects(repository.copyBlob(memorySource(bytes), claimed), (err: unknown) => err instanceof ManifestError && err.code === 'DIGEST_MISMATCH');
      const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `mirror/v2/team/big/blobs/${claimed.digest}` }));
      assert.equal(listed.KeyCount ?? 0, 0, `${size}: nothing is left of a blob that failed its check`);
    }
  });

  test('static push to the bucket: binaries as octet-stream, the seed\'s documents as JSON objects', async () => {
    const df = join(work, 'df');
    for (const arch of SEED_ARCHITECTURES) {
      await mkdir(join(df, 'linux', arch), { recursive: true });
      await writeFile(join(df, 'linux', arch, 'albatros'), `albatros for ${arch}\n`);
    }
    const r = ok(await runCli(['static', 'push', '-t', 'albatros:0.9', df, store], { env: s3.env }));
    assert.match(r.text, /^tag -> df-dist-v1\/albatros\/0\.9$/m);
    assert.match(r.text, /^manifest -> df-dist-v1\/albatros$/m);
    assert.equal(await contentType('df-dist-v1/albatros/0.9/linux/arm64/albatros'), 'application/octet-stream');
    const version = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'mirror/df-dist-v1/albatros/0.9' }));
    assert.equal(version.ContentType, 'application/json');
    assert.equal(await version.Body?.transformToString(), SEED_FLAVORS);
    const index = await request(`${nginx.url}/df-dist-v1/albatros`);
    assert.equal(await index.body.text(), '{"name":"albatros","tags":["0.9"]}');
  });

  test('without credentials the push fails with one line, exit 3', async () => {
    const r = await runCli(['push', 'from-args', '--plain-http', '--platforms', 'linux/amd64', '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`,
      '--target', target.replace('team/app:1.0', 'team/other:1.0')], { env: { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' } });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^manifest: .*no S3 credentials/);
    assert.match(r.stderr, /^ {2}hint: S3 credentials come from AWS_ACCESS_KEY_ID/m);
    assert.doesNotMatch(r.stderr, /docker login|Warning/);
  });

  test('an endpoint nobody listens on: exit 6, one line naming the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await findFreePort()}`;
    const r = await runCli(['static', 'ls', `s3://${s3.bucket}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&forcePathStyle=true`], { env: s3.env });
    assertOneLineError(r, 6, new RegExp(`the S3 endpoint ${endpoint.replaceAll('.', '\\.')} refused the connection \\(ECONNREFUSED\\)`));
  });
});
