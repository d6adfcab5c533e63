// The floor of `manifest inspect --raw` on loopback: what the design's dependencies cost to do the same with none
// of our code. Loads commander (the CLI's parser) and the parts of undici the transport loads (with V8's
// --liftoff-only, as the CLI sets it), GETs the manifest the argument names from a plain-HTTP registry, writes its
// bytes to stdout and exits as the CLI does (process.exit once stdout has taken them).
//   node dist/bench/floor-inspect.js HOST/REPOSITORY:TAG
import 'commander';
import { loadUndici, splitReference } from './floor-undici.js';

const send = await loadUndici();
const { origin, repository, tag } = splitReference(process.argv[2] ?? '');
const answer = await send({
  origin,
  path: `/v2/${repository}/manifests/${tag}`,
  method: 'GET',
  headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
});
const bytes = Buffer.from(await answer.body.arrayBuffer());
if (answer.statusCode !== 200) {
  process.stderr.write(`floor-inspect: ${answer.statusCode}\n`);
  process.exit(1);
}
process.stdout.write(bytes, () => process.exit(0));
