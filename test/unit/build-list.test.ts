// buildManifestList is pure: the same entries give the same bytes (design.md §4). Golden bytes pin the format:
// a change of key order, indentation or annotation order changes every digest users have pinned.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { buildManifestList } from '../../src/manifest/build-list.js';
import { createLimiter } from '../../src/limiter.js';
import type { Descriptor } from '../../src/types/oci.js';

const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const d = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const amd64: Descriptor = { mediaType: DOCKER, digest: d(1), size: 528, platform: { os: 'linux', architecture: 'amd64' } };
const armv7: Descriptor = { mediaType: DOCKER, digest: d(2), size: 529, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } };
const windows: Descriptor = {
  mediaType: DOCKER, digest: d(3), size: 1000,
  platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1879', 'os.features': ['win32k'] },
};

test('a Docker list: docker key order (size before digest), 2-space indent, no trailing newline', () => {
  const list = buildManifestList([amd64, armv7]);
  const text = new TextDecoder().decode(list.bytes);
  assert.equal(text, `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {
      "mediaType": "${DOCKER}",
      "size": 528,
      "digest": "${d(1)}",
      "platform": {
        "architecture": "amd64",
        "os": "linux"
      }
    },
    {
      "mediaType": "${DOCKER}",
      "size": 529,
      "digest": "${d(2)}",
      "platform": {
        "architecture": "arm",
        "os": "linux",
        "variant": "v7"
      }
    }
  ]
}`);
  assert.equal(list.digest, `sha256:${createHash('sha256').update(list.bytes).digest('hex')}`);
  assert.equal(list.size, list.bytes.length);
});

test('the same entries give the same bytes; a different order gives a different digest', () => {
  assert.equal(buildManifestList([amd64, armv7]).digest, buildManifestList([{ ...amd64 }, { ...armv7 }]).digest);
  assert.notEqual(buildManifestList([amd64, armv7]).digest, buildManifestList([armv7, amd64]).digest);
});

test('windows os.version and os.features are written in the spec\'s key order', () => {
  const text = new TextDecoder().decode(buildManifestList([windows]).bytes);
  assert.match(text, /"architecture": "amd64",\n\s+"os": "windows",\n\s+"os.version": "10.0.17763.1879",\n\s+"os.features": \[\n\s+"win32k"\n\s+\]/);
});

const cases: { name: string; entries: Descriptor[]; options?: Parameters<typeof buildManifestList>[1]; mediaType?: string; code?: string; message?: RegExp }[] = [
  { name: 'auto with Docker images is a Docker list', entries: [amd64], mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' },
  { name: 'auto with an OCI image is an OCI index', entries: [amd64, { ...armv7, mediaType: OCI }], mediaType: 'application/vnd.oci.image.index.v1+json' },
  { name: 'auto with list annotations is an OCI index', entries: [amd64], options: { annotations: { a: 'b' } }, mediaType: 'application/vnd.oci.image.index.v1+json' },
  { name: 'auto with entry annotations is an OCI index', entries: [{ ...amd64, annotations: { a: 'b' } }], mediaType: 'application/vnd.oci.image.index.v1+json' },
  { name: 'oci asked for Docker images', entries: [amd64], options: { type: 'oci' }, mediaType: 'application/vnd.oci.image.index.v1+json' },
  { name: 'docker asked with annotations is a usage error', entries: [amd64], options: { type: 'docker', annotations: { a: 'b' } }, code: 'USAGE', message: /cannot carry annotations/ },
  { name: 'docker asked with an OCI image is a usage error', entries: [{ ...amd64, mediaType: OCI }], options: { type: 'docker' }, code: 'USAGE', message: /Docker v2 schema 2 images only.*linux\/amd64/ },
  { name: 'no entries', entries: [], code: 'INVALID_INPUT', message: /at least one entry/ },
];

for (const c of cases) {
  test(`list type: ${c.name}`, () => {
    if (c.code !== undefined) {
      assert.throws(() => buildManifestList(c.entries, c.options), (err: { code?: string; message: string }) => {
        assert.equal(err.code, c.code);
        if (c.message !== undefined) assert.match(err.message, c.message);
        return true;
      });
      return;
    }
    assert.equal(buildManifestList(c.entries, c.options).mediaType, c.mediaType);
  });
}

test('annotation keys are sorted, so YAML key order does not change the digest', () => {
  const a = buildManifestList([amd64], { annotations: { z: '1', a: '2' } });
  const b = buildManifestList([amd64], { annotations: { a: '2', z: '1' } });
  assert.equal(a.digest, b.digest);
  assert.match(new TextDecoder().decode(a.bytes), /"annotations": \{\n\s+"a": "2",\n\s+"z": "1"\n\s+\}\n\}$/);
});

test('a limiter never runs more than its limit, and runs everything', async () => {
  const limiter = createLimiter(3);
  let active = 0;
  let peak = 0;
  const done = await Promise.all(Array.from({ length: 20 }, (_, i) => limiter.run(async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((resolve) => setImmediate(resolve));
    active--;
    return i;
  })));
  assert.equal(peak, 3);
  assert.deepEqual(done, Array.from({ length: 20 }, (_, i) => i));
});

test('a limiter releases its slot when the work fails', async () => {
  const limiter = createLimiter(1);
  await assert.rejects(limiter.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
});
