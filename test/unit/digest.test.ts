import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDigest, parseDigest } from '../../src/digest.js';
import { isManifestError } from '../../src/errors.js';

describe('digests', () => {
  test('accepts the algorithms go-digest registers', () => {
    assert.ok(isDigest(`sha256:${'a'.repeat(64)}`));
    assert.ok(isDigest(`sha512:${'0'.repeat(128)}`));
  });

  // The algorithm comes from input: names of Object's own properties must be unknown algorithms, not a TypeError.
  for (const algorithm of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    test(`"${algorithm}:…" is an unsupported algorithm`, () => {
      assert.equal(isDigest(`${algorithm}:${'a'.repeat(64)}`), false);
      assert.throws(() => parseDigest(`${algorithm}:abc`), (err: unknown) =>
        isManifestError(err) && err.code === 'INVALID_INPUT' && err.message.includes(`unsupported algorithm "${algorithm}"`));
    });
  }
});
