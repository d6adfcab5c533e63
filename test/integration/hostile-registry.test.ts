// What `manifest pushml` does when the registry side misbehaves or the user stops it, against real registries
// (Debian's docker-registry 2.8) behind proxies on loopback: blobs redirected to another origin (S3, a CDN) must
// carry no credentials; lies, oversized, endless and stalled bodies, invalid JSON, HTML pages and schema-1
// manifests must each give the right exit code and one line, with no tag moved; SIGINT and SIGTERM must stop
// cleanly, leaving tags as they were or all set. Each outcome is checked with skopeo, not our own client.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { forwardRequest, startProxy, type ProxyAction, type RecordedRequest, type TestProxy } from '../helpers/proxy.js';
import { registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const LIE = `sha256:${'0'.repeat(64)}`;
/** An endless body stops after this much, so a client that never gives up cannot run the test forever. */
const ENDLESS_CAP = 64 * 1024 * 1024;

/** Writes a spec pushing `sources` (as "host/repo:tag") to `target`, with extra tags. */
async function writeSpec(dir: string, name: string, target: string, sources: string[], tags: string[] = []): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  const lines = [`image: ${target}`, ...(tags.length === 0 ? [] : [`tags: [${tags.join(', ')}]`]), 'manifests:', ...sources.map((s) => `  - image: ${s}`), ''];
  await writeFile(file, lines.join('\n'));
  return file;
}

/** Whether skopeo, asking the registry itself, finds `reference` ("host/repo:tag"); its raw bytes when it does. */
async function tagState(registry: TestRegistry, reference: string): Promise<string | undefined> {
  const r = await registry.skopeo('inspect', ['--raw', `docker://${reference}`]);
  return r.code === 0 ? r.stdout : undefined;
}

