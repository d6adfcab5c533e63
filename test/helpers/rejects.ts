// An assertion on the ManifestError a call fails with.
import assert from 'node:assert/strict';
import { isManifestError, type ErrorCode } from '../../src/errors.js';

/** Asserts that `promise` rejects with a ManifestError of `code` whose message matches `pattern` (when given). */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isManifestError(err), `expected a ManifestError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  });
}
