// The floor of pushml's start-up: what the design's dependencies cost before the first request, with none of our
// code. Loads commander, js-yaml and the parts of undici the transport loads (src/registry/undici.ts), then sends
// one HTTPS request to the closed port given as the argument (TLS set up with Node's root certificates, as a push
// to a registry does) and exits 0 when it is refused.
//   node dist/bench/floor-network.js PORT
import 'commander';
import 'js-yaml';
import api from 'undici/lib/api/index.js';
import Agent from 'undici/lib/dispatcher/agent.js';

const request = api.request as (this: unknown, options: { origin: string; path: string; method: string }) => Promise<unknown>;
try {
  await request.call(new Agent(), { origin: `https://127.0.0.1:${process.argv[2] ?? '9'}`, path: '/v2/', method: 'GET' });
  process.exitCode = 1;
} catch (err) {
  process.exitCode = (err as { code?: unknown }).code === 'ECONNREFUSED' ? 0 : 1;
}
