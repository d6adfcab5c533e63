// Pushes through a proxy that breaks a fixed share of requests (resets, cut bodies, 503, 429 with Retry-After, delays), with
// a fixed seed: the retry policy must carry nearly every push through, no push may end partial, and every push
// that fails must leave its tags as they were, checked with skopeo against the registry itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mapWithLimit } from '../../src/map-with-limit.js';
import { isManifestError, parseReference, pushManifestList, RegistryClient, Transport } from '../../src/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

const PUSHES = 100;
/** Pushes run at once, as parallel CI jobs would. */
const PARALLEL = 10;
const CASES = [
  { rate: 0.1, seed: 10, atLeast: 99 },
  { rate: 0.2, seed: 20, atLeast: 95 },
];

describe('pushes through injected faults', { skip: skipReason, timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let images: SeededImage[];

  before(async () => {
    registry = await startRegistry('plain');
    images = [];
    for (const [tag, platform] of [['amd64', { os: 'linux', architecture: 'amd64' }], ['arm64', { os: 'linux', architecture: 'arm64' }], ['armv7', { os: 'linux', architecture: 'arm', variant: 'v7' }], ['s390x', { os: 'linux', architecture: 's390x' }]] as const) {
      images.push(await registry.seedImage({ repository: 'src/app', tag, platform }));
    }
  });
  after(async () => { await registry?.stop(); });

  for (const c of CASES) {
    test(`${c.rate * 100}% of requests faulty: at least ${c.atLeast} of ${PUSHES} pushes succeed, none partial, failures change no tag`, async (t) => {
      const proxy = await startFaultProxy(registry.url, { rate: c.rate, seed: c.seed });
      const outcomes = await mapWithLimit(Array.from({ length: PUSHES }, (_, i) => i), PARALLEL, async (i) => {
        // A client per push, as separate CI jobs have: their own connections, pings and tokens.
        // Each push's debug lines are kept, to show what led to a failure.
        const lines: string[] = [];
        const logger = { debug: (m: string) => { lines.push(m); }, warn: (m: string) => { lines.push(`warning: ${m}`); } };
        const client = new RegistryClient({ transport: new Transport({ plainHttpHosts: [proxy.host], logger }), logger });
        const tag = `rate${c.rate * 100}-${i}`;
        try {
          await pushManifestList({
            target: parseReference(`${proxy.host}/dst/app:${tag}`),
            tags: [`${tag}-b`],
            manifests: images.map((img) => ({ image: parseReference(`${proxy.host}/src/app:${img.tag ?? ''}`) })),
          }, { client, logger });
          return { tag, code: 'OK' };
        } catch (err) {
          const message = `${err instanceof Error ? err.message : String(err)}\n    ${lines.slice(-60).join('\n    ')}`;
          return { tag, code: isManifestError(err) ? err.code : 'INTERNAL', message };
        } finally {
          await client.close();
        }
      });
      await proxy.stop();
      const failed = outcomes.filter((o) => o.code !== 'OK');
      const partial = outcomes.filter((o) => o.code === 'PARTIAL');
      // A failed push must have set neither of its tags: asked of the registry directly, by skopeo.
      let changed = 0;
      for (const f of failed) {
        for (const tag of [f.tag, `${f.tag}-b`]) {
          const r = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/dst/app:${tag}`]);
          if (r.code === 0) changed++;
        }
      }
      const counts = proxy.counts();
      const summary = `faults ${c.rate * 100}%: ${PUSHES - failed.length}/${PUSHES} pushes succeeded, ${partial.length} partial, ${changed} tags changed by failed pushes; `
        + `${counts.requests} requests, faults injected: ${counts.reset} resets, ${counts.cut} bodies cut, ${counts.unavailable} 503, ${counts['rate-limit']} 429, ${counts.delay} delays`;
      t.diagnostic(summary);
      process.stdout.write(`# ${summary}\n`);
      for (const f of failed) t.diagnostic(`failed ${f.tag}: ${f.code} ${'message' in f ? f.message ?? '' : ''}`);
      assert.equal(partial.length, 0, 'no push ends partial');
      assert.equal(changed, 0, 'a failed push leaves its tags as they were');
      assert.ok(PUSHES - failed.length >= c.atLeast, summary);
    });
  }
});
