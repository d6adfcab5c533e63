// The floor of an 8-platform push on loopback: the push contract's requests, in its rounds, made with the design's
// dependencies alone and none of our code: no validation, no authentication, no retries, no error handling beyond
// a failed status, no progress. Reads the spec (js-yaml), then, against a plain-HTTP registry:
//   1. the target tag's HEAD with every source manifest's GET; 2. every config's GET; 3. the list PUT by digest;
//   4. the tag PUT; 5. the read-back HEADs of the tag and of the list;
// prints `Digest: sha256:… SIZE` and exits as the CLI does (process.exit once stdout has taken the line).
//   node dist/bench/floor-push.js SPEC.yaml
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import 'commander';
import { load } from 'js-yaml';
import { loadUndici, splitReference, type Answer } from './floor-undici.js';

const request = await loadUndici();

const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

async function send(origin: string, method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array): Promise<Answer> {
  const answer = await request({ origin, method, path, headers, ...(body === undefined ? {} : { body }) });
  if (answer.statusCode >= 300 && !(method === 'HEAD' && answer.statusCode === 404)) throw new Error(`${method} ${path}: ${answer.statusCode}`);
  return answer;
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const spec = load(readFileSync(process.argv[2] ?? '', 'utf8')) as { image: string; manifests: { image: string; platform: Record<string, string> }[] };
const target = splitReference(spec.image);
const [, ...sources] = await Promise.all([
  send(target.origin, 'HEAD', `/v2/${target.repository}/manifests/${target.tag}`).then((a) => a.body.dump()),
  ...spec.manifests.map(async (entry) => {
    const source = splitReference(entry.image);
    const answer = await send(source.origin, 'GET', `/v2/${source.repository}/manifests/${source.tag}`, { accept: ACCEPT });
    const bytes = new Uint8Array(await answer.body.arrayBuffer());
    const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType: string; config: { digest: string } };
    return { source, bytes, manifest, platform: entry.platform };
  }),
]);
const entries = sources as { source: ReturnType<typeof splitReference>; bytes: Uint8Array; manifest: { mediaType: string; config: { digest: string } }; platform: Record<string, string> }[];
await Promise.all(entries.map(async ({ source, manifest }) => {
  const answer = await send(source.origin, 'GET', `/v2/${source.repository}/blobs/${manifest.config.digest}`);
  JSON.parse(Buffer.from(await answer.body.arrayBuffer()).toString('utf8'));
}));
const list = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: LIST,
  manifests: entries.map(({ bytes, manifest, platform }) => ({
    mediaType: manifest.mediaType,
    size: bytes.length,
    digest: sha256(bytes),
    // The spec's manifest-tool names, as the image spec spells them.
    platform: Object.fromEntries(Object.entries(platform).map(([key, value]) => [key === 'osversion' ? 'os.version' : key === 'osfeatures' ? 'os.features' : key, value])),
  })),
}, null, 3));
const digest = sha256(list);
await send(target.origin, 'PUT', `/v2/${target.repository}/manifests/${digest}`, { 'content-type': LIST }, list).then((a) => a.body.dump());
await send(target.origin, 'PUT', `/v2/${target.repository}/manifests/${target.tag}`, { 'content-type': LIST }, list).then((a) => a.body.dump());
await Promise.all([target.tag, digest].map((ref) => send(target.origin, 'HEAD', `/v2/${target.repository}/manifests/${ref}`, { accept: LIST }).then((a) => a.body.dump())));
process.stdout.write(`Digest: ${digest} ${list.length}\n`, () => process.exit(0));
