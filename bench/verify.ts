// Every timed result is read back from the registry itself (never through the proxy) so that a tool that printed a
// digest but pushed nothing, or pushed the wrong thing, fails the benchmark instead of looking fast.
import { createHash } from 'node:crypto';
import type { TestRegistry } from '../test/helpers/registry.js';
import type { BenchPlatform } from './specs.js';

const READ_TIMEOUT_MS = 30_000;
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
];

/** Computes `sha256:<hex>` of bytes. */
export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** GETs a manifest by tag or digest from the registry directly; throws unless it answers 200. */
export async function fetchManifest(registry: TestRegistry, repository: string, reference: string): Promise<Uint8Array> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    headers: { accept: MANIFEST_TYPES.join(', ') },
    signal: AbortSignal.timeout(READ_TIMEOUT_MS),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`GET ${registry.host}/${repository}:${reference}: ${response.status}`);
  return bytes;
}

/** Tells whether the repository holds the blob (HEAD on the registry directly). */
export async function hasBlob(registry: TestRegistry, repository: string, digest: string): Promise<boolean> {
  const response = await fetch(`${registry.url}/v2/${repository}/blobs/${digest}`, { method: 'HEAD', signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  return response.status === 200;
}

/**
 * The platform as a comparable string. arm64's variant v8 is its default: manifest leaves it out (containerd's
 * normalisation), docker copies it from the image config; both mean the same platform.
 */
export function platformKey(p: { os?: unknown; architecture?: unknown; variant?: unknown; 'os.version'?: unknown }): string {
  const variant = p.architecture === 'arm64' && p.variant === 'v8' ? null : (p.variant ?? null);
  return JSON.stringify([p.os, p.architecture, variant, p['os.version'] ?? null]);
}

/** Checks list bytes against the digest a tool printed and the platforms expected; throws otherwise. */
export function checkList(what: string, bytes: Uint8Array, digest: string, expected: readonly BenchPlatform[]): void {
  const actual = sha256(bytes);
  if (actual !== digest) throw new Error(`${what} is ${actual}, the tool printed ${digest}`);
  const list = JSON.parse(Buffer.from(bytes).toString('utf8')) as { manifests?: { platform?: Record<string, unknown> }[] };
  const got = (list.manifests ?? []).map((m) => platformKey(m.platform ?? {})).sort();
  const want = expected.map(platformKey).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what} has platforms ${got.join(' ')}, expected ${want.join(' ')}`);
}

/** Reads `repository:tag` back and checks it is the list printed, with exactly the expected platforms. */
export async function verifyList(registry: TestRegistry, repository: string, tag: string, digest: string, expected: readonly BenchPlatform[]): Promise<void> {
  checkList(`${repository}:${tag}`, await fetchManifest(registry, repository, tag), digest, expected);
}

/** The same check with an independent client, skopeo (once per tool and scenario: it costs a process). */
export async function verifyListWithSkopeo(registry: TestRegistry, repository: string, tag: string, digest: string, expected: readonly BenchPlatform[]): Promise<void> {
  const result = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/${repository}:${tag}`]);
  if (result.code !== 0) throw new Error(`skopeo inspect --raw ${repository}:${tag}: ${result.stderr.trim()}`);
  checkList(`skopeo: ${repository}:${tag}`, Buffer.from(result.stdout, 'utf8'), digest, expected);
}
