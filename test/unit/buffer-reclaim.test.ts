// Prompt freeing of streamed buffers (src/buffer-reclaim.ts): a young-generation collection every
// RECLAIM_EVERY_BYTES once the CLI enabled it, none before, and no `gc` leaking into the program's global.
// node --test runs each file in a process of its own, so enabling it here touches no other test.
import { strict as assert } from 'node:assert';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Transform } from 'node:stream';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { hashingStream } from '../../src/archive/hash-stream.js';
import { enableBufferReclaim, noteStreamed, RECLAIM_EVERY_BYTES } from '../../src/buffer-reclaim.js';
import { verifyingStream } from '../../src/verifying-stream.js';
import { sha256Digest } from '../helpers/registry-api.js';

/** Runs `work` and returns how many young-generation collections V8 reported for it. */
async function minorCollectionsDuring(work: () => void | Promise<void>): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    // GC entries are delivered after the collection, on a later turn of the event loop.
    for (let i = 0; i < 5; i++) await nextTurn();
  } finally {
    observer.disconnect();
  }
  return count;
}

test('buffer reclaim: off until enabled, then a young collection every RECLAIM_EVERY_BYTES streamed', async () => {
  // Off (a library user's process): counting collects nothing, and sets no V8 flag.
  assert.equal(await minorCollectionsDuring(() => { noteStreamed(RECLAIM_EVERY_BYTES * 2); }), 0, 'no collection while off');
  assert.equal(runInNewContext('typeof gc'), 'undefined', 'no --expose-gc while off');
  enableBufferReclaim();
  assert.equal(await minorCollectionsDuring(() => { noteStreamed(RECLAIM_EVERY_BYTES - 1); }), 0, 'no collection before the threshold');
  assert.ok(await minorCollectionsDuring(() => { noteStreamed(1); }) >= 1, 'a collection once the threshold is crossed');
  assert.ok(await minorCollectionsDuring(() => { noteStreamed(RECLAIM_EVERY_BYTES); }) >= 1, 'and again after the next RECLAIM_EVERY_BYTES');
  // The collector lives in a context of its own: the program's global gets no `gc`.
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});

/** Streams `blob` through `stream` (read side drained) and returns the young collections seen meanwhile. */
async function collectionsWhileStreaming(stream: Transform, blob: Buffer): Promise<number> {
  return minorCollectionsDuring(async () => {
    const done = new Promise((resolve, reject) => { stream.on('finish', resolve).on('error', reject); });
    stream.resume();
    stream.end(blob);
    await done;
  });
}

test('buffer reclaim: the verifying and the hashing streams count their bytes', async () => {
  enableBufferReclaim();
  const blob = Buffer.alloc(RECLAIM_EVERY_BYTES + 1, 7);
  const verified = await collectionsWhileStreaming(verifyingStream({ digest: sha256Digest(blob) as `sha256:${string}`, size: blob.length }, 'test'), blob);
  assert.ok(verified >= 1, 'streaming more than RECLAIM_EVERY_BYTES through verifyingStream collects');
  const hashed = hashingStream();
  assert.ok(await collectionsWhileStreaming(hashed, blob) >= 1, 'and through hashingStream (archive layers)');
  assert.equal(hashed.result().size, blob.length);
});
