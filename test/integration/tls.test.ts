// TLS choices against a real TLS registry: mutual TLS from a certs.d directory, --insecure and --insecure-host,
// and HTTPS_PROXY / NO_PROXY through a tunnelling proxy on loopback.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';
import { registryAvailable, startRegistry, type SeededManifest, type TestRegistry } from '../helpers/registry.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const skip = registryAvailable() ? false : 'docker-registry or skopeo is not installed';
if (skip !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skip}`);

async function seedList(registry: TestRegistry): Promise<SeededManifest> {
  const amd64 = await registry.seedImage({ repository: 'tls/app', platform: { os: 'linux', architecture: 'amd64' } });
  const arm64 = await registry.seedImage({ repository: 'tls/app', platform: { os: 'linux', architecture: 'arm64' } });
  return registry.seedIndex({ repository: 'tls/app', tag: '1', children: [amd64, arm64] });
}

describe('mutual TLS: a client certificate from certs.d', { skip, timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let list: SeededManifest;
  before(async () => {
    registry = await startRegistry('basic', { requireClientCertificate: true });
    list = await seedList(registry);
  });
  after(async () => { await registry?.stop(); });

  const creds = (): string[] => ['-u', registry.username ?? '', '--password-stdin'];

  test('with client.cert/client.key in <certs.d>/<host>/ the registry answers', async () => {
    const r = await runCli([...creds(), 'inspect', '--raw', `${registry.host}/tls/app:1`], {
      stdin: registry.password ?? '',
      env: { MANIFEST_CERTS_DIR: registry.certsDir ?? '' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(r.stdout), list.digest);
    const s = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/tls/app:1`]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, r.text);
  });

  test('without a client certificate: exit 6 and a hint naming client.cert and client.key', async () => {
    const r = await runCli([...creds(), 'inspect', '--ca-file', registry.caFile ?? '', `${registry.host}/tls/app:1`], { stdin: registry.password ?? '' });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /^manifest: .*was closed unexpectedly/m);
    assert.match(r.stderr, /hint: if 127\.0\.0\.1:\d+ requires a client certificate \(mutual TLS\), put client\.cert and client\.key in \/etc\/docker\/certs\.d\/127\.0\.0\.1:\d+\//);
  });
});

describe('--insecure, --insecure-host and proxies against a TLS registry', { skip, timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let list: SeededManifest;
  let proxy: TestProxy;
  before(async () => {
    registry = await startRegistry('basic');
    list = await seedList(registry);
    proxy = await startProxy('http://127.0.0.1:9'); // only its CONNECT tunnel is used
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  const inspect = (args: string[], env?: Record<string, string>) => runCli(['-u', registry.username ?? '', '--password-stdin', 'inspect', '--raw', ...args, `${registry.host}/tls/app:1`], {
    stdin: registry.password ?? '',
    ...(env === undefined ? {} : { env }),
  });

  test('--insecure-host skips verification for that host', async () => {
    const r = await inspect(['--insecure-host', registry.host]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(r.stdout), list.digest);
  });

  test('--insecure skips verification for every host', async () => {
    assert.equal((await inspect(['--insecure'])).code, 0);
  });

  test('--insecure-host for another host changes nothing here', async () => {
    const r = await inspect(['--insecure-host', 'other.example:5000']);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /not trusted/);
  });

  test('HTTPS_PROXY tunnels the requests through the proxy', async () => {
    const before = proxy.requests.length;
    const r = await inspect(['--ca-file', registry.caFile ?? ''], { HTTPS_PROXY: `http://${proxy.host}` });
    assert.equal(r.code, 0, r.stderr);
    const connects = proxy.requests.slice(before).filter((req) => req.method === 'CONNECT');
    assert.ok(connects.length >= 1, 'at least one CONNECT');
    assert.ok(connects.every((req) => req.url === registry.host));
  });

  test('NO_PROXY bypasses the proxy for the hosts it names', async () => {
    const before = proxy.requests.length;
    const r = await inspect(['--ca-file', registry.caFile ?? ''], { HTTPS_PROXY: `http://${proxy.host}`, NO_PROXY: '127.0.0.1' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.requests.length, before);
  });
});