/** A body that never ends: 64 KiB chunks as fast as the client takes them, up to ENDLESS_CAP. */
function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': DOCKER_MANIFEST });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = (): void => {
    while (sent < ENDLESS_CAP && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

describe('blobs redirected to another origin carry no credentials (token registry, S3-like store)', { skip: skipReason, timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let target: TestRegistry;
  let front: TestProxy;
  let store: { host: string; requests: RecordedRequest[]; stop(): Promise<void> };
  let dir: string;
  let images: SeededImage[];
  const SIGNATURE = 'c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ';

  before(async () => {
    registry = await startRegistry('token');
    target = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-redirect-'));
    images = [
      await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' }, layers: 2 }),
      await registry.seedImage({ repository: 'src/app', tag: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: 2 }),
    ];
    const ca = await readFile(registry.caFile ?? '', 'utf8');
    const upstream = new URL(registry.url);
    // The registry hands blob GETs to the store with a presigned URL, as Docker Hub and ECR do with S3. The store
    // fetches from the registry with the credentials the registry saw: a client needs none to follow the link.
    const granted = new Map<string, string | undefined>();
    const storeRequests: RecordedRequest[] = [];
    const storeServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      storeRequests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
      const key = new URL(req.url ?? '/', 'http://store').pathname;
      const path = key.replace(/^\/store/, '/v2');
      const authorization = granted.get(key);
      forwardRequest(req, res, upstream, undefined, { tls: { ca }, path, headers: authorization === undefined ? {} : { authorization } });
    });
    await new Promise<void>((resolve) => storeServer.listen(0, '127.0.0.1', resolve));
    const storeHost = `127.0.0.1:${(storeServer.address() as AddressInfo).port}`;
    store = {
      host: storeHost,
      requests: storeRequests,
      stop: () => new Promise<void>((resolve) => { storeServer.closeAllConnections(); storeServer.close(() => resolve()); }),
    };
    front = await startProxy(registry.url, (req): ProxyAction | undefined => {
      const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '');
      if (req.method !== 'GET' || blob === null) return undefined;
      const key = `/store/${blob[1] ?? ''}/blobs/${blob[2] ?? ''}`;
      granted.set(key, req.headers.authorization);
      const location = `http://${storeHost}${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261123&X-Amz-Signature=${SIGNATURE}`;
      return { respond: { status: 307, headers: { location } } };
    }, { ca });
  });
  after(async () => {
    await front?.stop();
    await store?.stop();
    await registry?.stop();
    await target?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('a copy across registries follows every blob redirect: 0 Authorization headers reach the store, no secret printed', async (t) => {
    // The user's credentials for the source registry come from a docker config.json, as after `docker login`.
    const config = join(dir, 'docker');
    await mkdir(config);
    const auth = Buffer.from(`${registry.username ?? ''}:${registry.password ?? ''}`).toString('base64');
    await writeFile(join(config, 'config.json'), JSON.stringify({ auths: { [front.host]: { auth } } }));
    const file = await writeSpec(dir, 'copy', `${target.host}/dst/app:1`, images.map((img) => `${front.host}/src/app:${img.tag ?? ''}`));
    const r = await runCli(['--debug', '--plain-http-host', front.host, '--plain-http-host', target.host, '--ca-file', registry.caFile ?? '', '--docker-cfg', config, 'pushml', file]);
    assert.equal(r.code, 0, r.stderr);

    const redirected = front.requests.filter((q) => q.method === 'GET' && q.url.includes('/blobs/'));
    const leaked = store.requests.filter((q) => q.headers.authorization !== undefined);
    const summary = `redirects: ${store.requests.length} blob GETs followed to another origin, ${leaked.length} carried an Authorization header`;
    t.diagnostic(summary);
    process.stdout.write(`# ${summary}\n`);
    assert.ok(redirected.length > 0 && redirected.every((q) => /^Bearer /.test(q.headers.authorization ?? '')), 'the registry itself got the token');
    // Every config and layer blob was read through the store: 2 configs and 4 layers.
    assert.equal(new Set(store.requests.map((q) => q.url.split('?')[0])).size, 6);
    assert.equal(leaked.length, 0, 'no credential reaches another origin');
    assert.ok(!r.stderr.includes(SIGNATURE), 'presigned signatures are redacted in --debug output');
    assert.ok(!r.stderr.includes(registry.password ?? '\0'), 'the password is never printed');
    assert.ok(!r.stderr.includes(auth), 'the config.json auth is never printed');

    // What was copied is whole: skopeo reads the list and an arm64 node's image with its layers from the target.
    const raw = await tagState(target, `${target.host}/dst/app:1`);
    assert.ok(raw !== undefined);
    assert.deepEqual((JSON.parse(raw) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), images.map((img) => img.digest));
    const arm = await target.skopeo('copy', [`docker://${target.host}/dst/app:1`, `dir:${join(dir, 'arm64')}`], ['--override-arch', 'arm64', '--override-os', 'linux']);
    assert.equal(arm.code, 0, arm.stderr);
  });
});

