// Client behaviour over undici's MockAgent (unit level only; the same behaviours run against a real registry in
// test/integration).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { MockAgent } from 'undici';
import { isManifestError, type ErrorCode } from '../../src/errors.js';
import { MEDIA_TYPE_DOCKER_MANIFEST } from '../../src/media-types.js';
import { parseReference } from '../../src/ref.js';
import { RegistryClient } from '../../src/registry/client.js';
import { StaticCredentials, type Credential } from '../../src/registry/credentials.js';
import { retryAfterMs, Transport } from '../../src/registry/transport.js';
import { parseManifest } from '../../src/manifest/parse.js';
import { rejectsWith } from '../helpers/rejects.js';

const REG = 'https://r.example';
const manifestBytes = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MEDIA_TYPE_DOCKER_MANIFEST,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 10 },
  layers: [],
}, null, 2));
const digest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}` as const;

function setup(credential?: Credential): { agent: MockAgent; client: RegistryClient } {
  const agent = new MockAgent();
  agent.disableNetConnect();
  // Retries keep their policy, with delays short enough for a unit test.
  const transport = new Transport({ dispatcher: agent, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const client = new RegistryClient({
    transport,
    ...(credential === undefined ? {} : { credentials: new StaticCredentials('r.example', credential) }),
  });
  return { agent, client };
}

const manifestHeaders = { 'content-type': MEDIA_TYPE_DOCKER_MANIFEST, 'docker-content-digest': digest };

describe('RegistryClient over MockAgent', () => {
  test('anonymous bearer: 401, token, retry; later calls send the cached token up front', async () => {
    const { agent, client } = setup();
    const pool = agent.get(REG);
    pool.intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token",service="r.example",scope="repository:app:pull"' } });
    let tokenRequests = 0;
    agent.get('https://auth.example').intercept({ path: (p) => p.startsWith('/token?'), method: 'GET' }).reply((opts) => {
      tokenRequests++;
      const url = new URL(opts.path, 'https://auth.example');
      assert.equal(url.searchParams.get('service'), 'r.example');
      assert.deepEqual(url.searchParams.getAll('scope'), ['repository:app:pull']);
      assert.equal((opts.headers as Record<string, string>).authorization, undefined, 'anonymous');
      return { statusCode: 200, data: JSON.stringify({ token: 'tok-1', expires_in: 300 }) };
    });
    const seen: (string | undefined)[] = [];
    pool.intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply((opts) => {
      seen.push((opts.headers as Record<string, string>).authorization);
      return { statusCode: 200, data: manifestBytes, responseOptions: { headers: manifestHeaders } };
    }).times(2);
    const first = await client.getManifest(parseReference('r.example/app:1'));
    assert.equal(first.digest, digest);
    await client.getManifest(parseReference('r.example/app:1'));
    assert.deepEqual(seen, ['Bearer tok-1', 'Bearer tok-1']);
    assert.equal(tokenRequests, 1);
    agent.assertNoPendingInterceptors();
  });

  test('basic auth: credentials sent after the challenge', async () => {
    const { agent, client } = setup({ username: 'u', password: 'p', source: 'test' });
    const pool = agent.get(REG);
    pool.intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(401, '', { headers: { 'www-authenticate': 'Basic realm="r"' } });
    pool.intercept({ path: '/v2/app/manifests/1', method: 'GET', headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } })
      .reply(200, manifestBytes, { headers: manifestHeaders });
    assert.equal((await client.getManifest(parseReference('r.example/app:1'))).size, manifestBytes.length);
  });

  test('bearer with credentials and a refused password: UNAUTHORIZED naming the source', async () => {
    const { agent, client } = setup({ username: 'u', password: 'wrong', source: '~/.docker/config.json' });
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token",service="s"' } });
    agent.get('https://auth.example').intercept({ path: (p) => p.startsWith('/token?') && p.includes('account=u'), method: 'GET' })
      .reply(401, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad password' }] }));
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'UNAUTHORIZED', /~\/\.docker\/config\.json/);
  });

  test('identity token: OAuth2 refresh_token grant by POST', async () => {
    const { agent, client } = setup({ identityToken: 'refresh-1', source: 'test' });
    const pool = agent.get(REG);
    pool.intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token",service="s"' } });
    agent.get('https://auth.example').intercept({ path: '/token', method: 'POST' }).reply((opts) => {
      const form = new URLSearchParams(opts.body as string);
      assert.equal(form.get('grant_type'), 'refresh_token');
      assert.equal(form.get('refresh_token'), 'refresh-1');
      assert.equal(form.get('scope'), 'repository:app:pull');
      return { statusCode: 200, data: JSON.stringify({ access_token: 'acc-1' }) };
    });
    pool.intercept({ path: '/v2/app/manifests/1', method: 'GET', headers: { authorization: 'Bearer acc-1' } })
      .reply(200, manifestBytes, { headers: manifestHeaders });
    await client.getManifest(parseReference('r.example/app:1'));
  });

  test('credentials are not sent to a plain-http realm on another host', async () => {
    const { agent, client } = setup({ username: 'u', password: 'p', source: 'test' });
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token"' } });
    agent.get('http://evil.example').intercept({ path: (p) => p.startsWith('/token'), method: 'GET' }).reply((opts) => {
      assert.equal((opts.headers as Record<string, string>).authorization, undefined);
      return { statusCode: 200, data: JSON.stringify({ token: 'anon' }) };
    });
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET', headers: { authorization: 'Bearer anon' } })
      .reply(200, manifestBytes, { headers: manifestHeaders });
    await client.getManifest(parseReference('r.example/app:1'));
  });

  test('a Docker-Content-Digest that does not match the bytes is DIGEST_MISMATCH naming both', async () => {
    const { agent, client } = setup();
    const lie = `sha256:${'0'.repeat(64)}`;
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(200, manifestBytes, { headers: { ...manifestHeaders, 'docker-content-digest': lie } });
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'DIGEST_MISMATCH', new RegExp(`${lie}.*${digest}`));
  });

  test('bytes that do not hash to the requested digest are DIGEST_MISMATCH', async () => {
    const { agent, client } = setup();
    const wanted = `sha256:${'1'.repeat(64)}`;
    agent.get(REG).intercept({ path: `/v2/app/manifests/${wanted}`, method: 'GET' })
      .reply(200, manifestBytes, { headers: { 'content-type': MEDIA_TYPE_DOCKER_MANIFEST } });
    await rejectsWith(client.getManifest(parseReference(`r.example/app@${wanted}`)), 'DIGEST_MISMATCH');
  });

  test('a manifest over 4 MiB is TOO_LARGE, by Content-Length or by counting', async () => {
    const { agent, client } = setup();
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(200, big, { headers: { 'content-type': MEDIA_TYPE_DOCKER_MANIFEST } });
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'TOO_LARGE');
  });

  const statuses: { status: number; body: string; code: ErrorCode; pattern: RegExp }[] = [
    { status: 404, body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }), code: 'NOT_FOUND', pattern: /404 MANIFEST_UNKNOWN \(manifest unknown\)/ },
    { status: 403, body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }), code: 'DENIED', pattern: /denied/ },
    { status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', code: 'UNAVAILABLE', pattern: /502 502 Bad Gateway/ },
    { status: 429, body: JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'rate limit' }] }), code: 'UNAVAILABLE', pattern: /TOOMANYREQUESTS/ },
    { status: 400, body: 'Client sent an HTTP request to an HTTPS server.', code: 'REJECTED', pattern: /400/ },
  ];
  for (const c of statuses) {
    test(`status ${c.status} is ${c.code}`, async () => {
      const { agent, client } = setup();
      // Retryable statuses are answered the same way on every one of the five attempts.
      agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(c.status, c.body).times(5);
      await rejectsWith(client.getManifest(parseReference('r.example/app:1')), c.code, c.pattern);
    });
  }

  describe('retries', () => {
    const manifestReply = (agent: MockAgent): void => {
      agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(200, manifestBytes, { headers: manifestHeaders });
    };

    for (const status of [408, 429, 500, 502, 503, 504]) {
      test(`a ${status} is tried again and the next answer is used`, async () => {
        const { agent, client } = setup();
        agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(status, '');
        manifestReply(agent);
        const fetched = await client.getManifest(parseReference('r.example/app:1'));
        assert.equal(fetched.digest, digest);
      });
    }

    test('rate limiting that outlasts the retries says when the registry allows more requests', async () => {
      const { agent, client } = setup();
      agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' })
        .reply(429, JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'pull rate limit' }] }), { headers: { 'retry-after': '120' } }).times(5);
      await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'UNAVAILABLE', /429 TOOMANYREQUESTS \(pull rate limit\) \(rate limited; the registry allows more requests in 120 s, at 20[0-9-]+T/);
    });

    test('a connection reset is tried again', async () => {
      const { agent, client } = setup();
      agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      manifestReply(agent);
      assert.equal((await client.getManifest(parseReference('r.example/app:1'))).digest, digest);
    });

    test('a connection that breaks while the body arrives sends the request again (a real socket on loopback)', async () => {
      let served = 0;
      const server = createServer((req, res) => {
        served++;
        res.writeHead(200, { 'content-length': String(manifestBytes.length), ...manifestHeaders });
        if (served === 1) {
          // Headers and half the body, then the connection is cut: after the headers, so send cannot retry it.
          res.write(manifestBytes.subarray(0, 20), () => { res.socket?.destroy(); });
          return;
        }
        res.end(manifestBytes);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = new RegistryClient({ transport: new Transport({ plainHttpHosts: [host], retry: { baseDelayMs: 1, maxDelayMs: 5 } }) });
      try {
        assert.equal((await client.getManifest(parseReference(`${host}/app:1`))).digest, digest);
        assert.equal(served, 2);
      } finally {
        await client.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test('plain HTTP to an HTTPS port behind nginx is named, for a HEAD (no body to read) as for a GET', async () => {
      const asked: string[] = [];
      const server = createServer((req, res) => {
        asked.push(`${req.method ?? ''} ${req.headers.authorization ?? ''}`);
        res.writeHead(400, { 'content-type': 'text/html' });
        res.end('<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = new RegistryClient({ transport: new Transport({ plainHttpHosts: [host], retry: { baseDelayMs: 1, maxDelayMs: 5 } }) });
      try {
        await rejectsWith(client.getManifest(parseReference(`${host}/app:1`)), 'TLS', /speaks HTTPS, but plain HTTP was used/);
        await rejectsWith(client.headManifest(parseReference(`${host}/app:1`)), 'TLS', /speaks HTTPS, but plain HTTP was used/);
        // The HEAD was followed by one GET to read why, sent without credentials.
        assert.deepEqual(asked, ['GET ', 'HEAD ', 'GET ']);
      } finally {
        await client.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test('a refused connection fails at once (a registry that is down is not waited for)', async () => {
      const { agent, client } = setup();
      agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      manifestReply(agent);
      await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'UNAVAILABLE', /refused/);
    });

    test('4xx answers other than 408 and 429 are not tried again', async () => {
      const { agent, client } = setup();
      agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(404, '');
      manifestReply(agent);
      await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'NOT_FOUND');
    });

    test('a POST that did not say it is idempotent is sent once', async () => {
      const agent = new MockAgent();
      agent.disableNetConnect();
      const transport = new Transport({ dispatcher: agent, retry: { baseDelayMs: 1 } });
      agent.get(REG).intercept({ path: '/v2/app/blobs/uploads/', method: 'POST' }).reply(503, '');
      agent.get(REG).intercept({ path: '/v2/app/blobs/uploads/', method: 'POST' }).reply(202, '');
      const response = await transport.send({ method: 'POST', url: `${REG}/v2/app/blobs/uploads/` });
      await response.body.dump();
      assert.equal(response.status, 503);
      const again = await transport.send({ method: 'POST', url: `${REG}/v2/app/blobs/uploads/`, idempotent: true });
      await again.body.dump();
      assert.equal(again.status, 202);
    });

    test('Retry-After is honoured: seconds and HTTP dates, capped by maxDelayMs', () => {
      const now = Date.parse('2026-11-23T12:00:00Z');
      assert.equal(retryAfterMs('2', now), 2000);
      assert.equal(retryAfterMs('Mon, 23 Nov 2026 12:00:03 GMT', now), 3000);
      assert.equal(retryAfterMs('Mon, 23 Nov 2026 11:00:00 GMT', now), 0);
      assert.equal(retryAfterMs('soon', now), undefined);
      assert.equal(retryAfterMs(undefined, now), undefined);
    });

    test('the wait follows Retry-After (within the cap), then the request succeeds', async () => {
      const agent = new MockAgent();
      agent.disableNetConnect();
      const lines: string[] = [];
      const transport = new Transport({
        dispatcher: agent,
        retry: { baseDelayMs: 1, maxDelayMs: 20 },
        logger: { debug: (m) => lines.push(m), warn: () => undefined },
      });
      agent.get(REG).intercept({ path: '/v2/', method: 'GET' }).reply(429, '', { headers: { 'retry-after': '3600' } });
      agent.get(REG).intercept({ path: '/v2/', method: 'GET' }).reply(200, '');
      const response = await transport.send({ method: 'GET', url: `${REG}/v2/` });
      await response.body.dump();
      assert.equal(response.status, 200);
      assert.ok(lines.some((l) => /429; trying again in 20 ms \(attempt 2 of 5\)/.test(l)), lines.join('\n'));
    });

    test('an abort during the wait stops at once with ABORTED; a deadline with TIMEOUT', async () => {
      for (const [signal, code] of [[AbortSignal.abort(), 'ABORTED'], [AbortSignal.timeout(5), 'TIMEOUT']] as const) {
        const agent = new MockAgent();
        agent.disableNetConnect();
        const transport = new Transport({ dispatcher: agent, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 } });
        agent.get(REG).intercept({ path: '/v2/', method: 'GET' }).reply(503, '').times(5);
        await rejectsWith(transport.send({ method: 'GET', url: `${REG}/v2/`, signal }), code);
      }
    });
  });

  test('a blob redirected to another origin carries no Authorization', async () => {
    const { agent, client } = setup({ username: 'u', password: 'p', source: 'test' });
    const blob = Buffer.from('{"os":"linux","architecture":"arm64"}');
    const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}` as const;
    const pool = agent.get(REG);
    pool.intercept({ path: `/v2/app/blobs/${blobDigest}`, method: 'GET' }).reply(401, '', { headers: { 'www-authenticate': 'Basic realm="r"' } });
    pool.intercept({ path: `/v2/app/blobs/${blobDigest}`, method: 'GET' })
      .reply(307, '', { headers: { location: 'https://cdn.example/blob?X-Amz-Signature=abc' } });
    agent.get('https://cdn.example').intercept({ path: (p) => p.startsWith('/blob'), method: 'GET' }).reply((opts) => {
      assert.equal((opts.headers as Record<string, string>).authorization, undefined, 'no credentials to the CDN');
      return { statusCode: 200, data: blob };
    });
    assert.deepEqual(Buffer.from(await client.getBlob(parseReference('r.example/app:1'), blobDigest)), blob);
  });

  test('a redirect target that answers 401 gets no credentials and no challenge answered', async () => {
    const { agent, client } = setup({ username: 'u', password: 'p', source: 'test' });
    const blobDigest = `sha256:${'4'.repeat(64)}` as const;
    agent.get(REG).intercept({ path: `/v2/app/blobs/${blobDigest}`, method: 'GET' }).reply(307, '', { headers: { location: 'https://other.example/blob' } });
    agent.get('https://other.example').intercept({ path: '/blob', method: 'GET' }).reply((opts) => {
      assert.equal((opts.headers as Record<string, string>).authorization, undefined);
      return { statusCode: 401, data: '', responseOptions: { headers: { 'www-authenticate': 'Basic realm="gimme"' } } };
    });
    await rejectsWith(client.getBlob(parseReference('r.example/app:1'), blobDigest), 'UNAUTHORIZED', /redirected to https:\/\/other\.example\/blob, which asks for credentials/);
    agent.assertNoPendingInterceptors();
  });

  test('an https registry whose realm is plain http on the same host gets no credentials sent there', async () => {
    const { agent, client } = setup({ username: 'u', password: 'p', source: 'test' });
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="http://r.example/token"' } });
    agent.get('http://r.example').intercept({ path: (p) => p.startsWith('/token'), method: 'GET' }).reply((opts) => {
      assert.equal((opts.headers as Record<string, string>).authorization, undefined, 'no credentials in clear text');
      return { statusCode: 200, data: JSON.stringify({ token: 'anon' }) };
    });
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET', headers: { authorization: 'Bearer anon' } })
      .reply(200, manifestBytes, { headers: manifestHeaders });
    await client.getManifest(parseReference('r.example/app:1'));
  });

  test('a 3xx that is not a redirect is INVALID_RESPONSE', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(304, '');
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'INVALID_RESPONSE', /unexpected status 304/);
  });

  test('NAME_UNKNOWN says the repository is missing; MANIFEST_UNKNOWN says the tag is', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(404, JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'NOT_FOUND', /^repository r\.example\/app not found: /);
    agent.get(REG).intercept({ path: '/v2/app/manifests/2', method: 'GET' }).reply(404, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    await rejectsWith(client.getManifest(parseReference('r.example/app:2')), 'NOT_FOUND', /^tag 2 not found in r\.example\/app: /);
  });

  test('a redirect from https to http is refused', async () => {
    const { agent, client } = setup();
    const blobDigest = `sha256:${'2'.repeat(64)}` as const;
    agent.get(REG).intercept({ path: `/v2/app/blobs/${blobDigest}`, method: 'GET' }).reply(302, '', { headers: { location: 'http://cdn.example/blob' } });
    await rejectsWith(client.getBlob(parseReference('r.example/app:1'), blobDigest), 'REJECTED', /https to http/);
  });

  test('a blob whose bytes do not match its digest is DIGEST_MISMATCH', async () => {
    const { agent, client } = setup();
    const blobDigest = `sha256:${'3'.repeat(64)}` as const;
    agent.get(REG).intercept({ path: `/v2/app/blobs/${blobDigest}`, method: 'GET' }).reply(200, 'not it');
    await rejectsWith(client.getBlob(parseReference('r.example/app:1'), blobDigest), 'DIGEST_MISMATCH');
  });

  test('a config read by digest is read once per repository (a batch sharing sources)', async () => {
    const { agent, client } = setup();
    const config = Buffer.from('{"architecture":"arm64","os":"linux"}');
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}` as const;
    agent.get(REG).intercept({ path: `/v2/app/blobs/${configDigest}`, method: 'GET' }).reply(200, config);
    agent.get(REG).intercept({ path: `/v2/other/blobs/${configDigest}`, method: 'GET' }).reply(200, config);
    for (let i = 0; i < 3; i++) assert.deepEqual(Buffer.from(await client.getBlob(parseReference('r.example/app:1'), configDigest)), config);
    // Another repository is asked again: the cache never stands in for an access check.
    assert.deepEqual(Buffer.from(await client.getBlob(parseReference('r.example/other:1'), configDigest)), config);
    agent.assertNoPendingInterceptors();
  });

  test('a token response without a token is INVALID_RESPONSE', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token"' } });
    agent.get('https://auth.example').intercept({ path: (p) => p.startsWith('/token'), method: 'GET' }).reply(200, '{"nope":1}');
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'INVALID_RESPONSE', /without a token/);
  });

  test('Basic challenge with no credentials: UNAUTHORIZED', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: '/v2/app/manifests/1', method: 'GET' }).reply(401, '', { headers: { 'www-authenticate': 'Basic realm="r"' } });
    await rejectsWith(client.getManifest(parseReference('r.example/app:1')), 'UNAUTHORIZED', /none were found/);
  });
});

describe('parseManifest', () => {
  const fetched = (body: unknown, contentType = ''): Parameters<typeof parseManifest>[0] => {
    const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, contentType, size: bytes.length };
  };
  const cases: { name: string; body: unknown; contentType?: string; code: ErrorCode; pattern: RegExp }[] = [
    { name: 'schema 1', body: { schemaVersion: 1, name: 'x', fsLayers: [] }, code: 'UNSUPPORTED', pattern: /schema 1/ },
    { name: 'schema 1 by type', body: { schemaVersion: 2 }, contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws', code: 'UNSUPPORTED', pattern: /schema 1/ },
    { name: 'HTML', body: '<html>oops</html>', code: 'INVALID_RESPONSE', pattern: /HTML/ },
    { name: 'array', body: [], code: 'INVALID_RESPONSE', pattern: /not a JSON object/ },
    { name: 'unknown type', body: { schemaVersion: 2, mediaType: 'application/x-thing' }, code: 'UNSUPPORTED', pattern: /unsupported manifest type "application\/x-thing"/ },
    { name: 'bad digest in entry', body: { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] }, code: 'INVALID_RESPONSE', pattern: /manifests\[0\]\.digest/ },
    { name: 'negative size', body: { schemaVersion: 2, config: { mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: -1 }, layers: [] }, code: 'INVALID_RESPONSE', pattern: /config\.size/ },
    { name: 'terminal escapes in a platform', body: { schemaVersion: 2, manifests: [{ mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1, platform: { os: 'linux\u001b[2J', architecture: 'amd64' } }] }, code: 'INVALID_RESPONSE', pattern: /platform\.os must be a short identifier/ },
    { name: 'platform without os', body: { schemaVersion: 2, manifests: [{ mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1, platform: { architecture: 'amd64' } }] }, code: 'INVALID_RESPONSE', pattern: /platform/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(() => parseManifest(fetched(c.body, c.contentType)), (err: unknown) => isManifestError(err) && err.code === c.code && c.pattern.test(err.message));
    });
  }
  test('an OCI index without mediaType is recognised by its shape', () => {
    const m = parseManifest(fetched({ schemaVersion: 2, manifests: [] }));
    assert.equal(m.kind, 'index');
    assert.equal(m.mediaType, 'application/vnd.oci.image.index.v1+json');
  });
});
