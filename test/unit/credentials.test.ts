import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isManifestError } from '../../src/errors.js';
import { loadDefaultCredentials } from '../../src/registry/credentials.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('credentials', () => {
  let dir: string;
  let home: string;
  let binDir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-creds-'));
    home = join(dir, 'home');
    binDir = join(dir, 'bin');
    await mkdir(join(home, '.docker'), { recursive: true });
    await mkdir(join(home, '.config', 'containers'), { recursive: true });
    await mkdir(binDir);
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        'r.example:5000': { auth: b64('alice:pa:ss') },
        'https://oauth.example/v2/': { identitytoken: 'refresh-123' },
        'fields.example': { username: 'bob', password: 'secret' },
        'helped.example': {},
      },
      credHelpers: { 'helped.example': 'fake' },
    }));
    await writeFile(join(home, '.config', 'containers', 'auth.json'), JSON.stringify({
      auths: {
        'quay.io': { auth: b64('quayuser:q1') },
        'quay.io/team': { auth: b64('teamuser:q2') },
        'quay.io/team/app': { auth: b64('appuser:q3') },
      },
    }));
    // A credential helper speaking docker's protocol: server URL on stdin, JSON on stdout.
    const helper = join(binDir, 'docker-credential-fake');
    await writeFile(helper, `#!/bin/sh
read server
case "$server" in
  helped.example) echo '{"ServerURL":"helped.example","Username":"helper-user","Secret":"helper-secret"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"id-token"}' ;;
  *) echo "credentials not found in native keychain" >&2; exit 1 ;;
esac
`);
    await chmod(helper, 0o755);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const store = (extra: Parameters<typeof loadDefaultCredentials>[0] = {}) =>
    loadDefaultCredentials({ env: { PATH: `${binDir}:/usr/bin:/bin` }, homeDir: home, ...extra });

  test('docker config: base64 auth, password containing a colon', async () => {
    assert.deepEqual(await store().get('r.example:5000'), { source: join(home, '.docker', 'config.json'), username: 'alice', password: 'pa:ss' });
  });
  test('docker config: Docker Hub key https://index.docker.io/v1/', async () => {
    assert.equal((await store().get('docker.io'))?.username, 'hubuser');
  });
  test('docker config: username/password fields', async () => {
    assert.equal((await store().get('fields.example'))?.password, 'secret');
  });
  test('docker config: identity token', async () => {
    assert.equal((await store().get('oauth.example'))?.identityToken, 'refresh-123');
  });
  test('credHelpers runs docker-credential-<name> get', async () => {
    const cred = await store().get('helped.example');
    assert.equal(cred?.username, 'helper-user');
    assert.equal(cred?.password, 'helper-secret');
    assert.equal(cred?.source, 'docker-credential-fake');
  });
  test('credsStore is asked, "<token>" user means identity token', async () => {
    const cfg = join(dir, 'store-cfg');
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'fake', auths: { 'token.example': {} } }));
    assert.deepEqual(await store({ dockerConfig: cfg }).get('token.example'), { identityToken: 'id-token', source: 'docker-credential-fake' });
    assert.equal(await store({ dockerConfig: cfg }).get('unknown.example'), undefined);
  });
  test('a missing helper is bad input naming the helper and the config file', async () => {
    const cfg = join(dir, 'missing-helper');
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ credHelpers: { 'x.example': 'nothere' } }));
    await assert.rejects(store({ dockerConfig: cfg }).get('x.example'), (err: unknown) =>
      isManifestError(err) && err.code === 'INVALID_INPUT' && /docker-credential-nothere is not installed, but .*missing-helper\/config\.json names it/.test(err.message));
  });
  test('--docker-cfg naming a missing file is bad input', async () => {
    await assert.rejects(store({ dockerConfig: join(dir, 'absent', 'config.json') }).get('r.example:5000'), (err: unknown) =>
      isManifestError(err) && err.code === 'INVALID_INPUT' && /does not exist/.test(err.message));
  });
  test('podman auth.json: the most specific repository key wins', async () => {
    assert.equal((await store().get('quay.io', 'team/app'))?.username, 'appuser');
    assert.equal((await store().get('quay.io', 'team/other'))?.username, 'teamuser');
    assert.equal((await store().get('quay.io', 'elsewhere/x'))?.username, 'quayuser');
  });
  test('explicit --username/--password apply to their registry only', async () => {
    const s = store({ explicit: { registry: 'r.example:5000', username: 'cli', password: 'clipass' } });
    assert.equal((await s.get('r.example:5000'))?.username, 'cli');
    assert.equal((await s.get('docker.io'))?.username, 'hubuser');
  });
  test('DOCKER_CONFIG replaces ~/.docker; REGISTRY_AUTH_FILE is read', async () => {
    const cfg = join(dir, 'env-cfg');
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { 'r.example:5000': { auth: b64('envuser:x') } } }));
    const authFile = join(dir, 'podman-auth.json');
    await writeFile(authFile, JSON.stringify({ auths: { 'p.example': { auth: b64('podmanuser:y') } } }));
    const s = loadDefaultCredentials({ env: { DOCKER_CONFIG: cfg, REGISTRY_AUTH_FILE: authFile }, homeDir: home });
    assert.equal((await s.get('r.example:5000'))?.username, 'envuser');
    assert.equal((await s.get('p.example'))?.username, 'podmanuser');
    assert.equal(await s.get('docker.io'), undefined, '~/.docker is not read when DOCKER_CONFIG is set');
  });
  test('no files at all: anonymous', async () => {
    assert.equal(await loadDefaultCredentials({ env: {}, homeDir: join(dir, 'nobody') }).get('docker.io'), undefined);
  });

  const malformed: { name: string; content: string; mentions: RegExp }[] = [
    { name: 'not JSON', content: '{"auths": ', mentions: /not valid JSON \(line 1, column 11\)$/ },
    { name: 'not JSON on a later line', content: '{\n  "auths": {\n    "r.example:5000": {"auth": "eDp5"},,\n', mentions: /not valid JSON \(line 3, column 40\)$/ },
    { name: 'auths not an object', content: '{"auths": []}', mentions: /"auths" must be an object/ },
    { name: 'credsStore not a string', content: '{"credsStore": 5}', mentions: /"credsStore" a string/ },
    // Not strings, these would be made into helper names: docker-credential-null, docker-credential-5.
    { name: 'a credHelpers value null', content: '{"credHelpers": {"https://index.docker.io/v1/": null}}', mentions: /"credHelpers" an object of helper names/ },
    { name: 'a credHelpers value an object', content: '{"credHelpers": {"r.example:5000": {}}}', mentions: /"credHelpers" an object of helper names/ },
    { name: 'auth not user:password', content: JSON.stringify({ auths: { 'r.example:5000': { auth: b64('nocolon') } } }), mentions: /not base64/ },
    {
      name: 'auth not user:password under a long key',
      content: JSON.stringify({ auths: { [`${'a'.repeat(10_000)}://r.example:5000`]: { auth: b64('nocolon') } } }),
      mentions: /the "auth" of "a{80}…" is not base64/,
    },
  ];
  for (const c of malformed) {
    test(`malformed config.json (${c.name}) is bad input naming the file`, async () => {
      const cfg = join(dir, `bad-${c.name.replace(/\W+/g, '-')}`);
      await mkdir(cfg, { recursive: true });
      await writeFile(join(cfg, 'config.json'), c.content);
      await assert.rejects(store({ dockerConfig: cfg }).get('r.example:5000'), (err: unknown) =>
        isManifestError(err) && err.code === 'INVALID_INPUT' && err.message.includes(cfg) && c.mentions.test(err.message) && err.message.length < 400);
    });
  }

  // V8's JSON.parse messages quote the text around an unexpected token: a password must not come back in an error.
  const leaky = [
    '{"auths": {"r.example:5000": {"password": hunter2-secret}}}',
    'hunter2-secret',
    `{"auths": {"r.example:5000": {"username": "u", "password": "${'x'.repeat(100)}"}} hunter2-secret}`,
  ];
  for (const content of leaky) {
    test(`invalid JSON is refused without quoting the file (${content.slice(0, 30)}…)`, async () => {
      const file = join(dir, 'leaky.json');
      await writeFile(file, content);
      await assert.rejects(store({ dockerConfig: file }).get('r.example:5000'), (err: unknown) =>
        isManifestError(err) && /is not valid JSON/.test(err.message) && !err.message.includes('hunter2') && err.cause === undefined);
    });
  }
});
