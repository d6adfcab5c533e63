// `manifest inspect` against a real registry (Debian's docker-registry 2.8) in its three modes, cross-checked
// with skopeo; error cases through the CLI exactly as a user meets them (exit code, one line, a hint).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { registryAvailable, startRegistry, type RegistryMode, type SeededImage, type SeededManifest, type TestRegistry } from '../helpers/registry.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

interface Seeded {
  amd64: SeededImage;
  arm64: SeededImage;
  armv7: SeededImage;
  list: SeededManifest;
  ociAmd64: SeededImage;
  ociS390x: SeededImage;
  index: SeededManifest;
}

async function seed(registry: TestRegistry): Promise<Seeded> {
  const repository = 'demo/app';
  const amd64 = await registry.seedImage({ repository, tag: '1-amd64', platform: { os: 'linux', architecture: 'amd64' }, layers: 2 });
  const arm64 = await registry.seedImage({ repository, tag: '1-arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  const armv7 = await registry.seedImage({ repository, tag: '1-armv7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, layers: 3 });
  const list = await registry.seedIndex({ repository, tag: '1', children: [amd64, arm64, armv7] });
  const ociAmd64 = await registry.seedImage({ repository, platform: { os: 'linux', architecture: 'amd64' }, format: 'oci' });
  const ociS390x = await registry.seedImage({ repository, platform: { os: 'linux', architecture: 's390x' }, format: 'oci' });
  const index = await registry.seedIndex({ repository, tag: 'oci', format: 'oci', children: [ociAmd64, ociS390x], annotations: { 'org.opencontainers.image.version': '1' } });
  return { amd64, arm64, armv7, list, ociAmd64, ociS390x, index };
}

/** The flags a user passes for each mode: plain HTTP, or the CA plus credentials on stdin. */
function access(registry: TestRegistry): { args: string[]; stdin: string } {
  if (registry.mode === 'plain') return { args: ['--plain-http'], stdin: '' };
  return { args: ['--ca-file', registry.caFile ?? '', '--username', registry.username ?? '', '--password-stdin'], stdin: `${registry.password ?? ''}\n` };
}

