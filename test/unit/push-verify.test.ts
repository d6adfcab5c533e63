// The read-back after a push (design.md §4.5) through a static store whose answers are bent after the push: a
// registry that stops answering once every tag is set leaves a whole push (a warning), but never hides what
// another check found wrong, and a tag found moved stays a failure when the follow-up question goes unanswered.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseArchiveSource } from '../../src/archive/source.js';
import { ManifestError, isManifestError } from '../../src/errors.js';
import { pushManifestList } from '../../src/manifest/push.js';
import type { ManifestHead } from '../../src/registry/client.js';
import { parseStaticReference } from '../../src/store/static-location.js';
import { StaticStore } from '../../src/store/static-store.js';

const sha = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let dir: string;
let imageDigest: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'manifest-verify-'));
  const layout = join(dir, 'src');
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer): Promise<string> => {
    const digest = sha(bytes);
    await writeFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return digest;
  };
  const layer = Buffer.from('layer');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await put(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await put(layer), size: layer.length }],
  }));
  imageDigest = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: imageDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

/** Pushes the layout's image as a one-entry list to a new dir: store, with headManifest bent once the tag is set. */
async function pushBent(name: string, bend: (identifier: string, listDigest: string | undefined) => Promise<ManifestHead | undefined> | undefined): Promise<{ warnings: string[]; outcome: unknown }> {
  const original = Object.getOwnPropertyDescriptor(StaticStore.prototype, 'headManifest');
  const originalPut = Object.getOwnPropertyDescriptor(StaticStore.prototype, 'putManifest');
  let tagSet = false;
  let listDigest: string | undefined;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
  const head = StaticStore.prototype.headManifest;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
  const putManifest = StaticStore.prototype.putManifest;
  StaticStore.prototype.putManifest = async function (this: StaticStore, identifier, upload, options) {
    await putManifest.call(this, identifier, upload, options);
    if (identifier.startsWith('sha256:') && identifier !== imageDigest) listDigest = identifier;
    if (identifier === '1') tagSet = true;
  };
  StaticStore.prototype.headManifest = function (this: StaticStore, identifier, options) {
    const bent = tagSet ? bend(identifier, listDigest) : undefined;
    return bent ?? head.call(this, identifier, options);
  };
  const warnings: string[] = [];
  try {
    const result = await pushManifestList(
      { target: parseStaticReference(`dir:${join(dir, name)}//app:1`), tags: [], manifests: [{ image: parseArchiveSource(`oci:${join(dir, 'src')}:v1`) ?? assert.fail() }] },
      { logger: { warn: (m) => { warnings.push(m); }, debug: () => undefined } },
    );
    return { warnings, outcome: result };
  } catch (err) {
    return { warnings, outcome: err };
  } finally {
    if (original !== undefined) Object.defineProperty(StaticStore.prototype, 'headManifest', original);
    if (originalPut !== undefined) Object.defineProperty(StaticStore.prototype, 'putManifest', originalPut);
  }
}

const unavailable = (): Promise<never> => Promise.reject(new ManifestError('UNAVAILABLE', 'HEAD: 503 after retries'));

test('the tag read-back unanswered: the push is whole, a warning says it was not verified', async () => {
  const { warnings, outcome } = await pushBent('a', (id) => (id === '1' ? unavailable() : undefined));
  assert.ok(!(outcome instanceof Error), String(outcome));
  assert.equal((outcome as { verified?: boolean }).verified, false);
  assert.match(warnings.join('\n'), /every tag of .* was set to sha256:[0-9a-f]{64}, but reading them back failed \(HEAD: 503 after retries\); not verified/);
});

test('the tag read-back unanswered and an entry found missing: the missing entry fails the push', async () => {
  const { outcome } = await pushBent('b', (id) => (id === '1' ? unavailable() : id === imageDigest ? Promise.resolve(undefined) : undefined));
  assert.ok(isManifestError(outcome), String(outcome));
  assert.equal(outcome.code, 'INVALID_RESPONSE');
  assert.match(outcome.message, /entry .* is missing/);
});

test('a tag found moved, and the registry unable to say whether ours is still there: still a failure', async () => {
  const other = `sha256:${'b'.repeat(64)}`;
  const { outcome } = await pushBent('c', (id, list) => (id === '1' ? Promise.resolve({ digest: other, contentType: undefined, size: 1 } as ManifestHead) : id === list ? unavailable() : undefined));
  assert.ok(isManifestError(outcome), String(outcome));
  assert.equal(outcome.code, 'DIGEST_MISMATCH');
  assert.match(outcome.message, /resolves to sha256:b{64}/);
});