describe('a registry that misbehaves: one line, the right exit code, no tag moved', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let amd64: SeededImage;

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-hostile-'));
    amd64 = await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } });
    await registry.seedImage({ repository: 'src/app', tag: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const isSourceManifestGet = (req: IncomingMessage): boolean => req.method === 'GET' && (req.url ?? '').startsWith('/v2/src/app/manifests/');
  const cases: { name: string; code: number; pattern: RegExp; rule: (req: IncomingMessage) => ProxyAction | undefined; args?: string[]; hint?: RegExp }[] = [
    {
      name: 'a manifest whose Content-Length is over 4 MiB',
      code: 5,
      pattern: /manifest .* is 5242880 bytes, over the limit of 4194304/,
      rule: (req) => (isSourceManifestGet(req) ? { handle: (_, res) => { res.writeHead(200, { 'content-type': DOCKER_MANIFEST, 'content-length': String(5 * 1024 * 1024) }); res.flushHeaders(); } } : undefined),
    },
    {
      name: 'a manifest body that never ends',
      code: 5,
      pattern: /manifest .* is over the limit of 4194304 bytes/,
      rule: (req) => (isSourceManifestGet(req) ? { handle: (_, res) => endless(res) } : undefined),
    },
    {
      name: 'a body that stops half-way and stalls (with --timeout)',
      code: 6,
      pattern: /the --timeout of 3s ran out/,
      args: ['--timeout', '3s'],
      hint: /give it longer/,
      rule: (req) => (isSourceManifestGet(req) ? { handle: (_, res) => { res.writeHead(200, { 'content-type': DOCKER_MANIFEST, 'content-length': '2000' }); res.write('{"schemaVersion": 2,'); } } : undefined),
    },
    {
      name: 'invalid JSON',
      code: 5,
      pattern: /not valid JSON/,
      rule: (req) => (isSourceManifestGet(req) ? { respond: { status: 200, headers: { 'content-type': DOCKER_MANIFEST }, body: '{"schemaVersion": 2, "mediaType": ' } } : undefined),
    },
    {
      name: 'an HTML error page on every attempt (a load balancer\'s 502)',
      code: 6,
      pattern: /502/,
      rule: (req) => (isSourceManifestGet(req) ? { respond: { status: 502, headers: { 'content-type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>' } } : undefined),
    },
    {
      name: 'a schema-1 manifest',
      code: 5,
      pattern: /schema 1 manifests are not supported/,
      rule: (req) => (isSourceManifestGet(req) ? { respond: { status: 200, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }, body: JSON.stringify({ schemaVersion: 1, name: 'src/app', tag: 'amd64', fsLayers: [], history: [] }) } } : undefined),
    },
    {
      name: 'a manifest digest header that lies',
      code: 5,
      pattern: new RegExp(`claimed digest ${LIE}`),
      rule: (req) => (isSourceManifestGet(req) ? { rewriteHeaders: (h) => ({ ...h, 'docker-content-digest': LIE }) } : undefined),
    },
    {
      name: 'a config blob whose bytes do not match its digest',
      code: 5,
      pattern: /hashes to sha256:/,
      rule: (req) => (req.method === 'GET' && req.url === `/v2/src/app/blobs/${amd64.config.digest}` ? { respond: { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: '{"architecture":"amd64","os":"linux","rootfs":{}}' } } : undefined),
    },
    {
      name: 'a manifest PUT acknowledged with another digest',
      code: 5,
      pattern: new RegExp(LIE),
      rule: (req) => (req.method === 'PUT' && (req.url ?? '').startsWith('/v2/dst/app/manifests/') ? { rewriteHeaders: (h) => ({ ...h, 'docker-content-digest': LIE }) } : undefined),
    },
    {
      name: 'a redirect loop',
      code: 5,
      pattern: /more than 5 redirects/,
      rule: (req) => (isSourceManifestGet(req) ? { respond: { status: 307, headers: { location: req.url ?? '/' } } } : undefined),
    },
    {
      name: 'a challenge that cannot be parsed',
      code: 5,
      pattern: /without a WWW-Authenticate challenge this tool can read/,
      rule: (req) => (isSourceManifestGet(req) ? { respond: { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token, service=' } } } : undefined),
    },
  ];

  for (const c of cases) {
    test(`${c.name}: exit ${c.code}, one line, the target tag unchanged`, async () => {
      const proxy = await startProxy(registry.url, c.rule);
      try {
        const tag = c.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60).replace(/-$/, '');
        const file = await writeSpec(dir, tag, `${proxy.host}/dst/app:${tag}`, [`${proxy.host}/src/app:amd64`, `${proxy.host}/src/app:arm64`]);
        const r = await runCli(['--plain-http', ...(c.args ?? []), 'pushml', file]);
        assertOneLineError(r, c.code, c.pattern);
        assert.equal(r.text, '', 'nothing on stdout');
        if (c.hint !== undefined) assert.match(r.stderr, c.hint);
        assert.doesNotMatch(r.stderr, /<html|<body/i, 'no HTML page dumped');
        assert.equal(await tagState(registry, `${registry.host}/dst/app:${tag}`), undefined, 'the tag was not created');
      } finally {
        await proxy.stop();
      }
    });
  }
});

describe('SIGINT and SIGTERM during a push', { skip: skipReason, timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let sources: string[];

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-interrupt-'));
    const images = [
      await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } }),
      await registry.seedImage({ repository: 'src/app', tag: 's390x', platform: { os: 'linux', architecture: 's390x' } }),
    ];
    sources = images.map((img) => `src/app:${img.tag ?? ''}`);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Pushes through a proxy that holds the first request `matches` accepts; when it arrives, the CLI gets `signal`.
   * `release` says whether the held request is then forwarded (after 500 ms) or left unanswered.
   */
  async function interrupted(name: string, signal: NodeJS.Signals, matches: (req: IncomingMessage) => boolean, release: boolean, tags: string[] = []): Promise<{ r: CliResult; proxy: TestProxy; target: string }> {
    let child: ChildProcess | undefined;
    let held = false;
    const upstream = new URL(registry.url);
    const proxy = await startProxy(registry.url, (req) => {
      if (held || !matches(req)) return undefined;
      held = true;
      return {
        handle: (request, res) => {
          child?.kill(signal);
          if (release) setTimeout(() => forwardRequest(request, res, upstream), 500);
        },
      };
    });
    try {
      const target = `${proxy.host}/dst/${name}:${name}`;
      const file = await writeSpec(dir, name, target, sources.map((s) => `${proxy.host}/${s}`), tags);
      const r = await runCli(['--plain-http', 'pushml', file], { onSpawn: (c) => { child = c; }, timeoutMs: 30_000 });
      assert.ok(held, 'the proxy saw the request it holds');
      return { r, proxy, target: `${registry.host}/dst/${name}:${name}` };
    } finally {
      await proxy.stop();
    }
  }

  test('SIGINT while the list is being pushed: exit 130, "interrupted", no tag created', async () => {
    const { r, target } = await interrupted('sigint', 'SIGINT', (req) => req.method === 'PUT' && req.headers['content-type'] === DOCKER_LIST, false, ['sigint-b']);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr, 'manifest: interrupted\n');
    assert.equal(r.text, '');
    assert.equal(await tagState(registry, target), undefined);
    assert.equal(await tagState(registry, `${target}-b`), undefined);
  });

  test('SIGTERM while a child is being copied: exit 130, no tag created', async () => {
    const { r, target } = await interrupted('sigterm', 'SIGTERM', (req) => req.method === 'PUT' && req.headers['content-type'] === DOCKER_MANIFEST, false);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(await tagState(registry, target), undefined);
  });

  test('SIGTERM while tags are being set: they are all set, the Digest is printed, exit 130', async () => {
    const { r, target } = await interrupted('tags', 'SIGTERM', (req) => req.method === 'PUT' && /\/manifests\/tags$/.test(req.url ?? ''), true, ['tags-b', 'tags-c']);
    assert.equal(r.code, 130, r.stderr);
    const match = /^Digest: (sha256:[0-9a-f]{64}) [0-9]+\n$/.exec(r.text);
    assert.ok(match, `the Digest line: ${r.text}`);
    assert.match(r.stderr, /^manifest: warning: interrupted after every tag of \S+\/dst\/tags was set to sha256:[0-9a-f]{64}; not verified\n$/);
    for (const tag of ['tags', 'tags-b', 'tags-c']) {
      const raw = await tagState(registry, target.replace(/:tags$/, `:${tag}`));
      assert.ok(raw !== undefined, `${tag} is set`);
    }
  });

  test('the registry stops answering after every tag is set: exit 0, the Digest, a warning that the read-back failed', async () => {
    // Every HEAD of the tags after their PUT answers 503 (retries included): the push itself is whole.
    let tagsPut = 0;
    const proxy = await startProxy(registry.url, (req) => {
      const tagPath = /\/manifests\/readback(-b)?$/.test(req.url ?? '');
      if (req.method === 'PUT' && tagPath) tagsPut++;
      else if (req.method === 'HEAD' && tagPath && tagsPut === 2) return { respond: { status: 503 } };
      return undefined;
    });
    try {
      const file = await writeSpec(dir, 'readback', `${proxy.host}/dst/readback:readback`, sources.map((s) => `${proxy.host}/${s}`), ['readback-b']);
      const r = await runCli(['--plain-http', 'pushml', file], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const match = /^Digest: (sha256:[0-9a-f]{64}) [0-9]+\n$/.exec(r.text);
      assert.ok(match, `the Digest line: ${r.text}`);
      assert.match(r.stderr, /^manifest: warning: every tag of \S+\/dst\/readback was set to sha256:[0-9a-f]{64}, but reading them back failed \(.*503.*\); not verified\n$/);
      for (const tag of ['readback', 'readback-b']) {
        const raw = await tagState(registry, `${registry.host}/dst/readback:${tag}`);
        assert.equal(raw === undefined ? undefined : createHash('sha256').update(raw).digest('hex'), match?.[1]?.slice('sha256:'.length), `${tag} is set to the printed digest`);
      }
    } finally {
      await proxy.stop();
    }
  });
});
