import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, redact } from '../../src/log.js';
import { callInWorker } from '../helpers/worker-call.js';

describe('redact', () => {
  const cases: { input: string; secret: string }[] = [
    { input: 'authorization: Bearer eyJhbGciOiJSUzI1NiJ9.abc.def', secret: 'eyJhbGciOiJSUzI1NiJ9' },
    { input: 'Authorization: Basic dXNlcjpwYXNz', secret: 'dXNlcjpwYXNz' },
    { input: 'GET https://s3.example/blob?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA', secret: 'deadbeef' },
    { input: 'GET https://s3.example/blob?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIAXYZ', secret: 'AKIAXYZ' },
    { input: 'https://user:hunter2@r.example/v2/', secret: 'hunter2' },
    { input: 'token response {"token":"abc.def.ghi","expires_in":60}', secret: 'abc.def.ghi' },
    { input: 'POST /token refresh_token=rt-123&grant_type=refresh_token', secret: 'rt-123' },
    { input: 'PUT /v2/app/blobs/uploads/x?_state=SECRETSTATE&digest=sha256:1', secret: 'SECRETSTATE' },
  ];
  for (const c of cases) test(c.input.slice(0, 50), () => assert.ok(!redact(c.input).includes(c.secret), redact(c.input)));

  test('a user:password under a long scheme is redacted too', () => {
    assert.equal(redact(`${'x-'.repeat(40)}scheme://user:hunter2@r.example/`).includes('hunter2'), false);
  });

  // Error messages quote input (a YAML key, a platform): redaction must stay linear on any text. Run in a worker
  // with a deadline, since a test timeout cannot stop a regex that backtracks (it took 18 s on a 400 KB message).
  for (const text of ['a.'.repeat(200_000), 'a-'.repeat(200_000), `${'a+'.repeat(100_000)}://x`]) {
    test(`finishes on ${JSON.stringify(text.slice(0, 8))}… (${text.length} characters)`, async () => {
      const redacted = await callInWorker(new URL('../../src/log.js', import.meta.url), 'redact', [text], { timeoutMs: 20_000 });
      assert.equal(redacted, text);
    });
  }

  test('keeps what is not secret', () => {
    assert.equal(redact('GET https://r.example/v2/app/manifests/1?n=10'), 'GET https://r.example/v2/app/manifests/1?n=10');
  });

  test('the logger masks literal secrets in every line', () => {
    const lines: string[] = [];
    const logger = createLogger((l) => lines.push(l), { debug: true, secrets: ['p4ssw0rd'] });
    logger.debug('sending p4ssw0rd somewhere');
    logger.warn('also p4ssw0rd');
    assert.deepEqual(lines, ['debug: sending [redacted] somewhere', 'warning: also [redacted]']);
  });

  test('debug lines are dropped without debug', () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l)).debug('x');
    assert.deepEqual(lines, []);
  });
});
