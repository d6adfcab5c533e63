import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Digest } from '../../src/digest.js';
import { isManifestError } from '../../src/errors.js';
import { isLoopbackHost, parseReference, Reference } from '../../src/ref.js';

const D: Digest = `sha256:${'a'.repeat(64)}`;

const valid: { input: string; registry: string; repository: string; tag?: string; digest?: string; canonical: string; apiHost?: string }[] = [
  { input: 'alpine', registry: 'docker.io', repository: 'library/alpine', tag: 'latest', canonical: 'docker.io/library/alpine:latest', apiHost: 'registry-1.docker.io' },
  { input: 'alpine:3.20', registry: 'docker.io', repository: 'library/alpine', tag: '3.20', canonical: 'docker.io/library/alpine:3.20' },
  { input: 'prom/prometheus:v2.53.0', registry: 'docker.io', repository: 'prom/prometheus', tag: 'v2.53.0', canonical: 'docker.io/prom/prometheus:v2.53.0' },
  { input: 'docker.io/alpine', registry: 'docker.io', repository: 'library/alpine', tag: 'latest', canonical: 'docker.io/library/alpine:latest' },
  { input: 'index.docker.io/library/alpine:1', registry: 'docker.io', repository: 'library/alpine', tag: '1', canonical: 'docker.io/library/alpine:1' },
  { input: 'r3gistry:5000/common/prometheus:1.1.3-arm', registry: 'r3gistry:5000', repository: 'common/prometheus', tag: '1.1.3-arm', canonical: 'r3gistry:5000/common/prometheus:1.1.3-arm', apiHost: 'r3gistry:5000' },
  { input: 'localhost/x', registry: 'localhost', repository: 'x', tag: 'latest', canonical: 'localhost/x:latest' },
  { input: 'localhost:5000/a/b/c:t', registry: 'localhost:5000', repository: 'a/b/c', tag: 't', canonical: 'localhost:5000/a/b/c:t' },
  { input: `ghcr.io/org/app@${D}`, registry: 'ghcr.io', repository: 'org/app', digest: D, canonical: `ghcr.io/org/app@${D}` },
  { input: `quay.io/org/app:1.0@${D}`, registry: 'quay.io', repository: 'org/app', tag: '1.0', digest: D, canonical: `quay.io/org/app:1.0@${D}` },
  { input: '[::1]:5000/app:1', registry: '[::1]:5000', repository: 'app', tag: '1', canonical: '[::1]:5000/app:1' },
  { input: '[fe80::1]/app', registry: '[fe80::1]', repository: 'app', tag: 'latest', canonical: '[fe80::1]/app:latest' },
  { input: '127.0.0.1:5000/a_b__c-d--e.f:T_1.x-y', registry: '127.0.0.1:5000', repository: 'a_b__c-d--e.f', tag: 'T_1.x-y', canonical: '127.0.0.1:5000/a_b__c-d--e.f:T_1.x-y' },
  { input: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1', registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'team/app', tag: '1', canonical: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1' },
  { input: 'Example.COM/app', registry: 'Example.COM', repository: 'app', tag: 'latest', canonical: 'Example.COM/app:latest' },
];

describe('parseReference: valid references', () => {
  for (const c of valid) {
    test(c.input, () => {
      const ref = parseReference(c.input);
      assert.equal(ref.registry, c.registry);
      assert.equal(ref.repository, c.repository);
      assert.equal(ref.tag, c.tag);
      assert.equal(ref.digest, c.digest);
      assert.equal(ref.toString(), c.canonical);
      assert.equal(ref.original, c.input);
      if (c.apiHost !== undefined) assert.equal(ref.apiHost, c.apiHost);
      assert.equal(ref.identifier, c.digest ?? c.tag);
    });
  }
});

const invalid: { input: string; mentions: string }[] = [
  { input: '', mentions: 'empty' },
  { input: 'Alpine', mentions: 'lower case' },
  { input: 'r.example/App:1', mentions: 'lower case' },
  { input: 'r.example//app', mentions: 'empty path component' },
  { input: 'r.example/app/', mentions: 'empty path component' },
  { input: 'r.example/app:', mentions: 'tag ""' },
  { input: 'r.example/app:-x', mentions: 'must not start' },
  { input: `r.example/app:${'t'.repeat(129)}`, mentions: 'longer than 128' },
  { input: 'r.example/app@sha256:abc', mentions: 'digest' },
  { input: `r.example/app@md5:${'a'.repeat(32)}`, mentions: 'digest' },
  { input: 'r.example/-app', mentions: 'path component "-app"' },
  { input: 'r.example/a..b', mentions: 'path component' },
  { input: 'r.example/a___b', mentions: 'path component' },
  { input: 'r.example:99999/app', mentions: 'port' },
  { input: 'r.example:0/app', mentions: 'port' },
  { input: 'r.example:x/app', mentions: 'port' },
  { input: '-bad.example/app', mentions: 'host' },
  { input: '[::1/app', mentions: 'unclosed' },
  { input: '[zz::1]:5000/app', mentions: 'IPv6' },
  { input: '[fe80::1%eth0]:5000/app', mentions: 'IPv6' },
  { input: 'https://r.example/app', mentions: 'no scheme' },
  { input: 'r.example/app name', mentions: 'white space' },
  { input: `r.example/${'a'.repeat(250)}`, mentions: 'longer than 255' },
  { input: 'a'.repeat(2000), mentions: 'longer than 1024' },
  { input: ':tag', mentions: 'missing' },
  { input: 'app@constructor:abc', mentions: 'digest "constructor:abc" is invalid' },
  { input: 'app@__proto__:abc', mentions: 'digest "__proto__:abc" is invalid' },
];

