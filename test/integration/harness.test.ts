// Checks the integration-test harness itself against an independent client (skopeo): what it seeds is in the
// registry byte for byte, in every mode, and token mode's anonymous rules hold.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { registryAvailable, startRegistry } from '../helpers/registry.js';
import type { RegistryMode, SeededImage, SeededManifest, TestRegistry } from '../helpers/registry.js';

// node:test's test() and describe() return promises that the runner itself tracks; `void` tells the linter so.
const TIMEOUT = { timeout: 120_000 };
const MODES: RegistryMode[] = ['plain', 'basic', 'token'];
const REPOSITORY = 'harness/app';
const IS_AVAILABLE = registryAvailable();
const SKIP = IS_AVAILABLE
  ? false
  : 'docker-registry or skopeo is not on PATH (apt-get install docker-registry skopeo); under CI this fails instead';

if (!IS_AVAILABLE && process.env['CI'] !== undefined) {
  // design.md §6: under CI a missing tool fails the run instead of skipping.
  test('docker-registry and skopeo are installed', () => {
    assert.fail('docker-registry and skopeo must be on PATH when CI is set');
  });
}

interface Seeded {
  registry: TestRegistry;
  amd64: SeededImage;
  arm64: SeededImage;
  list: SeededManifest;
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

function sha256(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** Seeds the images and list every mode's tests share. */
async function seed(registry: TestRegistry): Promise<Seeded> {
  const amd64 = await registry.seedImage({ repository: REPOSITORY, platform: { os: 'linux', architecture: 'amd64' } });
  const arm64 = await registry.seedImage({
    repository: REPOSITORY,
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    format: 'oci',
    layers: 2,
  });
  const list = await registry.seedIndex({ repository: REPOSITORY, tag: 'multi', children: [amd64, arm64] });
  return { registry, amd64, arm64, list };
}

async function inspectRaw(registry: TestRegistry, reference: string, extra: string[] = []): Promise<string> {
  const result = await registry.skopeo('inspect', ['--raw', ...extra, `docker://${registry.host}/${reference}`]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

for (const mode of MODES) {
  describe(`test registry harness: ${mode}`, { skip: SKIP, ...TIMEOUT }, () => {
    let state: Seeded | undefined;
    const seeded = (): Seeded => {
      assert.ok(state, 'registry was not started');
      return state;
    };

    before(async () => {
      const registry = await startRegistry(mode);
      try {
        state = await seed(registry);
      } catch (err) {
        await registry.stop();
        throw err;
      }
    }, TIMEOUT);

    after(async () => {
      await state?.registry.stop();
    }, TIMEOUT);

    test('skopeo inspect --raw returns exactly the bytes pushed', TIMEOUT, async () => {
      const { registry, amd64, arm64, list } = seeded();
      const rawList = await inspectRaw(registry, `${REPOSITORY}:multi`);
      assert.equal(rawList, text(list.bytes));
      assert.equal(sha256(rawList), list.digest);
      for (const image of [amd64, arm64]) {
        assert.equal(await inspectRaw(registry, `${REPOSITORY}@${image.digest}`), text(image.bytes));
      }
    });

    test('the list names both children with their platforms, in order', TIMEOUT, () => {
      const { amd64, arm64, list } = seeded();
      const parsed = JSON.parse(text(list.bytes)) as { mediaType: string; manifests: { digest: string; mediaType: string; platform: unknown }[] };
      assert.equal(parsed.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
      assert.deepEqual(parsed.manifests.map((m) => m.digest), [amd64.digest, arm64.digest]);
      assert.deepEqual(parsed.manifests.map((m) => m.mediaType), [amd64.mediaType, arm64.mediaType]);
      assert.deepEqual(parsed.manifests[1]?.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
    });

    test('skopeo inspect (non-raw) reads the docker and the oci image', TIMEOUT, async () => {
      const { registry, amd64, arm64 } = seeded();
      for (const image of [amd64, arm64]) {
        const result = await registry.skopeo('inspect', [`docker://${registry.host}/${REPOSITORY}@${image.digest}`]);
        assert.equal(result.code, 0, result.stderr);
        const info = JSON.parse(result.stdout) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
        assert.equal(info.Digest, image.digest);
        assert.equal(info.Architecture, image.platform.architecture);
        assert.equal(info.Os, 'linux');
        assert.deepEqual(info.Layers, image.layers.map((l) => l.digest));
      }
    });

    test('skopeo copy --all to another repository keeps the list digest', TIMEOUT, async () => {
      const { registry, list } = seeded();
      const result = await registry.skopeo('copy', [
        '--all',
        `docker://${registry.host}/${REPOSITORY}:multi`,
        `docker://${registry.host}/harness/copy:multi`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await inspectRaw(registry, 'harness/copy:multi'), text(list.bytes));
    });

    if (mode !== 'plain') {
      test('skopeo without credentials cannot push', TIMEOUT, async () => {
        const { registry, amd64 } = seeded();
        const result = await registry.skopeo('copy', [
          '--dest-no-creds',
          `docker://${registry.host}/${REPOSITORY}@${amd64.digest}`,
          `docker://${registry.host}/harness/anonymous:push`,
        ]);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /unauthorized|denied|authentication required/i);
      });
    }

    if (mode === 'token') {
      test('anonymous pull of the raw list is granted', TIMEOUT, async () => {
        const { registry, list } = seeded();
        const before = registry.tokenRequests();
        assert.equal(await inspectRaw(registry, `${REPOSITORY}:multi`, ['--no-creds']), text(list.bytes));
        assert.ok(registry.tokenRequests() > before, 'skopeo should have fetched an anonymous token');
      });

      test('token server: password grant, refresh grant, and wrong credentials', TIMEOUT, async () => {
        const { registry } = seeded();
        await checkOAuthFlow(registry);
      });
    }
  });
}

describe('test registry harness: token without anonymous pull', { skip: SKIP, ...TIMEOUT }, () => {
  let registry: TestRegistry | undefined;
  before(async () => {
    registry = await startRegistry('token', { anonymousPull: false });
  }, TIMEOUT);
  after(async () => {
    await registry?.stop();
  }, TIMEOUT);

  test('anonymous pull is refused, authenticated pull works', TIMEOUT, async () => {
    assert.ok(registry);
    const image = await registry.seedImage({ repository: REPOSITORY, tag: 'one', platform: { os: 'linux', architecture: 'amd64' } });
    const anonymous = await registry.skopeo('inspect', ['--raw', '--no-creds', `docker://${registry.host}/${REPOSITORY}:one`]);
    assert.notEqual(anonymous.code, 0);
    assert.equal(await inspectRaw(registry, `${REPOSITORY}:one`), text(image.bytes));
  });
});

interface TokenBody { token?: string; access_token?: string; refresh_token?: string }

/** Walks the OAuth2 POST flow and GET with wrong credentials against the harness's token server. */
async function checkOAuthFlow(registry: TestRegistry): Promise<void> {
  assert.ok(registry.caFile !== undefined && registry.tokenUrl !== undefined && registry.password !== undefined);
  const dispatcher = new Agent({ connect: { ca: await readFile(registry.caFile, 'utf8') } });
  try {
    const post = async (form: Record<string, string>): Promise<{ status: number; body: TokenBody }> => {
      const response = await request(registry.tokenUrl ?? '', {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      return { status: response.statusCode, body: (await response.body.json()) as TokenBody };
    };
    const scope = `repository:${REPOSITORY}:pull`;
    const common = { service: 'test-registry', client_id: 'manifest-tests', scope };
    const first = await post({ ...common, grant_type: 'password', username: 'tester', password: registry.password ?? '', access_type: 'offline' });
    assert.equal(first.status, 200);
    assert.ok(first.body.refresh_token !== undefined);
    const refreshed = await post({ ...common, grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.refresh_token, undefined, 'no refresh token without access_type=offline');
    // The refreshed access token must be one the registry itself accepts.
    const manifest = await request(`${registry.url}/v2/${REPOSITORY}/manifests/multi`, {
      dispatcher,
      headers: {
        authorization: `Bearer ${refreshed.body.access_token ?? ''}`,
        accept: 'application/vnd.docker.distribution.manifest.list.v2+json',
      },
    });
    await manifest.body.dump();
    assert.equal(manifest.statusCode, 200);
    assert.equal((await post({ ...common, grant_type: 'password', username: 'tester', password: 'wrong' })).status, 401);
    const wrongGet = await request(`${registry.tokenUrl ?? ''}?service=test-registry&scope=${scope}`, {
      dispatcher,
      headers: { authorization: `Basic ${Buffer.from('tester:wrong').toString('base64')}` },
    });
    await wrongGet.body.dump();
    assert.equal(wrongGet.statusCode, 401);
  } finally {
    await dispatcher.close();
  }
}
