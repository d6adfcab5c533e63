import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clipInput } from '../../src/errors.js';

describe('clipInput', () => {
  const cases: { input: string; max: number; expected: string }[] = [
    { input: 'r.example/app:1', max: 40, expected: 'r.example/app:1' },
    { input: 'x'.repeat(50), max: 10, expected: `${'x'.repeat(10)}…` },
    { input: 'a\nmanifest: forged\r\t', max: 40, expected: 'a\\nmanifest: forged\\r\\t' },
    { input: 'a\u0000\u001b[2J\u007f\u009b', max: 40, expected: 'a\\u0000\\u001b[2J\\u007f\\u009b' },
    // Characters that make text read as other text: zero-width, bidirectional overrides, line separators, BOM.
    { input: 'latest\u200b', max: 40, expected: 'latest\\u200b' },
    { input: 'app\u202e1:gat\u2066\u2028\ufeff', max: 40, expected: 'app\\u202e1:gat\\u2066\\u2028\\ufeff' },
    { input: 'r.ex\u0430mple', max: 40, expected: 'r.ex\u0430mple' },
  ];
  for (const c of cases) test(JSON.stringify(c.input.slice(0, 30)), () => assert.equal(clipInput(c.input, c.max), c.expected));
});