describe('parseReference: invalid references exit 2 naming the bad part', () => {
  for (const c of invalid) {
    test(JSON.stringify(c.input.slice(0, 60)), () => {
      assert.throws(() => parseReference(c.input), (err: unknown) => {
        assert.ok(isManifestError(err));
        assert.equal(err.code, 'INVALID_REFERENCE');
        assert.match(err.message, new RegExp(c.mentions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        assert.ok(err.message.length < 400, 'one readable line');
        return true;
      });
    });
  }
});

describe('parseReference: messages quote the input on one line', () => {
  test('control and invisible characters are escaped', () => {
    assert.throws(() => parseReference('r.example/app\nmanifest: forged\u202e'), (err: unknown) =>
      isManifestError(err) && err.message.startsWith('invalid reference "r.example/app\\nmanifest: forged\\u202e": '));
  });
  test('credentials typed URL-style before the host are not echoed', () => {
    assert.throws(() => parseReference('admin:hunter2@r.example/app:1'), (err: unknown) =>
      isManifestError(err) && err.message.startsWith('invalid reference "[redacted]@r.example/app:1": ') && !err.message.includes('hunter2'));
    assert.throws(() => parseReference('app:1@sha256:abc'), (err: unknown) => isManifestError(err) && err.message.includes('"app:1@sha256:abc"'));
  });
});

describe('parseReference: hostile inputs finish (no catastrophic backtracking)', () => {
  // Shapes that made the old distribution name pattern backtrack; each must be refused or parsed, never hang.
  const hostile = [
    `r.example/${'a-'.repeat(5000)}!`,
    `r.example/${'a'.repeat(10_000)}-`,
    `${'a.'.repeat(6000)}/x`,
    `r.example/app:${'a'.repeat(20_000)}`,
    `${'[:'.repeat(5000)}`,
    `r.example/${'a_'.repeat(6000)}__-`,
    `r.example/${'a-'.repeat(15)}-!`,
    `r.example/${'a-'.repeat(400)}!`,
    `r.example/${'a'.repeat(900)}__-_.`,
    `${'a'.repeat(60)}.${'b-'.repeat(300)}!/x`,
    '/'.repeat(12_000),
    '@'.repeat(12_000),
  ];
  for (const input of hostile) {
    test(`${input.slice(0, 24)}… (${input.length} chars)`, { timeout: 20_000 }, () => {
      assert.throws(() => parseReference(input), (err: unknown) => isManifestError(err) && err.code === 'INVALID_REFERENCE');
    });
  }
  test('a long component just under the caps parses', { timeout: 20_000 }, () => {
    const name = `r.example/${'a-b'.repeat(80)}`;
    assert.equal(parseReference(name).repository, 'a-b'.repeat(80));
  });
});

test('the Reference constructor checks its parts', () => {
  assert.throws(() => new Reference({ registry: 'r.example', repository: 'App' }), (err: unknown) => isManifestError(err) && err.code === 'INVALID_REFERENCE');
  assert.throws(() => new Reference({ registry: 'bad host', repository: 'app' }), (err: unknown) => isManifestError(err) && err.code === 'INVALID_REFERENCE');
  assert.throws(() => new Reference({ registry: 'r.example', repository: 'app', tag: '../x' }), (err: unknown) => isManifestError(err) && err.code === 'INVALID_REFERENCE');
});

test('withDigest and withTag keep the repository', () => {
  const ref = parseReference('r.example/app:1');
  assert.equal(ref.withDigest(D).toString(), `r.example/app@${D}`);
  assert.equal(ref.withTag('2').toString(), 'r.example/app:2');
  assert.throws(() => ref.withTag('bad tag'), (err: unknown) => isManifestError(err) && err.code === 'INVALID_REFERENCE');
});

test('isLoopbackHost knows loopback registries, with or without a port', () => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:443', '[::1]', '[::1]:5000', '::1', 'LOCALHOST:1']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['r.example', '10.0.0.1:5000', '127.example.com', 'localhost.example', '[::2]:5000']) assert.ok(!isLoopbackHost(host), host);
});
