// `manifest tags`, `catalog`, `digest` and `blob get` against a real registry (Debian's docker-registry 2.8),
// cross-checked with skopeo: listings over several pages (the test pushes 260 tags and 255 repositories through the
// registry API), digests equal to the hash of what skopeo reads, and a registry that lies about a blob's bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';
import { registryAvailable, startRegistry, type RegistryMode, type SeededImage, type SeededManifest, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const TAGS = 260;
const REPOSITORIES = 255;

/** The flags a user passes for each mode: plain HTTP, or the CA plus credentials on stdin. */
function access(registry: TestRegistry): { args: string[]; stdin: string } {
  if (registry.mode === 'plain') return { args: ['--plain-http'], stdin: '' };
  return { args: ['--ca-file', registry.caFile ?? '', '--username', registry.username ?? '', '--password-stdin'], stdin: `${registry.password ?? ''}\n` };
}

/** Runs `work` over `items`, at most `limit` at once (seeding hundreds of repositories, bounded). */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  }));
}

/** Names of the form prefix + 3 digits, in the order a registry lists them (lexical). */
function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
}

/** Reads a response's body from upstream and answers with one byte changed: a registry lying about a blob. */
function lyingBlob(upstream: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(upstream);
    const out = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: { ...req.headers, host: url.host } }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        if (body.length > 0) body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff;
        const headers = { ...up.headers };
        delete headers['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(body.length) });
        res.end(body);
      });
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
}

