// `manifest login` / `logout` against the TLS + basic and TLS + token registries, with docker's config.json alone
// and with a credential helper: login, then a push that needs no flags for credentials, then logout.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { installFakeCredentialHelper, type FakeCredentialHelper } from '../helpers/credential-helper.js';
import { registryAvailable, startRegistry, type RegistryMode, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

for (const mode of ['basic', 'token'] as RegistryMode[]) {
  for (const withHelper of [false, true]) {
    describe(`login, push, logout (${mode}, ${withHelper ? 'credential helper' : 'config.json'})`, { skip: skipReason, timeout: 240_000 }, () => {
      let registry: TestRegistry;
      let dir: string;
      let configDir: string;
      let helper: FakeCredentialHelper | undefined;
      let env: Record<string, string>;
      let spec: string;

      before(async () => {
        registry = await startRegistry(mode, { anonymousPull: false });
        dir = await mkdtemp(join(tmpdir(), 'manifest-login-'));
        configDir = join(dir, 'docker');
        await mkdir(configDir);
        env = { DOCKER_CONFIG: configDir, HOME: join(dir, 'home') };
        if (withHelper) {
          helper = await installFakeCredentialHelper(dir);
          env = { ...env, ...helper.env };
          // basic: the helper for every registry (credsStore); token: for this registry only (credHelpers).
          const config = mode === 'basic' ? { credsStore: 'fake', psFormat: 'table' } : { credHelpers: { [registry.host]: 'fake' }, psFormat: 'table' };
          await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
        } else {
          await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { 'other.example': { auth: 'b3RoZXI6cHc=' } }, psFormat: 'table' }));
        }
        await registry.seedImage({ repository: 'demo/app', tag: '1-amd64', platform: { os: 'linux', architecture: 'amd64' } });
        await registry.seedImage({ repository: 'demo/app', tag: '1-arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
        spec = join(dir, 'spec.yaml');
        await writeFile(spec, `image: ${registry.host}/demo/app:1
manifests:
  - image: ${registry.host}/demo/app:1-amd64
  - image: ${registry.host}/demo/app:1-arm64
`);
      });
      after(async () => {
        await registry?.stop();
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      });

      const cli = (args: string[], stdin?: string) => runCli(['--ca-file', registry.caFile ?? '', ...args], { env, ...(stdin === undefined ? {} : { stdin }) });

      test('a refused password exits 3 and writes nothing', async () => {
        const before = await readFile(join(configDir, 'config.json'), 'utf8');
        const r = await cli(['login', '--username', registry.username ?? '', '--password-stdin', registry.host], 'wrong-password\n');
        assertOneLineError(r, 3, /refused/);
        assert.doesNotMatch(r.stderr, /wrong-password/);
        assert.equal(await readFile(join(configDir, 'config.json'), 'utf8'), before);
        if (helper !== undefined) assert.deepEqual(await helper.stored(), {});
      });

      test('login keeps the credentials as docker does; a push then needs no credential flags; logout removes them', async () => {
        const before = await cli(['pushml', spec]);
        assert.equal(before.code, 3, `not logged in yet: ${before.stderr}`);

        const login = await cli(['login', '-u', registry.username ?? '', '--password-stdin', `https://${registry.host}`], `${registry.password ?? ''}\n`);
        assert.equal(login.code, 0, login.stderr);
        assert.equal(login.text, 'Login Succeeded\n');
        assert.doesNotMatch(login.stderr, new RegExp(registry.password ?? 'no password'));
        const config = await readJson(join(configDir, 'config.json'));
        assert.equal(config?.psFormat, 'table', 'other settings are kept');
        const auths = config?.auths as Record<string, { auth?: string }>;
        // Where they went: a warning for config.json, which keeps them base64-encoded only (as docker warns).
        if (helper === undefined) assert.match(login.stderr, /^manifest: warning: credentials for \S+ kept unencrypted in \S+config\.json \(a credential helper/m);
        else assert.match(login.stderr, /^credentials for \S+ kept by docker-credential-/m);
        assert.doesNotMatch(login.stderr, helper === undefined ? /kept by/ : /warning/);
        if (helper === undefined) {
          assert.equal(Buffer.from(auths[registry.host]?.auth ?? '', 'base64').toString(), `${registry.username ?? ''}:${registry.password ?? ''}`);
          assert.ok(auths['other.example'] !== undefined, 'other registries\' entries are kept');
          assert.equal((await stat(join(configDir, 'config.json'))).mode & 0o777, 0o600);
        } else {
          assert.deepEqual(auths[registry.host], {});
          assert.deepEqual(await helper.stored(), { [registry.host]: { Username: registry.username, Secret: registry.password } });
        }

        const push = await cli(['pushml', spec]);
        assert.equal(push.code, 0, push.stderr);
        assert.match(push.text, /^Digest: sha256:[0-9a-f]{64} \d+\n$/);
        const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/demo/app:1`]);
        assert.equal(raw.code, 0, raw.stderr);
        assert.match(raw.stdout, /manifest\.list\.v2\+json/);

        const logout = await cli(['logout', registry.host]);
        assert.equal(logout.code, 0, logout.stderr);
        assert.equal(logout.text, `Removed the credentials for ${registry.host}\n`);
        const afterLogout = await readJson(join(configDir, 'config.json'));
        assert.equal((afterLogout?.auths as Record<string, unknown>)[registry.host], undefined);
        if (helper === undefined) assert.ok((afterLogout?.auths as Record<string, unknown>)['other.example'] !== undefined);
        else assert.deepEqual(await helper.stored(), {});

        const again = await cli(['pushml', spec]);
        assert.equal(again.code, 3, again.stderr);
        const twice = await cli(['logout', registry.host]);
        assert.equal(twice.code, 0);
        assert.match(twice.stderr, /not logged in to /);
      });
    });
  }
}

describe('login: bad input', () => {
  test('no --username, an invalid registry: exit 2 before any request', async () => {
    assertOneLineError(await runCli(['login', '127.0.0.1:1']), 2, /--username/);
    assertOneLineError(await runCli(['login', '-u', 'me', '--password-stdin', 'bad host!'], { stdin: 'pw\n' }), 2, /invalid registry/);
  });
});
