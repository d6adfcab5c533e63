// Every command's --json output against its JSON Schema in schemas/ (inspect, push; check's in check.test.ts),
// on a real registry, for each shape the output takes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { assertMatchesSchema } from '../helpers/json-schema.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

describe('--json output matches schemas/', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let host: string;

  before(async () => {
    registry = await startRegistry('plain');
    host = registry.host;
    dir = await mkdtemp(join(tmpdir(), 'manifest-json-'));
    const amd64 = await registry.seedImage({ repository: 'j/app', tag: '1-amd64', platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await registry.seedImage({ repository: 'j/app', tag: '1-arm', platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, format: 'oci' });
    const oci = await registry.seedImage({ repository: 'j/app', platform: { os: 'linux', architecture: 's390x' }, format: 'oci' });
    await registry.seedIndex({ repository: 'j/app', tag: 'idx', format: 'oci', children: [arm, oci], annotations: { 'org.opencontainers.image.version': '1' } });
    await registry.seedIndex({ repository: 'j/app', tag: 'list', children: [amd64] });
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const json = async (args: string[], code = 0): Promise<unknown> => {
    const r = await runCli(['--plain-http', ...args]);
    assert.equal(r.code, code, r.stderr);
    return JSON.parse(r.text) as unknown;
  };

  test('inspect --json: a list, an OCI index with annotations, one image, --platform', async () => {
    for (const args of [[`${host}/j/app:list`], [`${host}/j/app:idx`], [`${host}/j/app:1-amd64`], ['--platform', 'linux/arm/v7', `${host}/j/app:idx`]]) {
      assertMatchesSchema(await json(['inspect', '--json', ...args]), 'inspect.schema.json');
    }
  });

  test('pushml --json: one spec, a dry run, a batch with a failed spec, --ignore-missing', async () => {
    const spec = (name: string, target: string, sources: string[]): Promise<string> => {
      const path = join(dir, name);
      return writeFile(path, `image: ${host}/j/${target}\nmanifests:\n${sources.map((s) => `  - image: ${host}/j/${s}\n`).join('')}`).then(() => path);
    };
    const one = await spec('one.yaml', 'out:1', ['app:1-amd64', 'app:1-arm']);
    assertMatchesSchema(await json(['pushml', '--json', one]), 'push.schema.json');
    assertMatchesSchema(await json(['pushml', '--json', '--dry-run', one]), 'push.schema.json');
    const missing = await spec('missing.yaml', 'out:2', ['app:1-amd64', 'app:nope']);
    const batch = await json(['pushml', '--json', one, missing], 4);
    assert.ok(Array.isArray(batch) && batch.length === 2);
    assertMatchesSchema(batch, 'push.schema.json');
    assertMatchesSchema(await json(['pushml', '--json', '--ignore-missing', missing]), 'push.schema.json');
    assertMatchesSchema(await json(['push', 'from-args', '--json', '--platforms', 'linux/amd64,linux/arm/v7', '--template', `${host}/j/app:1-ARCH`, '--target', `${host}/j/out:3`]), 'push.schema.json');
  });
});
