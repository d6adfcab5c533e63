// NO_PROXY matching as Go and curl read it: names, suffixes, ports, addresses and CIDR ranges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isExemptFromProxy } from '../../src/registry/transport.js';

const cases: { host: string; noProxy: string; exempt: boolean }[] = [
  { host: '127.0.0.1:5000', noProxy: '127.0.0.0/8', exempt: true },
  { host: '127.0.0.1:5000', noProxy: '10.0.0.0/8', exempt: false },
  { host: '10.1.2.3', noProxy: 'a.example, 10.0.0.0/8', exempt: true },
  { host: '[::1]:5000', noProxy: '::1/128', exempt: true },
  { host: '[fd00::5]:443', noProxy: 'fd00::/8', exempt: true },
  { host: 'r.example:5000', noProxy: '127.0.0.0/8', exempt: false },
  { host: 'r.example', noProxy: 'example', exempt: true },
  { host: 'r.example', noProxy: 'ample', exempt: false },
  { host: 'r.example', noProxy: '.example', exempt: true },
  { host: 'r.example', noProxy: '*.example', exempt: true },
  { host: 'r.example:5000', noProxy: 'r.example:5000', exempt: true },
  { host: 'r.example:5000', noProxy: 'r.example:443', exempt: false },
  { host: 'R.Example', noProxy: 'r.example', exempt: true },
  { host: 'anything', noProxy: '*', exempt: true },
  { host: '127.0.0.1', noProxy: '127.0.0.0/99, 127.0.0.0/x, /8', exempt: false },
  { host: '127.0.0.1', noProxy: '', exempt: false },
];
for (const c of cases) {
  test(`${c.host} with NO_PROXY=${JSON.stringify(c.noProxy)}: ${c.exempt ? 'direct' : 'proxied'}`, () => assert.equal(isExemptFromProxy(c.host, c.noProxy), c.exempt));
}
