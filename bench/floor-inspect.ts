// The floor of `manifest inspect --raw` on loopback: what the design's dependencies cost to do the same with none
// of our code. Loads commander (the CLI's parser) and the parts of undici the transport loads (with V8's
// --liftoff-only, as the CLI sets it), GETs the manifest the argument names from a plain-HTTP registry, writes its
// bytes to stdout and exits as the CLI does (process.exit once stdout has taken them).
//   node dist/bench/floor-inspect.js HOST/REPOSITORY:TAG
import { setFlagsFromString } from 'node:v8';
import 'commander';

setFlagsFromString('--liftoff-only');
const [{ default: api }, { default: Agent }] = await Promise.all([import('undici/lib/api/index.js'), import('undici/lib/dispatcher/agent.js')]);
type Request = (this: unknown, options: { origin: string; path: string; method: string; headers: Record<string, string> }) => Promise<{ statusCode: number; body: { arrayBuffer(): Promise<ArrayBuffer> } }>;

const reference = process.argv[2] ?? '';
const slash = reference.indexOf('/');
const colon = reference.lastIndexOf(':');
const answer = await (api.request as Request).call(new Agent(), {
  origin: `http://${reference.slice(0, slash)}`,
  path: `/v2/${reference.slice(slash + 1, colon)}/manifests/${reference.slice(colon + 1)}`,
  method: 'GET',
  headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
});
const bytes = Buffer.from(await answer.body.arrayBuffer());
if (answer.statusCode !== 200) {
  process.stderr.write(`floor-inspect: ${answer.statusCode}\n`);
  process.exit(1);
}
process.stdout.write(bytes, () => process.exit(0));
