import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isManifestError } from '../../src/errors.js';
import { formatPlatform, normalizePlatform, parsePlatform, platformMatches, validatePlatform } from '../../src/platform.js';

describe('parsePlatform', () => {
  const cases: { input: string; expected: object }[] = [
    { input: 'linux/amd64', expected: { os: 'linux', architecture: 'amd64' } },
    { input: 'linux/arm64', expected: { os: 'linux', architecture: 'arm64' } },
    { input: 'linux/arm64/v8', expected: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { input: 'linux/arm/v7', expected: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { input: 'linux/aarch64', expected: { os: 'linux', architecture: 'arm64' } },
    { input: 'linux/x86_64', expected: { os: 'linux', architecture: 'amd64' } },
    { input: 'linux/armhf', expected: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { input: 'Linux/PPC64LE', expected: { os: 'linux', architecture: 'ppc64le' } },
    { input: 'windows(10.0.17763.5830)/amd64', expected: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5830' } },
  ];
  for (const c of cases) test(c.input, () => assert.deepEqual(parsePlatform(c.input), c.expected));

  const bad: { input: string; mentions: RegExp }[] = [
    { input: 'linux', mentions: /os\/architecture/ },
    { input: 'linux/', mentions: /os\/architecture/ },
    { input: 'linux/arm/v7/x', mentions: /os\/architecture/ },
    { input: 'linx/amd64', mentions: /unknown os "linx"/ },
    { input: 'linux/amd65', mentions: /unknown architecture "amd65"/ },
    { input: 'linux/arm/v9', mentions: /variant "v9"/ },
    { input: 'linux/arm64/v7', mentions: /variant "v7"/ },
    { input: 'linux/s390x/v1', mentions: /no variants/ },
    { input: 'x'.repeat(300), mentions: /longer than 256/ },
    // Names of Object's own properties are unknown architectures, not aliases found on the prototype.
    { input: 'linux/constructor', mentions: /unknown architecture "constructor"/ },
    { input: 'linux/__proto__', mentions: /unknown architecture "__proto__"/ },
  ];
  for (const c of bad) {
    test(`refuses ${c.input.slice(0, 30)}`, () => {
      assert.throws(() => parsePlatform(c.input), (err: unknown) => isManifestError(err) && err.code === 'INVALID_PLATFORM' && c.mentions.test(err.message));
    });
  }
});

describe('validatePlatform', () => {
  test('quotes long fields clipped: a spec\'s platform has no length limit, a message is one line', () => {
    const os = 'x'.repeat(100_000);
    assert.throws(() => validatePlatform({ os, architecture: 'amd64' }), (err: unknown) =>
      isManifestError(err) && err.code === 'INVALID_PLATFORM' && /unknown os "x+…"/.test(err.message) && err.message.length < 300);
  });
  test('normalizes no alias from the prototype', () => {
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'constructor' }), { os: 'linux', architecture: 'constructor' });
  });
});

describe('platformMatches', () => {
  const cases: { wanted: string; have: object; matches: boolean }[] = [
    { wanted: 'linux/arm64', have: { os: 'linux', architecture: 'arm64', variant: 'v8' }, matches: true },
    { wanted: 'linux/arm64/v8', have: { os: 'linux', architecture: 'arm64' }, matches: true },
    { wanted: 'linux/arm/v7', have: { os: 'linux', architecture: 'arm' }, matches: true },
    { wanted: 'linux/arm/v6', have: { os: 'linux', architecture: 'arm', variant: 'v7' }, matches: false },
    { wanted: 'linux/arm', have: { os: 'linux', architecture: 'arm', variant: 'v6' }, matches: true },
    { wanted: 'linux/amd64', have: { os: 'windows', architecture: 'amd64' }, matches: false },
  ];
  for (const c of cases) {
    test(`${c.wanted} vs ${formatPlatform(c.have as never)}`, () => assert.equal(platformMatches(parsePlatform(c.wanted), c.have as never), c.matches));
  }
});