for (const mode of ['plain', 'basic', 'token'] as RegistryMode[]) {
  describe(`inspect against a real registry (${mode})`, { skip: skipReason, timeout: 240_000 }, () => {
    let registry: TestRegistry;
    let seeded: Seeded;
    let inspect: (args: string[], env?: Record<string, string>) => Promise<CliResult>;

    before(async () => {
      registry = await startRegistry(mode);
      seeded = await seed(registry);
      const a = access(registry);
      inspect = (args, env) => runCli([...a.args, 'inspect', ...args], { stdin: a.stdin, ...(env === undefined ? {} : { env }) });
    });
    after(async () => { await registry?.stop(); });

    test('a manifest list: text with every platform, its digests and layers', async () => {
      const r = await inspect([`${registry.host}/demo/app:1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.text, new RegExp(`${registry.host}/demo/app:1 is a manifest list containing the following 3 manifest references:`));
      assert.match(r.text, new RegExp(`Digest: ${seeded.list.digest}`));
      for (const [i, child] of [seeded.amd64, seeded.arm64, seeded.armv7].entries()) {
        assert.match(r.text, new RegExp(`^${i + 1}       Digest: ${child.digest}$`, 'm'));
        assert.match(r.text, new RegExp(`^${i + 1}  Mfst Length: ${child.size}$`, 'm'));
        assert.match(r.text, new RegExp(`^${i + 1}     # Layers: ${child.layers.length}$`, 'm'));
        assert.match(r.text, new RegExp(`^${i + 1}           -    Arch: ${child.platform.architecture}$`, 'm'));
        for (const [n, layer] of child.layers.entries()) assert.match(r.text, new RegExp(`^ {9}layer ${n + 1}: digest = ${layer.digest}$`, 'm'));
      }
      assert.match(r.text, /^3 {11}- Variant: v7$/m);
      assert.equal(r.stderr, '');
    });

    test('--raw prints the registry\'s bytes: they hash to its digest and equal what skopeo reads', async () => {
      const r = await inspect(['--raw', `${registry.host}/demo/app:1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256(r.stdout), seeded.list.digest);
      assert.deepEqual(r.stdout, Buffer.from(seeded.list.bytes));
      const s = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/demo/app:1`]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, r.text);
    });

    test('--json: an OCI index with annotations and per-entry layers', async () => {
      const r = await inspect(['--json', `${registry.host}/demo/app:oci`]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.text) as { kind: string; mediaType: string; digest: string; annotations: Record<string, string>; manifests: { digest: string; platform: { architecture: string }; image: { layers: unknown[] } }[] };
      assert.equal(doc.kind, 'list');
      assert.equal(doc.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.equal(doc.digest, seeded.index.digest);
      assert.deepEqual(doc.annotations, { 'org.opencontainers.image.version': '1' });
      assert.deepEqual(doc.manifests.map((m) => m.platform.architecture), ['amd64', 's390x']);
      assert.deepEqual(doc.manifests.map((m) => m.digest), [seeded.ociAmd64.digest, seeded.ociS390x.digest]);
      assert.equal(doc.manifests[0]?.image.layers.length, 1);
    });

    test('--platform resolves a list to that platform\'s image, with its config and platform from the config', async () => {
      const r = await inspect(['--json', '--platform', 'linux/arm/v7', `${registry.host}/demo/app:1`]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.text) as { kind: string; digest: string; resolvedFrom: { digest: string }; platform: object; config: { digest: string } };
      assert.equal(doc.kind, 'image');
      assert.equal(doc.digest, seeded.armv7.digest);
      assert.equal(doc.resolvedFrom.digest, seeded.list.digest);
      assert.deepEqual(doc.platform, { os: 'linux', architecture: 'arm', variant: 'v7' });
      assert.equal(doc.config.digest, seeded.armv7.config.digest);
      const raw = await inspect(['--raw', '--platform', 'linux/arm64', `${registry.host}/demo/app:1`]);
      assert.equal(sha256(raw.stdout), seeded.arm64.digest);
    });

    test('a single image: its platform from the config, the config digest and layers', async () => {
      const r = await inspect([`${registry.host}/demo/app:1-armv7`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.text, /is an image manifest:/);
      assert.match(r.text, new RegExp(`Config: ${seeded.armv7.config.digest}`));
      assert.match(r.text, /^ {12}- Variant: v7$/m);
      assert.match(r.text, /^ {6}# Layers: 3$/m);
    });

    test('a platform the list lacks is not found (exit 4), naming what it has', async () => {
      const r = await inspect(['--platform', 'linux/ppc64le', `${registry.host}/demo/app:1`]);
      assertOneLineError(r, 4, /has no image for linux\/ppc64le \(it has: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/);
    });

    test('a missing tag exits 4', async () => {
      const r = await inspect([`${registry.host}/demo/app:nope`]);
      assertOneLineError(r, 4, /tag nope not found in 127\.0\.0\.1:\d+\/demo\/app: GET .*MANIFEST_UNKNOWN/);
    });

    test('a missing repository exits 4', async () => {
      const r = await inspect([`${registry.host}/demo/nothing:1`]);
      // distribution 2.8 answers MANIFEST_UNKNOWN here too; registries that say NAME_UNKNOWN get "repository … not found".
      assertOneLineError(r, 4, /(tag 1 not found in|repository) 127\.0\.0\.1:\d+\/demo\/nothing( not found)?: GET .*_UNKNOWN/);
    });

    test('a malformed reference exits 2 and sends nothing', async () => {
      const r = await inspect([`${registry.host}/Demo//app:1`]);
      assertOneLineError(r, 2, /invalid reference/);
    });

    if (mode !== 'plain') {
      test('a wrong password exits 3 with a hint', async () => {
        const r = await runCli(['--ca-file', registry.caFile ?? '', '-u', 'tester', '--password-stdin', 'inspect', `${registry.host}/demo/app:1`], { stdin: 'wrong\n' });
        assertOneLineError(r, 3, /refused/);
        assert.match(r.stderr, /hint: check the credentials for 127\.0\.0\.1:\d+/);
        assert.ok(!r.stderr.includes(registry.password ?? '-'), 'no password in the output');
      });

      test('credentials from a docker config.json (--docker-cfg) and the CA from a certs.d directory', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'manifest-cfg-'));
        try {
          const auth = Buffer.from(`${registry.username ?? ''}:${registry.password ?? ''}`).toString('base64');
          await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
          const r = await runCli(['inspect', '--docker-cfg', dir, `${registry.host}/demo/app:1`], { env: { MANIFEST_CERTS_DIR: registry.certsDir ?? '' } });
          assert.equal(r.code, 0, r.stderr);
          const viaEnv = await runCli(['inspect', '--raw', `${registry.host}/demo/app:1`], { env: { DOCKER_CONFIG: dir, MANIFEST_CERTS_DIR: registry.certsDir ?? '' } });
          assert.equal(sha256(viaEnv.stdout), seeded.list.digest);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      test('an untrusted certificate exits 6 with a hint naming --plain-http and --ca-file', async () => {
        const r = await runCli(['inspect', `${registry.host}/demo/app:1`]);
        assertOneLineError(r, 6, /TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
        assert.match(r.stderr, /hint: .*--plain-http.*--ca-file/);
      });

      test('plain HTTP to a TLS registry exits 6 with a hint to drop --plain-http', async () => {
        const r = await runCli(['inspect', '--plain-http', `${registry.host}/demo/app:1`]);
        assertOneLineError(r, 6, /speaks HTTPS/);
        assert.match(r.stderr, /hint: .*leave out --plain-http/);
        // digest (and a push) start with a HEAD, whose 400 carries no body: they say the same.
        const digest = await runCli(['digest', '--plain-http', `${registry.host}/demo/app:1`]);
        assertOneLineError(digest, 6, /speaks HTTPS/);
        assert.match(digest.stderr, /hint: .*leave out --plain-http/);
      });
    }

    if (mode === 'basic') {
      test('no credentials at all exits 3 with a hint to log in', async () => {
        const r = await runCli(['inspect', '--ca-file', registry.caFile ?? '', `${registry.host}/demo/app:1`]);
        assertOneLineError(r, 3, /requires a user name and password and none were found for 127\.0\.0\.1:\d+ \(looked in: .*config\.json/);
        assert.match(r.stderr, /hint: log in first: run 'docker login 127\.0\.0\.1:\d+'/);
      });
    }

    if (mode === 'token') {
      test('anonymous pull through the token server (the Docker Hub flow)', async () => {
        const r = await runCli(['inspect', '--raw', '--ca-file', registry.caFile ?? '', `${registry.host}/demo/app:1`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(sha256(r.stdout), seeded.list.digest);
      });

      test('one token serves every request of a run (cached by scope)', async () => {
        const before = registry.tokenRequests();
        const r = await inspect([`${registry.host}/demo/app:1`]);
        assert.equal(r.code, 0, r.stderr);
        // 1 list + 3 children + 1 credential check: all under one scope, so one token.
        assert.equal(registry.tokenRequests() - before, 1);
      });
    }

    if (mode === 'plain') {
      test('https to a plain-HTTP registry exits 6 with a hint to use --plain-http', async () => {
        const r = await runCli(['inspect', `${registry.host}/demo/app:1`]);
        assertOneLineError(r, 6, /does not speak TLS/);
        assert.match(r.stderr, /hint: .*--plain-http-host 127\.0\.0\.1:\d+/);
      });

      test('--platform linux/arm prefers v7 (the default variant) over an earlier v6 entry', async () => {
        const armv6 = await registry.seedImage({ repository: 'demo/app', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } });
        await registry.seedIndex({ repository: 'demo/app', tag: 'arms', children: [armv6, seeded.armv7] });
        const r = await runCli(['inspect', '--plain-http', '--raw', '--platform', 'linux/arm', `${registry.host}/demo/app:arms`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(sha256(r.stdout), seeded.armv7.digest);
        const v6 = await runCli(['inspect', '--plain-http', '--raw', '--platform', 'linux/arm/v6', `${registry.host}/demo/app:arms`]);
        assert.equal(sha256(v6.stdout), armv6.digest);
      });

      test('examples/check-platforms.sh passes for covered platforms and names the missing one', () => {
        const script = join(repoRoot, 'examples', 'check-platforms.sh');
        const env = { ...process.env, MANIFEST: `${process.execPath} ${join(repoRoot, 'bin', 'manifest.js')}`, MANIFEST_FLAGS: '--plain-http' };
        const ok = spawnSync('bash', [script, `${registry.host}/demo/app:1`, 'linux/amd64', 'linux/arm64', 'linux/arm/v7'], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, new RegExp(`ok +linux/arm/v7 +${seeded.armv7.digest}`));
        const missing = spawnSync('bash', [script, `${registry.host}/demo/app:1`, 'linux/amd64', 'linux/s390x'], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(missing.status, 1);
        assert.match(missing.stderr, /MISSING +linux\/s390x/);
        assert.match(missing.stderr, /lacks 1 of 2 platform/);
        // A registry problem is not a missing platform: the script stops with manifest's exit code and message.
        const wrongScheme = spawnSync('bash', [script, `${registry.host}/demo/app:1`, 'linux/amd64'], { env: { ...env, MANIFEST_FLAGS: '' }, encoding: 'utf8', timeout: 60_000 });
        assert.equal(wrongScheme.status, 6);
        assert.match(wrongScheme.stderr, /does not speak TLS/);
        assert.doesNotMatch(wrongScheme.stderr, /MISSING/);
        // A missing image is reported once, as such, with manifest's exit code 4: not as every platform missing.
        const noImage = spawnSync('bash', [script, `${registry.host}/demo/app:nope`, 'linux/amd64', 'linux/arm64'], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(noImage.status, 4, noImage.stderr);
        assert.match(noImage.stderr, /tag nope not found/);
        assert.doesNotMatch(noImage.stderr, /MISSING/);
      });

      test('--plain-http-host names the host alone', async () => {
        const r = await runCli(['inspect', '--plain-http-host', registry.host, '--raw', `${registry.host}/demo/app:1`]);
        assert.equal(r.code, 0, r.stderr);
      });

      test('a registry that lies about a digest exits 5 naming both digests', async () => {
        const lie = `sha256:${'0'.repeat(64)}`;
        const proxy = await startProxy(registry.url, () => ({ rewriteHeaders: (h) => ({ ...h, 'docker-content-digest': lie }) }));
        try {
          const r = await runCli(['inspect', '--plain-http', `${proxy.host}/demo/app:1`]);
          assertOneLineError(r, 5, new RegExp(`claimed digest ${lie} but the manifest bytes hash to ${seeded.list.digest}`));
        } finally {
          await proxy.stop();
        }
      });

      test('a child whose bytes do not match its listed digest exits 5', async () => {
        const proxy = await startProxy(registry.url, (req) => (req.url === `/v2/demo/app/manifests/${seeded.arm64.digest}`
          ? { respond: { status: 200, headers: { 'content-type': seeded.arm64.mediaType }, body: Buffer.from(seeded.amd64.bytes) } }
          : undefined));
        try {
          const r = await runCli(['inspect', '--plain-http', `${proxy.host}/demo/app:1`]);
          assertOneLineError(r, 5, new RegExp(`hash to ${seeded.amd64.digest}, not the requested ${seeded.arm64.digest}`));
        } finally {
          await proxy.stop();
        }
      });

      const bad: { name: string; body: string; contentType: string; code: number; pattern: RegExp }[] = [
        { name: 'a schema-1 manifest', body: JSON.stringify({ schemaVersion: 1, name: 'demo/app', tag: 'old', fsLayers: [] }), contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws', code: 5, pattern: /schema 1 manifests are not supported/ },
        { name: 'an HTML page', body: '<html><body>Welcome to nginx</body></html>', contentType: 'text/html', code: 5, pattern: /not valid JSON \(the server sent an HTML page\)/ },
        { name: 'an unknown manifest type', body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example.thing' }), contentType: 'application/vnd.example.thing', code: 5, pattern: /unsupported manifest type/ },
      ];
      for (const c of bad) {
        test(`${c.name} gives exit ${c.code} and one line`, async () => {
          const proxy = await startProxy(registry.url, (req) => (req.url?.endsWith('/manifests/old') === true
            ? { respond: { status: 200, headers: { 'content-type': c.contentType }, body: c.body } }
            : undefined));
          try {
            assertOneLineError(await runCli(['inspect', '--plain-http', `${proxy.host}/demo/app:old`]), c.code, c.pattern);
          } finally {
            await proxy.stop();
          }
        });
      }

      test('a closed port exits 6', async () => {
        const proxy = await startProxy(registry.url);
        const host = proxy.host;
        await proxy.stop();
        const r = await runCli(['inspect', '--plain-http', `${host}/demo/app:1`]);
        assertOneLineError(r, 6, /connection refused/);
      });
    }
  });
}
