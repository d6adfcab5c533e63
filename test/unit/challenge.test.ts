import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseChallenges } from '../../src/registry/challenge.js';

describe('parseChallenges', () => {
  const cases: { name: string; input: string | string[]; expected: object[] }[] = [
    {
      name: 'Docker Hub bearer',
      input: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      expected: [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }],
    },
    {
      name: 'quoted commas in scope',
      input: 'Bearer realm="https://r/token", service="r", scope="repository:a:pull,push"',
      expected: [{ scheme: 'bearer', params: { realm: 'https://r/token', service: 'r', scope: 'repository:a:pull,push' } }],
    },
    {
      name: 'two challenges in one header',
      input: 'Basic realm="Registry Realm", Bearer realm="https://t/token",service="s"',
      expected: [
        { scheme: 'basic', params: { realm: 'Registry Realm' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
      ],
    },
    {
      name: 'two headers',
      input: ['Basic realm="a"', 'Bearer realm="b"'],
      expected: [{ scheme: 'basic', params: { realm: 'a' } }, { scheme: 'bearer', params: { realm: 'b' } }],
    },
    {
      name: 'escaped quote and unquoted values, case-insensitive names',
      input: 'BEARER Realm="a\\"b", Error=insufficient_scope',
      expected: [{ scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } }],
    },
    { name: 'token68', input: 'Negotiate abc==', expected: [{ scheme: 'negotiate', params: { token68: 'abc==' } }] },
    {
      name: 'token68 without padding, then another challenge',
      input: 'Negotiate abc, Bearer realm="x"',
      expected: [{ scheme: 'negotiate', params: { token68: 'abc' } }, { scheme: 'bearer', params: { realm: 'x' } }],
    },
    { name: 'empty', input: '', expected: [] },
    { name: 'scheme only', input: 'Basic', expected: [{ scheme: 'basic', params: {} }] },
    { name: 'garbage is skipped', input: ';;; Basic realm="x"', expected: [{ scheme: 'basic', params: { realm: 'x' } }] },
    // Where an unterminated realm ends is a guess: the challenge is dropped rather than credentials sent to it.
    { name: 'unterminated quote', input: 'Bearer realm="https://x', expected: [] },
    { name: 'unterminated quote in a later challenge', input: 'Basic realm="r", Bearer realm="https://x, service=y', expected: [{ scheme: 'basic', params: { realm: 'r' } }] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(parseChallenges(c.input), c.expected));

  test('hostile headers finish', { timeout: 20_000 }, () => {
    for (const input of ['"'.repeat(100_000), 'a='.repeat(50_000), ',='.repeat(50_000), `Bearer ${'realm="x",'.repeat(10_000)}`]) {
      assert.ok(Array.isArray(parseChallenges(input)));
    }
  });
});
