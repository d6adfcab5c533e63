/** Content digests (OCI image spec, descriptor.md#digests): parse, validate and compute. */
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import { clipInput, ManifestError } from './errors.js';

/**
 * node:crypto, loaded at the first hash: parsing references and digests (what --help and usage errors reach) does
 * not need its ~5 ms of start-up.
 */
let crypto: typeof NodeCrypto | undefined;
function createHash(algorithm: string): NodeCrypto.Hash {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto;
  return crypto.createHash(algorithm);
}

/** A validated digest string such as "sha256:<64 hex>". */
export type Digest = `${'sha256' | 'sha384' | 'sha512'}:${string}`;

/**
 * Algorithms go-digest registers, with their hex lengths. A Map, not an object: the algorithm comes from input,
 * and "constructor:…" or "__proto__:…" must find nothing rather than Object's own properties.
 */
const DIGEST_PATTERNS: ReadonlyMap<string, RegExp> = new Map([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha384', /^[a-f0-9]{96}$/],
  ['sha512', /^[a-f0-9]{128}$/],
]);

/** Tells whether `value` is a digest with a supported algorithm and well-formed hex. */
export function isDigest(value: string): value is Digest {
  if (value.length > 'sha512:'.length + 128) return false;
  const colon = value.indexOf(':');
  if (colon < 0) return false;
  const pattern = DIGEST_PATTERNS.get(value.slice(0, colon));
  return pattern !== undefined && pattern.test(value.slice(colon + 1));
}

/** Parses a digest, or throws INVALID_INPUT naming what is wrong with it. */
export function parseDigest(value: string, what = 'digest'): Digest {
  if (isDigest(value)) return value;
  const algorithm = value.includes(':') ? value.slice(0, value.indexOf(':')) : '';
  const reason = algorithm === ''
    ? 'expected "sha256:" and 64 lowercase hex digits (or sha384, sha512)'
    : !DIGEST_PATTERNS.has(algorithm)
      ? `unsupported algorithm "${clipInput(algorithm, 20)}"`
      : `the ${algorithm} hex part has the wrong length or characters`;
  throw new ManifestError('INVALID_INPUT', `invalid ${what} "${clipInput(value, 80)}": ${reason}`);
}

/** Computes the sha256 digest of bytes. */
export function sha256Digest(bytes: Uint8Array): Digest {
  return digestOf(bytes);
}

/** Computes the digest of bytes with the algorithm of `like` (sha256 when omitted). */
export function digestOf(bytes: Uint8Array, like: Digest = 'sha256:'): Digest {
  const algorithm = like.startsWith('sha512:') ? 'sha512' : like.startsWith('sha384:') ? 'sha384' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
