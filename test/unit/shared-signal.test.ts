// sharedSignal must keep a deadline alive: Node 20's AbortSignal.any holds its sources weakly, so a bare
// AbortSignal.timeout() inside it can be collected and never fire (found when `--timeout` did not stop a push).
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sharedSignal } from '../../src/shared-signal.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a deadline nobody else holds still fires through nested shared signals after a garbage collection', async () => {
  const outer = new AbortController();
  const signal = sharedSignal(sharedSignal(outer.signal, AbortSignal.timeout(100))) as AbortSignal;
  await delay(20);
  gc();
  await delay(400);
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).name, 'TimeoutError');
});

test('no signal given: undefined; an abort of any source aborts the shared one with its reason', () => {
  assert.equal(sharedSignal(undefined), undefined);
  const a = new AbortController();
  const shared = sharedSignal(undefined, a.signal) as AbortSignal;
  a.abort(new Error('stop'));
  assert.equal((shared.reason as Error).message, 'stop');
});
