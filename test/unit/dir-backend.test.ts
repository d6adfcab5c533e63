// The dir: store's backend on roots it cannot use: one error, never a hang.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirBackend } from '../../src/store/dir-backend.js';
import { rejectsWith } from '../helpers/rejects.js';

test('a root on a file system that refuses directories (/proc) fails once, not in an endless mkdir', { skip: existsSync('/proc/self') ? false : 'no /proc here' }, async () => {
  await rejectsWith(new DirBackend('/proc/manifest-www').write('v2/x/blobs/a', new Uint8Array([1]), { contentType: 'application/octet-stream', size: 1 }), 'UNAVAILABLE', /writing v2\/x\/blobs\/a in dir:\/proc\/manifest-www: ENOENT/);
});

test('missing parents of a writable root are created', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'manifest-dir-backend-'));
  try {
    await new DirBackend(join(dir, 'a', 'b')).write('v2/x/blobs/c', new Uint8Array([7]), { contentType: 'application/octet-stream', size: 1 });
    assert.deepEqual([...await readFile(join(dir, 'a', 'b', 'v2', 'x', 'blobs', 'c'))], [7]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