for (const mode of ['plain', 'token'] as RegistryMode[]) {
  describe(`tags and catalog over many pages (${mode})`, { skip: skipReason, timeout: 300_000 }, () => {
    let registry: TestRegistry;
    let image: SeededImage;
    let proxy: TestProxy;
    let cli: (args: string[], via?: string) => Promise<CliResult>;

    before(async () => {
      registry = await startRegistry(mode);
      image = await registry.seedImage({ repository: 'many/tags', tag: 'base', platform: { os: 'linux', architecture: 'amd64' } });
      // Every tag names the same manifest: one PUT each.
      await eachLimited(names('t', TAGS), 8, async (tag) => {
        const put = await registry.putManifest('many/tags', tag, image.bytes, image.mediaType);
        assert.equal(put.status, 201);
      });
      await eachLimited(names('repo/r', REPOSITORIES), 8, (repository) => registry.seedImage({ repository, tag: '1', platform: { os: 'linux', architecture: 'amd64' } }));
      proxy = await startProxy(registry.url, () => undefined, registry.caFile === undefined ? undefined : { ca: await readFile(registry.caFile, 'utf8') });
      const a = access(registry);
      // Through the proxy (plain HTTP to it) the requests are counted: each page is one GET.
      cli = (args, via) => runCli(via === undefined ? [...a.args, ...args] : ['--plain-http', ...args.map((x) => x.replace(registry.host, via))], { stdin: via === undefined ? a.stdin : '' });
    });
    after(async () => {
      await proxy?.stop();
      await registry?.stop();
    });

    test(`tags lists all ${TAGS + 1} tags, one a line, page by page; the same as skopeo list-tags`, async () => {
      const r = await cli(['tags', '--page-size', '100', `${registry.host}/many/tags`]);
      assert.equal(r.code, 0, r.stderr);
      const listed = r.text.trimEnd().split('\n');
      const expected = [...names('t', TAGS), 'base'].sort();
      assert.deepEqual([...listed].sort(), expected);
      const skopeo = await registry.skopeo('list-tags', [`docker://${registry.host}/many/tags`]);
      assert.equal(skopeo.code, 0, skopeo.stderr);
      assert.deepEqual([...(JSON.parse(skopeo.stdout) as { Tags: string[] }).Tags].sort(), expected);

      const json = await cli(['tags', '--json', '-n', '100', `${registry.host}/many/tags`]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.text), { name: `${registry.host}/many/tags`, tags: listed });
    });

    test('catalog lists every repository across pages of 100, each page one request', async () => {
      const before = proxy.requests.length;
      const r = await cli(['catalog', '-n', '100', registry.host], mode === 'plain' ? proxy.host : undefined);
      assert.equal(r.code, 0, r.stderr);
      const listed = r.text.trimEnd().split('\n');
      assert.deepEqual(listed, [...names('repo/r', REPOSITORIES), 'many/tags'].sort());
      if (mode === 'plain') {
        const pages = proxy.requests.slice(before).filter((q) => q.method === 'GET' && q.url.startsWith('/v2/_catalog'));
        assert.equal(pages.length, 3, pages.map((q) => q.url).join(' '));
        // many/tags sorts first: the first page ends at repo/r098.
        assert.match(pages[1]?.url ?? '', /last=repo%2Fr098/);
      }
      const json = await cli(['catalog', '--json', '--last', 'repo/r250', registry.host]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.text), { registry: registry.host, repositories: ['repo/r251', 'repo/r252', 'repo/r253', 'repo/r254'] });
    });

    if (mode === 'plain') {
      test('tags through a registry that pages by Link (100 a page, as GHCR) still lists every tag', async () => {
        // distribution 2.8 sends every tag at once: this proxy pages its answer the way GHCR does.
        const paging = await startProxy(registry.url, (req) => {
          const url = new URL(req.url ?? '/', 'http://x');
          if (!url.pathname.endsWith('/tags/list')) return undefined;
          return {
            handle: (_req, res) => {
              const out = httpRequest(`${registry.url}${url.pathname}`, (up) => {
                const chunks: Buffer[] = [];
                up.on('data', (c: Buffer) => chunks.push(c));
                up.on('end', () => {
                  const all = (JSON.parse(Buffer.concat(chunks).toString()) as { name: string; tags: string[] });
                  const last = url.searchParams.get('last');
                  const rest = all.tags.sort().filter((t) => last === null || t > last);
                  const page = rest.slice(0, 100);
                  const headers: Record<string, string> = { 'content-type': 'application/json' };
                  if (rest.length > 100) headers.link = `<${url.pathname}?last=${page[page.length - 1] ?? ''}&n=100>; rel="next"`;
                  res.writeHead(200, headers);
                  res.end(JSON.stringify({ name: all.name, tags: page }));
                });
              });
              out.on('error', () => res.destroy());
              out.end();
            },
          };
        });
        try {
          const r = await cli(['tags', `${registry.host}/many/tags`], paging.host);
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.text.trimEnd().split('\n'), [...names('t', TAGS), 'base'].sort());
          assert.equal(paging.requests.filter((q) => q.url.includes('/tags/list')).length, 3);
          const after = await cli(['tags', '--last', 't250', `${registry.host}/many/tags`], paging.host);
          assert.deepEqual(after.text.trimEnd().split('\n'), names('t', TAGS).slice(251));
          // distribution 2.8 itself ignores n and last on a tags list: the names up to --last are left out here.
          const direct = await cli(['tags', '-n', '2', '--last', 't250', `${registry.host}/many/tags`]);
          assert.deepEqual(direct.text.trimEnd().split('\n').sort(), names('t', TAGS).slice(251).sort());
        } finally {
          await paging.stop();
        }
      });

      test('a registry without a catalog: exit 4 and one line saying so; a missing repository\'s tags: exit 4', async () => {
        const none = await startProxy(registry.url, (req) => (req.url?.startsWith('/v2/_catalog') === true
          ? { respond: { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found\n' } } : undefined));
        try {
          assertOneLineError(await cli(['catalog', registry.host], none.host), 4, /has no catalog/);
        } finally {
          await none.stop();
        }
        assertOneLineError(await cli(['tags', `${registry.host}/no/such`]), 4, /not found/);
        assertOneLineError(await cli(['catalog', 'docker.io']), 4, /Docker Hub has no catalog/);
        assertOneLineError(await cli(['catalog', 'http://r.example']), 2, /not a registry host/);
        assertOneLineError(await cli(['tags', '-n', '0', `${registry.host}/many/tags`]), 2, /page-size/);
      });
    } else {
      test('anonymous catalog is refused (exit 3): the catalog scope needs credentials', async () => {
        const r = await runCli(['--ca-file', registry.caFile ?? '', 'catalog', registry.host]);
        assertOneLineError(r, 3, /catalog|requires|refused/);
      });
    }
  });
}

describe('digest and blob get (plain)', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let amd64: SeededImage;
  let arm64: SeededImage;
  let list: SeededManifest;
  let cli: (args: string[]) => Promise<CliResult>;

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-lookups-'));
    amd64 = await registry.seedImage({ repository: 'look/app', tag: '1-amd64', platform: { os: 'linux', architecture: 'amd64' }, layers: 2 });
    arm64 = await registry.seedImage({ repository: 'look/app', tag: '1-arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    list = await registry.seedIndex({ repository: 'look/app', tag: '1', children: [amd64, arm64] });
    cli = (args) => runCli(['--plain-http', ...args]);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('digest prints what skopeo reads, hashed: a list, an image, and with --platform the entry of the list', async () => {
    for (const tag of ['1', '1-amd64']) {
      const r = await cli(['digest', `${registry.host}/look/app:${tag}`]);
      assert.equal(r.code, 0, r.stderr);
      const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/look/app:${tag}`]);
      assert.equal(r.text, `${sha256(raw.stdout)}\n`);
    }
    const raw = JSON.parse((await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/look/app:1`])).stdout) as { manifests: { digest: string; platform: { architecture: string } }[] };
    const r = await cli(['digest', '--platform', 'linux/arm64', '--json', `${registry.host}/look/app:1`]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.text) as { digest: string; resolvedFrom: { digest: string }; platform: { architecture: string } };
    assert.equal(doc.digest, raw.manifests.find((m) => m.platform.architecture === 'arm64')?.digest);
    assert.equal(doc.digest, arm64.digest);
    assert.equal(doc.resolvedFrom.digest, list.digest);
    assertOneLineError(await cli(['digest', '--platform', 'linux/s390x', `${registry.host}/look/app:1`]), 4, /no image for linux\/s390x/);
    assertOneLineError(await cli(['digest', `${registry.host}/look/app:missing`]), 4, /not found/);
  });

  test('digest without Docker-Content-Digest on HEAD reads the manifest and hashes it: the same digest', async () => {
    const strip = await startProxy(registry.url, () => ({ rewriteHeaders: (h) => { delete h['docker-content-digest']; return h; } }));
    try {
      const r = await runCli(['--plain-http', 'digest', '--json', `${strip.host}/look/app:1`]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.text) as { digest: string; source: string };
      assert.deepEqual({ digest: doc.digest, source: doc.source }, { digest: list.digest, source: 'bytes' });
      assert.ok(strip.requests.some((q) => q.method === 'GET' && q.url.endsWith('/manifests/1')));
    } finally {
      await strip.stop();
    }
  });

  test('blob get -o writes the layer skopeo copies, and to stdout the same bytes', async () => {
    const layer = amd64.layers[1];
    assert.ok(layer);
    const file = join(dir, 'layer.tar.gz');
    const r = await cli(['blob', 'get', '--json', '-o', file, `${registry.host}/look/app@${layer.digest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.text), { name: `${registry.host}/look/app`, digest: layer.digest, size: layer.size, path: file });
    const bytes = await readFile(file);
    assert.equal(sha256(bytes), layer.digest);
    const copied = join(dir, 'skopeo-dir');
    const copy = await registry.skopeo('copy', [`docker://${registry.host}/look/app:1-amd64`, `dir:${copied}`]);
    assert.equal(copy.code, 0, copy.stderr);
    assert.deepEqual(await readFile(join(copied, layer.digest.slice('sha256:'.length))), bytes);
    const out = await cli(['blob', 'get', `${registry.host}/look/app@${layer.digest}`]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout, bytes);
  });

  test('blob get refuses a registry that lies about a blob (exit 5), a cut connection (6), Ctrl-C (130): no file left, not even a temporary one', async () => {
    const layer = amd64.layers[0];
    assert.ok(layer);
    const liar = await startProxy(registry.url, (req) => (req.method === 'GET' && req.url?.includes('/blobs/') === true ? { handle: lyingBlob(registry.url) } : undefined));
    const target = join(dir, 'lied');
    await rm(target, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(target);
    try {
      const file = join(target, 'layer.tar.gz');
      assertOneLineError(await runCli(['--plain-http', 'blob', 'get', '-o', file, `${liar.host}/look/app@${layer.digest}`]), 5, /hashes to/);
      assert.deepEqual(await readdir(target), [], 'no file and no temporary file left');
      // An existing file is left as it was.
      await writeFile(file, 'before');
      assertOneLineError(await runCli(['--plain-http', 'blob', 'get', '-o', file, `${liar.host}/look/app@${layer.digest}`]), 5, /hashes to/);
      assert.deepEqual(await readdir(target), ['layer.tar.gz']);
      assert.equal(await readFile(file, 'utf8'), 'before');
      const out = await runCli(['--plain-http', 'blob', 'get', `${liar.host}/look/app@${layer.digest}`]);
      assert.equal(out.code, 5, out.stderr);
    } finally {
      await liar.stop();
    }
    // A connection cut half-way (exit 6), and Ctrl-C while the blob streams (exit 130): no file either way.
    const half = Math.floor(layer.size / 2);
    let stalled: (() => void) | undefined;
    const cutting = await startProxy(registry.url, (req) => (req.method === 'GET' && req.url?.includes('/blobs/') === true ? {
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(layer.size) });
        res.write(Buffer.alloc(half));
        if (stalled === undefined) res.destroy();
        else stalled?.();
      },
    } : undefined));
    try {
      const file = join(target, 'cut.tar.gz');
      assertOneLineError(await runCli(['--plain-http', 'blob', 'get', '-o', file, `${cutting.host}/look/app@${layer.digest}`]), 6, /closed|reading blob/);
      assert.deepEqual(await readdir(target), ['layer.tar.gz']);
      // Now the proxy stalls after half the body; the run is interrupted once the body has started.
      const started = new Promise<void>((resolve) => { stalled = resolve; });
      const interrupted = await runCli(['--plain-http', 'blob', 'get', '-o', file, `${cutting.host}/look/app@${layer.digest}`], {
        onSpawn: (child) => { void started.then(() => child.kill('SIGINT')); },
      });
      assert.equal(interrupted.code, 130, interrupted.stderr);
      assert.deepEqual(await readdir(target), ['layer.tar.gz']);
    } finally {
      await cutting.stop();
    }

    const missing = `sha256:${'0'.repeat(64)}`;
    assertOneLineError(await cli(['blob', 'get', '-o', join(target, 'x'), `${registry.host}/look/app@${missing}`]), 4, /not found/);
    assert.deepEqual(await readdir(target), ['layer.tar.gz']);
    assertOneLineError(await cli(['blob', 'get', `${registry.host}/look/app:1`]), 2, /names no digest/);
  });
});
